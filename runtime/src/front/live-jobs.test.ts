import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../types.js';
import { LiveJobs, type WatchJobs } from './live-jobs.js';

const job = (name: string) => ({ name, phase: 'Running' }) as JobStatus;

/** A watch that plays one script per try: lists to yield, then an error or a quiet end. */
function scripted(tries: { lists: JobStatus[][]; fail?: string }[]): { watch: WatchJobs; started: () => number } {
  let n = 0;
  const watch: WatchJobs = async function* (signal) {
    const script = tries[Math.min(n++, tries.length - 1)];
    for (const list of script.lists) yield list;
    if (script.fail) throw new Error(script.fail);
    // The last try stays open until its signal aborts, as a live watch does.
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  };
  return { watch, started: () => n };
}

describe('LiveJobs', () => {
  it('passes every list on, says why a watch failed, and tries again after the pause', async () => {
    const { watch, started } = scripted([{ lists: [[job('a')]], fail: 'cluster gone' }, { lists: [[job('a'), job('b')]] }]);
    const seen: string[] = [];
    let retries = 0;
    const live = new LiveJobs(
      watch,
      {
        onJobs: (jobs) => seen.push(jobs.map((j) => j.name).join(',')),
        onProblem: (err) => seen.push(`problem: ${(err as Error).message}`),
        beforeRetry: async () => void retries++,
      },
      20,
    );
    const stop = new AbortController();
    void live.run(stop.signal);
    await expect.poll(() => seen).toEqual(['a', 'problem: cluster gone', 'a,b']);
    expect([started(), retries]).toEqual([2, 1]);
    stop.abort();
  });

  it('cuts the pause short when woken, and ends when its signal aborts', async () => {
    const { watch, started } = scripted([{ lists: [], fail: 'no cluster yet' }, { lists: [[job('a')]] }]);
    const seen: string[] = [];
    const live = new LiveJobs(watch, { onJobs: (jobs) => seen.push(jobs[0].name), onProblem: (err) => seen.push((err as Error).message) }, 60_000);
    const stop = new AbortController();
    const ran = live.run(stop.signal);
    await expect.poll(() => seen).toEqual(['no cluster yet']);
    live.wake();
    await expect.poll(() => seen).toEqual(['no cluster yet', 'a']);
    expect(started()).toBe(2);
    stop.abort();
    await ran;
  });
});
