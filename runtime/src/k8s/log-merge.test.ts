import { describe, expect, it } from 'vitest';
import type { LogLine } from '../types.js';
import { collect, jobLogLines, LogCursor, mergeByTime, podLogLines, pollBackoff, type JobPodSource, type PodLogSource, type PodRef, type PodRunState } from './log-merge.js';

const T = (s: number, frac = '') => `2026-01-01T00:00:${String(s).padStart(2, '0')}${frac}Z`;
const raw = (time: string, text: string) => `${time} ${text}`;
const texts = (lines: LogLine[]) => lines.map((l) => l.text);
const fast = { pollMs: 1, reconnectMs: 1 };

/** Truncates like the kubelet does: sinceTime reaches it with whole seconds only. */
function fromSecond(lines: string[], sinceTime?: string): string[] {
  if (!sinceTime) return lines;
  const since = sinceTime.slice(0, 19);
  return lines.filter((l) => l.slice(0, 19) >= since);
}

/** A pod whose states and streams play out from scripts; every lines() call is recorded. */
class ScriptedPod implements PodLogSource {
  calls: { follow: boolean; sinceTime?: string }[] = [];
  constructor(
    private states: PodRunState[],
    private streams: ((sinceTime?: string) => string[] | Error)[],
  ) {}
  async state(): Promise<PodRunState> {
    return this.states.length > 1 ? this.states.shift()! : this.states[0];
  }
  async *lines(_pod: PodRef, opts: { follow: boolean; sinceTime?: string; signal: AbortSignal }): AsyncGenerator<string> {
    this.calls.push({ follow: opts.follow, sinceTime: opts.sinceTime });
    const next = this.streams.length > 1 ? this.streams.shift()! : this.streams[0];
    const result = next(opts.sinceTime);
    if (result instanceof Error) throw result;
    yield* result;
  }
}

const pod = (name: string, rank: number): PodRef => ({ name, uid: `uid-${name}`, rank, container: 'worker' });

describe('LogCursor', () => {
  it('drops lines up to the last timestamp on resume and keeps later ones', () => {
    const c = new LogCursor();
    c.startStream();
    expect(c.accept(raw(T(1, '.5'), 'a'))).toEqual({ time: T(1, '.5'), text: 'a' });
    expect(c.accept(raw(T(2), 'b'))?.text).toBe('b');
    expect(c.since).toBe(T(2));
    c.startStream();
    expect(c.accept(raw(T(1, '.5'), 'a'))).toBeUndefined();
    expect(c.accept(raw(T(2), 'b'))).toBeUndefined();
    expect(c.accept(raw(T(2, '.000000001'), 'c'))?.text).toBe('c');
  });

  it('keeps distinct lines that share one timestamp across a reconnect', () => {
    const c = new LogCursor();
    c.startStream();
    expect(c.accept(raw(T(3), 'x1'))?.text).toBe('x1');
    c.startStream();
    expect(c.accept(raw(T(3), 'x1'))).toBeUndefined();
    expect(c.accept(raw(T(3), 'x2'))?.text).toBe('x2');
    c.startStream();
    expect(c.accept(raw(T(3), 'x1'))).toBeUndefined();
    expect(c.accept(raw(T(3), 'x2'))).toBeUndefined();
    expect(c.accept(raw(T(3), 'x3'))?.text).toBe('x3');
  });

  it('starts at sinceTime, inclusive', () => {
    const c = new LogCursor(T(5));
    c.startStream();
    expect(c.accept(raw(T(4), 'old'))).toBeUndefined();
    expect(c.accept(raw(T(5), 'at'))?.text).toBe('at');
  });

  it('compares timestamps exactly, not as strings', () => {
    const c = new LogCursor(T(1, '.1'));
    c.startStream();
    // "…:01Z" sorts after "…:01.1Z" as a string but is earlier.
    expect(c.accept(raw(T(1), 'earlier'))).toBeUndefined();
    expect(c.accept(raw(T(1, '.2'), 'later'))?.text).toBe('later');
  });

  it('keeps a line stamped earlier than the one before it (stdout and stderr are stamped apart), and does not double it on resume', () => {
    const c = new LogCursor();
    c.startStream();
    const stream = [raw(T(1, '.5'), 'out 1'), raw(T(2, '.3'), 'out 2'), raw(T(2, '.1'), 'err 1'), raw(T(1, '.9'), 'err 0'), raw(T(3, '.2'), 'out 3')];
    expect(stream.slice(0, 4).map((l) => c.accept(l)?.text)).toEqual(['out 1', 'out 2', 'err 1', 'err 0']);
    expect(c.since).toBe(T(2, '.3'));
    // Reopened from the latest time's whole second, as the kubelet resends: only the new line is new.
    c.startStream();
    expect(fromSecond(stream, c.since).map((l) => c.accept(l)?.text)).toEqual([undefined, undefined, 'out 3']);
  });

  it('remembers only the lines a reopened stream can resend', () => {
    const c = new LogCursor();
    c.startStream();
    for (let s = 0; s < 50; s++) c.accept(raw(T(s, '.5'), `line ${s}`));
    c.startStream();
    expect(c.accept(raw(T(49, '.5'), 'line 49'))).toBeUndefined();
    expect(c.accept(raw(T(48, '.5'), 'line 48'))).toBeUndefined(); // before the resend window: not asked for
    expect((c as unknown as { delivered: Map<string, number> }).delivered.size).toBe(1);
  });

  it('remembers nothing of a stream that resumes exactly (a kept log), yet still starts at sinceTime', () => {
    const c = new LogCursor(T(1));
    c.startStream({ exact: true });
    expect(c.accept(raw(T(0, '.5'), 'before since'))).toBeUndefined();
    for (let i = 0; i < 1000; i++) expect(c.accept(raw(T(2), `same second ${i}`))?.text).toBe(`same second ${i}`);
    expect((c as unknown as { delivered: Map<string, number> }).delivered.size).toBe(0);
    // Reopened: it goes on from its offset, so a line equal to one before is a new line, not a resend,
    // and one stamped before the latest second (another writer's clock) is kept too.
    c.startStream({ exact: true });
    expect(c.accept(raw(T(2), 'same second 0'))?.text).toBe('same second 0');
    expect(c.accept(raw(T(1, '.5'), 'stamped earlier'))?.text).toBe('stamped earlier');
    expect(c.since).toBe(T(2));
  });

  it('passes lines without a timestamp through', () => {
    expect(new LogCursor(T(9)).accept('no timestamp')).toEqual({ time: '', text: 'no timestamp' });
  });
});

