import { describe, expect, it } from 'vitest';
import { childController, fromArray, mergeStreams, sleep, callbackStream } from './streams.js';
import { newlineSeparated } from './lines.js';
import { collect } from './log-merge.js';

async function* timed<T>(items: [T, number][]): AsyncGenerator<T> {
  for (const [item, delay] of items) {
    await sleep(delay);
    yield item;
  }
}

describe('mergeStreams', () => {
  it('interleaves by arrival and keeps each stream in order', async () => {
    const a = timed([
      ['a1', 5],
      ['a2', 30],
      ['a3', 5],
    ]);
    const b = timed([
      ['b1', 15],
      ['b2', 5],
    ]);
    const out = await collect(mergeStreams(fromArray([a, b])));
    expect(out).toEqual(['a1', 'b1', 'b2', 'a2', 'a3']);
  });

  it('accepts streams that arrive later and ends only when all have ended', async () => {
    async function* sources() {
      yield timed([['first', 1]]);
      await sleep(20);
      yield timed([['late', 1]]);
    }
    expect(await collect(mergeStreams(sources()))).toEqual(['first', 'late']);
  });

  it('ends at once for no streams', async () => {
    expect(await collect(mergeStreams(fromArray<AsyncIterable<number>>([])))).toEqual([]);
  });

  it('propagates the first error', async () => {
    async function* broken(): AsyncGenerator<string> {
      yield 'ok';
      throw new Error('boom');
    }
    await expect(collect(mergeStreams(fromArray([broken(), timed([['slow', 50]])])))).rejects.toThrow('boom');
  });

  it('closes open streams when the consumer stops', async () => {
    let closed = false;
    async function* endless(): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) {
          yield i;
          await sleep(1);
        }
      } finally {
        closed = true;
      }
    }
    for await (const n of mergeStreams<number>(fromArray([endless()]))) if (n >= 2) break;
    await sleep(10);
    expect(closed).toBe(true);
  });
});

describe('sleep and childController', () => {
  it('sleep resolves early on abort', async () => {
    const c = new AbortController();
    const started = Date.now();
    setTimeout(() => c.abort(), 10);
    await sleep(5_000, c.signal);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('a child aborts with its parent but not the other way round', () => {
    const parent = new AbortController();
    const child = childController(parent.signal);
    const sibling = childController(parent.signal);
    sibling.abort();
    expect(parent.signal.aborted).toBe(false);
    parent.abort();
    expect(child.signal.aborted).toBe(true);
  });
});

describe('callbackStream', () => {
  it('yields every emitted value in order, then ends when the task resolves', async () => {
    const stream = callbackStream<number>(async (emit) => {
      emit(1);
      await sleep(5);
      emit(2);
      emit(3);
    });
    const seen: number[] = [];
    for await (const n of stream) seen.push(n);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('yields what came before a rejection, then throws it', async () => {
    const seen: string[] = [];
    const run = async () => {
      for await (const s of callbackStream<string>(async (emit) => {
        emit('Pending');
        await sleep(1);
        throw new Error('job deleted');
      }))
        seen.push(s);
    };
    await expect(run()).rejects.toThrow('job deleted');
    expect(seen).toEqual(['Pending']);
  });
});

describe('newlineSeparated', () => {
  it('splits on \\n only, across chunks and multi-byte characters, keeping lone \\r inside the line', async () => {
    const bytes = Buffer.from('a\r\nb 0%\r100% █\nc');
    const chunks = [bytes.subarray(0, 4), bytes.subarray(4, 15), bytes.subarray(15)];
    expect(await collect(newlineSeparated(fromArray(chunks)))).toEqual(['a', 'b 0%\r100% █', 'c']);
  });
});
