import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeptLogReader, keptTail, readKeptPods } from './kept-logs.js';

describe('kept logs', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'skiff-kept-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads only what was appended since the last read, and never half a line', async () => {
    const file = path.join(dir, 'p.log');
    const reader = new KeptLogReader(file);
    const read = async () => {
      const out: string[] = [];
      for await (const line of reader.newLines()) out.push(line);
      return out;
    };
    expect(await read()).toEqual([]); // not there yet
    await writeFile(file, 't1 a\nt2 b\nt3 par');
    expect(await read()).toEqual(['t1 a', 't2 b']);
    await appendFile(file, 'tial\n' + 'x'.repeat(200_000) + '\n');
    expect((await read()).map((l) => l.length)).toEqual([10, 200_000]);
    expect(await read()).toEqual([]);
  });

  it('gives the last lines without their times, and the pods oldest first, skipping foreign files', async () => {
    await writeFile(path.join(dir, 'b.log'), Array.from({ length: 30 }, (_, i) => `2026-01-01T00:00:00.1Z line ${i}\n`).join(''));
    expect(await keptTail(path.join(dir, 'b.log'), 3)).toEqual(['line 27', 'line 28', 'line 29']);
    expect(await keptTail(path.join(dir, 'missing.log'), 3)).toEqual([]);
    await writeFile(path.join(dir, 'b.json'), JSON.stringify({ pod: 'b', rank: 1, startedAt: '2026-01-01T00:00:02Z' }));
    await writeFile(path.join(dir, 'a.json'), JSON.stringify({ pod: 'a', rank: 0, startedAt: '2026-01-01T00:00:01Z', ended: { exitCode: 0, at: 'x' } }));
    await writeFile(path.join(dir, 'junk.json'), 'not json');
    const pods = await readKeptPods(dir);
    expect(pods.map((p) => [p.pod, p.logFile])).toEqual([
      ['a', path.join(dir, 'a.log')],
      ['b', path.join(dir, 'b.log')],
    ]);
    expect(await new KeptLogReader(path.join(dir, 'a.log')).ended()).toBe(true);
    expect(await new KeptLogReader(path.join(dir, 'b.log')).ended()).toBe(false);
    expect(await readKeptPods(path.join(dir, 'none'))).toEqual([]);
  });
});
