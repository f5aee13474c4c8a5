import { describe, expect, it } from 'vitest';
import type { JobPhase, JobStatus, LogLine, MetricsSample, RunEvent } from '../types.js';
import { parseServingSpec, parseTrainingSpec } from '../spec/job-spec.js';
import type { SkiffSession } from '../session.js';
import type { WaitOptions } from '../jobs/jobs.js';
import { sleep } from '../k8s/streams.js';
import { Writable } from 'node:stream';
import { EXIT_INTERRUPTED, runAndFollow, serveAndWait, streamOutput, type Output } from './follow.js';

const status = (phase: JobPhase, reason?: string): JobStatus => ({
  name: 'train-x',
  namespace: 'skiff',
  kind: 'training',
  phase,
  workers: 2,
  script: 'train.py',
  pods: [],
  ...(reason ? { reason } : {}),
});

/** A session whose job walks through the given statuses while printing the given lines. */
function fakeSession(statuses: JobStatus[], lines: LogLine[], opts: { hang?: boolean } = {}): SkiffSession {
  return {
    clusterName: 'skiff',
    where: "cluster 'skiff'",
    submit: async () => status('Pending'),
    async waitForJob(_name: string, phases: JobPhase[], wait: WaitOptions) {
      for (const s of statuses) {
        wait.onStatus?.(s);
        if (phases.includes(s.phase)) return s;
        await sleep(5);
      }
      while (!wait.signal?.aborted) await sleep(5, wait.signal);
      throw new Error('aborted');
    },
    async *logs(_name: string, o: { signal?: AbortSignal }) {
      yield* lines;
      if (opts.hang) while (!o.signal?.aborted) await sleep(5, o.signal);
    },
    async *metrics() {
      yield { type: 'training', metric: { rank: 1, time: 't2', values: { step: 1, loss: 0.5 } } } satisfies MetricsSample;
    },
  } as unknown as SkiffSession;
}

function output(): Output & { stdout: string; stderr: string } {
  const o = { stdout: '', stderr: '', out: (t: string) => void (o.stdout += t), err: (t: string) => void (o.stderr += t) };
  return o;
}

const spec = parseTrainingSpec({ name: 'train-x', script: 'train.py', workers: 2 });
const lines: LogLine[] = [
  { pod: 'p0', rank: 0, time: 't1', text: 'epoch 1' },
  { pod: 'p1', rank: 1, time: 't2', text: 'SKIFF_METRIC {"step":1,"loss":0.5}' },
];

