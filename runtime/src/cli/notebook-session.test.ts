import { describe, expect, it } from 'vitest';
import type { CellEvent } from '../types.js';
import { printCell } from './notebook-session.js';

async function* events(list: CellEvent[]): AsyncGenerator<CellEvent> {
  yield* list;
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
}

describe('printCell', () => {
  it('prints rank 0 plainly, tags the others, shows the result, and ends with the outcome', async () => {
    const c = capture();
    const code = await printCell(
      events([
        { type: 'stream', name: 'stdout', text: 'rank 0 up\n', rank: 0 },
        { type: 'stream', name: 'stdout', text: 'rank 1 up\n', rank: 1 },
        { type: 'result', data: { 'text/plain': '42' }, count: 3, rank: 0 },
        { type: 'result', data: { 'text/plain': '42' }, count: 3, rank: 1 },
        { type: 'done', status: 'ok', count: 3, rank: 0 },
        { type: 'done', status: 'ok', count: 3, rank: 1 },
      ]),
      2,
      c.io,
    );
    expect(code).toBe(0);
    expect(c.out.join('')).toBe('rank 0 up\n[rank 1] rank 1 up\n42\n');
    expect(c.err.join('')).toBe('skiff: cell 3 ok on 2 ranks\n');
  });

  it("shows a failing rank's traceback tagged, exits 1; an interrupted cell exits 130", async () => {
    const failed = capture();
    expect(
      await printCell(
        events([
          { type: 'done', status: 'ok', count: 4, rank: 0 },
          { type: 'error', ename: 'ValueError', evalue: 'bad', traceback: 'Traceback (most recent call last):\nValueError: bad\n', rank: 1 },
          { type: 'done', status: 'error', count: 4, rank: 1 },
        ]),
        2,
        failed.io,
      ),
    ).toBe(1);
    expect(failed.err.join('')).toBe('[rank 1] Traceback (most recent call last):\n[rank 1] ValueError: bad\nskiff: cell 4 failed on rank 1 of 2\n');

    const stopped = capture();
    expect(await printCell(events([{ type: 'done', status: 'interrupted', count: 5, rank: 0 }]), 1, stopped.io)).toBe(130);
  });
});