describe('podLogLines', () => {
  const full = [raw(T(1, '.1'), 'l1'), raw(T(1, '.2'), 'l2'), raw(T(1, '.3'), 'l3'), raw(T(2), 'l4'), raw(T(3), 'l5')];

  it('reconnects a stream that ends while the pod runs, without losing or doubling a line', async () => {
    const source = new ScriptedPod(['running', 'running', 'terminated'], [() => full.slice(0, 2), (since) => fromSecond(full, since), (since) => fromSecond(full, since)]);
    const lines = await collect(podLogLines(source, pod('p0', 0), { follow: true, ...fast }));
    expect(texts(lines)).toEqual(['l1', 'l2', 'l3', 'l4', 'l5']);
    expect(lines.every((l) => l.rank === 0 && l.pod === 'p0')).toBe(true);
    expect(source.calls).toEqual([
      { follow: true, sinceTime: undefined },
      { follow: true, sinceTime: T(1, '.2') },
      // the final plain read after the pod terminated
      { follow: false, sinceTime: T(3) },
    ]);
  });

  it('keeps a progress bar (tqdm frames joined by \\r) as one line, its last frame, delivered once across the final re-read', async () => {
    const bar = [raw(T(1), 'start'), raw(T(2), '  0%|          | 0/3\r 67%|██████▋   | 2/3\r100%|██████████| 3/3'), raw(T(3), 'done')];
    const source = new ScriptedPod(['running', 'terminated'], [() => bar.slice(0, 2), (since) => fromSecond(bar, since)]);
    const lines = await collect(podLogLines(source, pod('p0', 0), { follow: true, ...fast }));
    expect(texts(lines)).toEqual(['start', '100%|██████████| 3/3', 'done']);
  });

  it('waits for a pending pod, then reads it once it has terminated', async () => {
    const source = new ScriptedPod(['waiting', 'waiting', 'terminated'], [() => full]);
    expect(texts(await collect(podLogLines(source, pod('p', 1), { follow: true, ...fast })))).toEqual(['l1', 'l2', 'l3', 'l4', 'l5']);
    expect(source.calls).toHaveLength(1);
  });

  it('without follow reads a started pod once and skips one that has not started', async () => {
    const started = new ScriptedPod(['running'], [() => full.slice(0, 1)]);
    expect(texts(await collect(podLogLines(started, pod('p', 0), { follow: false, ...fast })))).toEqual(['l1']);
    expect(started.calls).toEqual([{ follow: false, sinceTime: undefined }]);
    const pending = new ScriptedPod(['waiting'], [() => full]);
    expect(await collect(podLogLines(pending, pod('p', 0), { follow: false, ...fast }))).toEqual([]);
  });

  it('retries a refused stream and ends for a deleted pod', async () => {
    const source = new ScriptedPod(['running', 'running', 'gone'], [() => new Error('container is waiting to start'), () => full.slice(0, 1)]);
    expect(texts(await collect(podLogLines(source, pod('p', 0), { follow: true, ...fast })))).toEqual(['l1']);
  });

  it("reads a restarted container's last lines (its traceback) from the previous container, then follows the new one", async () => {
    // A server crashes after 'boot', its last lines written as the follow stream was cut; the
    // kubelet restarts it in the same pod, and the new container logs 'boot again'.
    const first = [raw(T(1), 'boot'), raw(T(2), 'Traceback (most recent call last):'), raw(T(2, '.1'), 'OSError: weights.pt not found')];
    const second = [raw(T(5), 'boot again')];
    const reads: { previous?: boolean; sinceTime?: string }[] = [];
    let restarts = 0;
    const states: PodRunState[] = ['running', 'running', 'terminated'];
    const source: PodLogSource = {
      state: async () => (states.length > 1 ? states.shift()! : states[0]),
      restarts: () => restarts,
      async *lines(_pod, opts) {
        reads.push({ previous: opts.previous, sinceTime: opts.sinceTime });
        if (reads.length === 1) {
          yield first[0]; // the follow stream is cut when the container dies
          restarts = 1;
          return;
        }
        yield* fromSecond(opts.previous ? first : second, opts.sinceTime);
      },
    };
    const lines = await collect(podLogLines(source, pod('p', 0), { follow: true, ...fast }));
    expect(texts(lines)).toEqual(['boot', 'Traceback (most recent call last):', 'OSError: weights.pt not found', 'boot again']);
    expect(reads[1]).toEqual({ previous: true, sinceTime: T(1) });
  });

  it('gives up on a terminated pod whose logs cannot be read', async () => {
    const source = new ScriptedPod(['terminated'], [() => new Error('gone')]);
    expect(await collect(podLogLines(source, pod('p', 0), { follow: true, ...fast }))).toEqual([]);
    expect(source.calls).toHaveLength(3);
  });

  it('stops quietly when aborted', async () => {
    const controller = new AbortController();
    const source = new ScriptedPod(['waiting'], [() => []]);
    setTimeout(() => controller.abort(), 20);
    expect(await collect(podLogLines(source, pod('p', 0), { follow: true, signal: controller.signal, pollMs: 5 }))).toEqual([]);
  });
});