describe('runAndFollow', () => {
  it('streams rank-tagged logs, prints status changes and ends 0 on success', async () => {
    const io = output();
    const code = await runAndFollow(
      fakeSession([status('Pending', 'rank 1: needs 2 CPU per worker'), status('Running'), status('Succeeded')], lines),
      spec,
      { codeRoot: '.' },
      io,
      {},
    );
    expect(code).toBe(0);
    expect(io.stdout).toBe('[rank 0] epoch 1\n[rank 1] metrics step=1 loss=0.5\n');
    expect(io.stderr).toContain('submitted training job train-x (2 workers)');
    expect(io.stderr).toContain('job train-x: Pending — rank 1: needs 2 CPU per worker');
    expect(io.stderr).toMatch(/job train-x Succeeded after \d+s/);
  });

  it('ends 1 with the reason when the job fails, and stops waiting for logs that never end', async () => {
    const io = output();
    const session = fakeSession([status('Running'), status('Failed', 'rank 0: script exited 1')], lines, { hang: true });
    const started = Date.now();
    const code = await runAndFollow(session, spec, { codeRoot: '.' }, io, { drainMs: 50 });
    expect(code).toBe(1);
    expect(io.stderr).toMatch(/job train-x Failed after \d+s: rank 0: script exited 1/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('with -o json prints one event per line: submitted, status, log, metrics, end (the human lines stay on stderr)', async () => {
    const io = output();
    const session = fakeSession([status('Pending', 'rank 1: needs 2 CPU per worker'), status('Running'), status('Succeeded')], lines);
    expect(await runAndFollow(session, spec, { codeRoot: '.' }, io, { json: true })).toBe(0);
    const events = io.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent);
    expect(events[0]).toMatchObject({ event: 'submitted', job: { name: 'train-x', phase: 'Pending' } });
    expect(events.filter((e) => e.event === 'status').map((e) => e.event === 'status' && e.job.phase)).toEqual(['Pending', 'Running']);
    expect(events.filter((e) => e.event === 'log')).toEqual([
      { event: 'log', line: lines[0], text: '[rank 0] epoch 1' },
      { event: 'log', line: lines[1], text: '[rank 1] metrics step=1 loss=0.5' },
    ]);
    expect(events).toContainEqual({ event: 'metrics', sample: { type: 'training', metric: { rank: 1, time: 't2', values: { step: 1, loss: 0.5 } } } });
    expect(events.at(-1)).toMatchObject({ event: 'end', job: { phase: 'Succeeded' } });
    expect(io.stderr).toContain('submitted training job train-x (2 workers)');
    expect(io.stderr).toMatch(/job train-x Succeeded after \d+s/);
  });

  it('with -o json ends with the failed job and its reason, exit 1', async () => {
    const io = output();
    const session = fakeSession([status('Running'), status('Failed', 'rank 0: script exited 1')], [], { hang: true });
    expect(await runAndFollow(session, spec, { codeRoot: '.' }, io, { json: true, drainMs: 50 })).toBe(1);
    const last = JSON.parse(io.stdout.trimEnd().split('\n').at(-1)!) as RunEvent;
    expect(last).toMatchObject({ event: 'end', job: { phase: 'Failed', reason: 'rank 0: script exited 1' } });
  });

  it('with --detach prints the job name and returns', async () => {
    const io = output();
    expect(await runAndFollow(fakeSession([], []), spec, { codeRoot: '.' }, io, { detach: true })).toBe(0);
    expect(io.stdout).toBe('train-x\n');
  });

  it('leaves the job running when interrupted', async () => {
    const io = output();
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 30);
    expect(await runAndFollow(fakeSession([status('Running')], lines, { hang: true }), spec, { codeRoot: '.' }, io, { signal: stop.signal })).toBe(EXIT_INTERRUPTED);
    expect(io.stderr).toContain('keeps running');
  });
});

describe('serveAndWait', () => {
  it('waits for Running and says how to call the job', async () => {
    const io = output();
    const serving = parseServingSpec({ name: 'train-x', script: 's.py' });
    expect(await serveAndWait(fakeSession([status('Pending'), status('Running')], []), serving, { codeRoot: '.' }, io, {})).toBe(0);
    expect(io.stderr).toContain('skiff call train-x /');
  });

  it('with -o json ends with the ready job', async () => {
    const io = output();
    const serving = parseServingSpec({ name: 'train-x', script: 's.py' });
    expect(await serveAndWait(fakeSession([status('Pending'), status('Running')], []), serving, { codeRoot: '.' }, io, { json: true })).toBe(0);
    const events = io.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent);
    expect(events.map((e) => e.event)).toEqual(['submitted', 'status', 'end']);
    expect(events.at(-1)).toMatchObject({ event: 'end', job: { phase: 'Running' } });
  });
});

describe('streamOutput', () => {
  it('holds a writer back while stdout is full, so lines wait in the job and not in memory', async () => {
    const taken: string[] = [];
    let release: (() => void) | undefined;
    // A reader that takes one chunk, then stalls until released (a pipe to a paused `less`).
    const slow = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _enc, done) {
        taken.push(chunk.toString());
        release = done;
      },
    });
    const io = streamOutput(slow, new Writable({ write: (_c, _e, done) => done() }));
    expect(io.out('short\n')).toBeUndefined();
    const wait = io.out('a line longer than the buffer\n');
    expect(wait).toBeInstanceOf(Promise);
    let drained = false;
    void wait!.then(() => (drained = true));
    await sleep(20);
    expect(drained).toBe(false);
    release!();
    await sleep(0);
    release!();
    await wait;
    expect(taken.join('')).toBe('short\na line longer than the buffer\n');
  });
});
