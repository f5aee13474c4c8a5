import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../types.js';
import { sleep } from '../k8s/streams.js';
import { PromotedJobs, type TargetMemory } from './promoted-jobs.js';
import type { PromotedTarget } from '../types.js';

const job = (name: string, namespace: string): JobStatus => ({ name, namespace, kind: 'training', phase: 'Running', workers: 1, script: 'x.py', pods: [] });

function memory(initial: PromotedTarget[] = []): TargetMemory & { saved: PromotedTarget[] } {
  return {
    saved: initial,
    get() {
      return this.saved;
    },
    set(t) {
      this.saved = t;
    },
  };
}

/** Watches that yield one list per target, except for a context that cannot be reached. */
function watcher() {
  const watched: string[] = [];
  const watch = async function* (target: PromotedTarget, signal: AbortSignal) {
    watched.push(`${target.context}/${target.namespace}`);
    if (target.context === 'down') throw new Error('connect ECONNREFUSED');
    yield [job(`j-${target.context}`, target.namespace)];
    while (!signal.aborted) await sleep(5, signal);
  };
  return { watch, watched };
}

describe('PromotedJobs', () => {
  it('watches every remembered target, and says why one cannot be read, retrying it', async () => {
    const { watch, watched } = watcher();
    let changes = 0;
    const promoted = new PromotedJobs(
      watch,
      memory([
        { context: 'gke', namespace: 'prod' },
        { context: 'down', namespace: 'x' },
      ]),
      () => changes++,
      10,
    );
    promoted.start();
    await expect.poll(() => promoted.find({ context: 'gke', namespace: 'prod' })?.jobs.map((j) => j.name)).toEqual(['j-gke']);
    await expect.poll(() => promoted.find({ context: 'down', namespace: 'x' })?.problem).toBe('connect ECONNREFUSED');
    await expect.poll(() => watched.filter((w) => w === 'down/x').length).toBeGreaterThan(1);
    expect(changes).toBeGreaterThan(1);
    promoted.stop();
  });

  it('remembers a new target first, forgets one on request, and stops the old watches', async () => {
    const { watch } = watcher();
    const mem = memory([{ context: 'gke', namespace: 'prod' }]);
    const promoted = new PromotedJobs(watch, mem, () => {}, 10);
    promoted.start();
    promoted.add({ context: 'eks', namespace: 'ml' });
    expect(mem.saved).toEqual([
      { context: 'eks', namespace: 'ml' },
      { context: 'gke', namespace: 'prod' },
    ]);
    await expect.poll(() => promoted.remotes.map((r) => r.jobs[0]?.name)).toEqual(['j-eks', 'j-gke']);
    promoted.forget({ context: 'gke', namespace: 'prod' });
    expect(mem.saved).toEqual([{ context: 'eks', namespace: 'ml' }]);
    expect(promoted.remotes.map((r) => r.target.context)).toEqual(['eks']);
    promoted.stop();
  });
});