describe('jobLogLines', () => {
  class Pods implements JobPodSource {
    constructor(private listings: { pods: PodRef[]; finished: boolean }[]) {}
    async list() {
      return this.listings.length > 1 ? this.listings.shift()! : this.listings[0];
    }
  }
  class PerPod implements PodLogSource {
    constructor(private byPod: Record<string, ScriptedPod>) {}
    state(p: PodRef) {
      return this.byPod[p.name].state();
    }
    lines(p: PodRef, opts: { follow: boolean; sinceTime?: string; signal: AbortSignal }) {
      return this.byPod[p.name].lines(p, opts);
    }
  }

  it('without follow merges the ranks by timestamp', async () => {
    const logs = new PerPod({
      a: new ScriptedPod(['terminated'], [() => [raw(T(1), 'a1'), raw(T(3), 'a2')]]),
      b: new ScriptedPod(['terminated'], [() => [raw(T(2), 'b1'), raw(T(4), 'b2')]]),
    });
    const lines = await collect(jobLogLines(new Pods([{ pods: [pod('a', 0), pod('b', 1)], finished: true }]), logs, { follow: false, ...fast }));
    expect(lines.map((l) => `${l.rank}:${l.text}`)).toEqual(['0:a1', '1:b1', '0:a2', '1:b2']);
  });

  it('following picks up pods as they appear and ends when the job is finished and drained', async () => {
    const logs = new PerPod({
      a: new ScriptedPod(['running', 'terminated'], [() => [raw(T(1), 'a1')], (since) => fromSecond([raw(T(1), 'a1'), raw(T(5), 'a2')], since)]),
      b: new ScriptedPod(['waiting', 'terminated'], [() => [raw(T(2), 'b1')]]),
    });
    const pods = new Pods([
      { pods: [pod('a', 0)], finished: false },
      { pods: [pod('a', 0), pod('b', 1)], finished: false },
      { pods: [pod('a', 0), pod('b', 1)], finished: true },
    ]);
    const lines = await collect(jobLogLines(pods, logs, { follow: true, ...fast }));
    const byRank = (r: number) => lines.filter((l) => l.rank === r).map((l) => l.text);
    expect(byRank(0)).toEqual(['a1', 'a2']);
    expect(byRank(1)).toEqual(['b1']);
  });

  it('reports a job that does not exist', async () => {
    const missing: JobPodSource = { list: () => Promise.reject(new Error('no job named x')) };
    await expect(collect(jobLogLines(missing, new PerPod({}), { follow: true }))).rejects.toThrow('no job named x');
  });
});

describe('mergeByTime', () => {
  const line = (rank: number, time: string, text: string): LogLine => ({ pod: `p${rank}`, rank, time, text });

  it('keeps each rank in order even when its clock runs backwards', () => {
    const merged = mergeByTime([[line(0, T(5), 'a'), line(0, T(1), 'b')], [line(1, T(3), 'c')]]);
    expect(merged.map((l) => l.text)).toEqual(['c', 'a', 'b']);
  });

  it('breaks ties by rank', () => {
    expect(mergeByTime([[line(1, T(1), 'one')], [line(0, T(1), 'zero')]]).map((l) => l.text)).toEqual(['zero', 'one']);
  });
});

describe('pollBackoff', () => {
  it('starts short and grows by half up to the maximum', () => {
    const next = pollBackoff(1000);
    expect(Array.from({ length: 8 }, next)).toEqual([150, 225, 338, 507, 761, 1000, 1000, 1000]);
    const capped = pollBackoff(20);
    expect([capped(), capped()]).toEqual([20, 20]);
  });
});
