// The agent protocol against the real agent (python3 -m skiff.agent) started on this machine.
import { spawn, type ChildProcess } from 'node:child_process';
import type http from 'node:http';
import { PassThrough } from 'node:stream';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonLibDir } from '../manifests/collect.js';
import type { AgentEvent, CellEvent } from '../types.js';
import { AgentLostError, agentHealth, executeOnAgent, httpAgentLink, interruptAgent, type AgentLink } from './agent-client.js';
import { mergeRanks, type SessionRank } from './sessions.js';
import path from 'node:path';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface LocalAgent {
  link: AgentLink;
  proc: ChildProcess;
}

async function startAgent(rank = 0): Promise<LocalAgent> {
  const port = await freePort();
  const proc = spawn('python3', ['-u', '-m', 'skiff.agent', '--port', String(port)], {
    env: { ...process.env, PYTHONPATH: path.dirname(pythonLibDir()), PYTHONDONTWRITEBYTECODE: '1', RANK: String(rank), WORLD_SIZE: '1' },
    stdio: 'ignore',
  });
  const link = httpAgentLink(`http://127.0.0.1:${port}`);
  for (let i = 0; i < 200; i++) {
    if (
      await agentHealth(link, { timeoutMs: 500 }).then(
        () => true,
        () => false,
      )
    )
      return { link, proc };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('agent did not start');
}

async function collect(stream: AsyncIterable<AgentEvent>): Promise<AgentEvent[]> {
  const events: AgentEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

describe('the session agent protocol', () => {
  let a: LocalAgent;
  let b: LocalAgent;
  beforeAll(async () => {
    [a, b] = await Promise.all([startAgent(0), startAgent(1)]);
  });
  afterAll(() => {
    a?.proc.kill();
    b?.proc.kill();
  });

  it('streams a cell as typed events that end with done, and keeps state for the next cell', async () => {
    const first = await collect(executeOnAgent(a.link, 'import time\nx = 20\nprint("start", flush=True)\ntime.sleep(0.3)\nprint("end")'));
    expect(
      first
        .filter((e) => e.type === 'stream')
        .map((e) => (e as { text: string }).text)
        .join(''),
    ).toBe('start\nend\n');
    expect(first.at(-1)).toEqual({ type: 'done', status: 'ok', count: 1 });
    const second = await collect(executeOnAgent(a.link, 'x * 2 + 2'));
    expect(second[0]).toEqual({ type: 'result', data: { 'text/plain': '42' }, count: 2 });
  });

  it('delivers the first line before the cell ends', async () => {
    const started = Date.now();
    let firstAt = 0;
    for await (const e of executeOnAgent(a.link, 'import time\nprint("now", flush=True)\ntime.sleep(1)')) {
      if (e.type === 'stream' && !firstAt) firstAt = Date.now();
    }
    expect(firstAt - started).toBeLessThan(700);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('interrupts an endless cell, refuses a second cell meanwhile, and runs the next one', async () => {
    const events: AgentEvent[] = [];
    for await (const e of executeOnAgent(a.link, 'print("spinning", flush=True)\nwhile True:\n    pass')) {
      events.push(e);
      if (e.type === 'stream') {
        await expect(collect(executeOnAgent(a.link, '1'))).rejects.toThrow(/still running cell/);
        expect(await interruptAgent(a.link)).toBe(true);
      }
    }
    expect(events.at(-1)).toMatchObject({ type: 'done', status: 'interrupted' });
    expect(events.find((e) => e.type === 'error')).toMatchObject({ ename: 'KeyboardInterrupt' });
    expect(await interruptAgent(a.link)).toBe(false);
    expect((await collect(executeOnAgent(a.link, '"next"')))[0]).toMatchObject({ type: 'result', data: { 'text/plain': "'next'" } });
  });

  it('reports an exception with its traceback as an error event', async () => {
    const events = await collect(executeOnAgent(a.link, 'raise ValueError("bad batch")'));
    expect(events[0]).toMatchObject({ type: 'error', ename: 'ValueError', evalue: 'bad batch' });
    expect((events[0] as { traceback: string }).traceback).toContain('raise ValueError("bad batch")');
    expect(events.at(-1)).toMatchObject({ status: 'error' });
  });

  it('merges every rank into one stream, and a rank that dies mid-cell ends its part with a lost event', async () => {
    const ranks: SessionRank[] = [
      { rank: 0, pod: 'a', link: a.link },
      { rank: 1, pod: 'b', link: b.link },
    ];
    const code = 'import os, time\nprint("rank", os.environ["RANK"], flush=True)\ntime.sleep(0.2)\nif os.environ["RANK"] == "1":\n    os._exit(9)';
    const events: CellEvent[] = [];
    const run = (r: SessionRank) =>
      (async function* () {
        try {
          for await (const e of executeOnAgent(r.link, code)) yield { ...e, rank: r.rank } as CellEvent;
        } catch (err) {
          expect(err).toBeInstanceOf(AgentLostError);
          yield { type: 'lost', rank: r.rank, message: (err as Error).message } as CellEvent;
        }
      })();
    for await (const e of mergeRanks(ranks, run)) events.push(e);
    const textOf = (rank: number) =>
      events
        .filter((e) => e.type === 'stream' && e.rank === rank)
        .map((e) => (e as { text: string }).text)
        .join('');
    expect([textOf(0), textOf(1)]).toEqual(['rank 0\n', 'rank 1\n']);
    expect(events.find((e) => e.rank === 0 && e.type === 'done')).toMatchObject({ status: 'ok' });
    expect(events.find((e) => e.rank === 1 && e.type === 'lost')).toMatchObject({ message: /stopped before the cell finished|stream broke/ });
  });

  it('resumes a stream cut on its way from the last event read: nothing lost, doubled or run twice', async () => {
    // The link cuts the first execute response after its first line plus half of the next, as a
    // proxy dropping its connection would; the retry must replay from there, not run the cell again.
    let cuts = 1;
    const bodies: string[] = [];
    const cutting: AgentLink = {
      open: async (req) => {
        if (req.path === '/execute') bodies.push(req.body ?? '');
        const res = await a.link.open(req);
        if (req.path !== '/execute' || cuts-- <= 0) return res;
        const cut = new PassThrough();
        let seen = '';
        res.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          if (!seen.includes('\n') || cut.writableEnded) return;
          cut.end(seen.slice(0, seen.indexOf('\n') + 1) + '{"type": "str');
          res.destroy();
        });
        return Object.assign(cut, { statusCode: res.statusCode }) as unknown as http.IncomingMessage;
      },
    };
    const code = 'import time\nruns = globals().get("runs", 0) + 1\nfor i in range(3):\n    print("line", i, flush=True)\n    time.sleep(0.1)\nruns';
    const events = await collect(executeOnAgent(cutting, code));
    expect(
      events
        .filter((e) => e.type === 'stream')
        .map((e) => (e as { text: string }).text)
        .join(''),
    ).toBe('line 0\nline 1\nline 2\n');
    expect(events.find((e) => e.type === 'result')).toMatchObject({ data: { 'text/plain': '1' } });
    expect(events.at(-1)).toMatchObject({ type: 'done', status: 'ok' });
    const [first, retry] = bodies.map((b) => JSON.parse(b) as { id: string; from: number });
    expect(retry.id).toBe(first.id);
    expect([first.from, retry.from]).toEqual([0, 1]);
    expect((await collect(executeOnAgent(a.link, 'runs')))[0]).toMatchObject({ data: { 'text/plain': '1' } });
  });

  it('a link to nowhere is a lost agent, not a hang', async () => {
    const nowhere = httpAgentLink(`http://127.0.0.1:${await freePort()}`);
    await expect(collect(executeOnAgent(nowhere, '1'))).rejects.toBeInstanceOf(AgentLostError);
  });
});
