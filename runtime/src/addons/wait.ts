// How an add-on's install waits: one poll loop for every add-on, and one reading of when a
// Deployment has rolled out (the server or controller an add-on runs).
import type { V1Deployment } from '@kubernetes/client-node';
import type { SkiffError } from '../errors.js';
import { sleep } from '../k8s/streams.js';

/** How long an add-on gets for each thing it waits for. */
export const ADDON_READY_TIMEOUT_MS = 4 * 60_000;

/**
 * Checks `ready` every second until it says yes; past the time, throws what `timedOut` says (it may
 * read the cluster for why). `ready` may throw to stop early with a reason of its own.
 */
export async function pollUntil(ready: () => Promise<boolean>, opts: { signal?: AbortSignal; timedOut: () => Promise<SkiffError> | SkiffError }): Promise<void> {
  const deadline = Date.now() + ADDON_READY_TIMEOUT_MS;
  while (!(await ready())) {
    opts.signal?.throwIfAborted();
    if (Date.now() >= deadline) throw await opts.timedOut();
    await sleep(1000, opts.signal);
  }
}

/** The Deployment's current template runs, ready, with no replica unavailable. */
export function rolledOut(d: V1Deployment | undefined): boolean {
  const s = d?.status;
  const current = (s?.observedGeneration ?? 0) >= (d?.metadata?.generation ?? 0) && (s?.updatedReplicas ?? 0) >= 1;
  return current && (s?.readyReplicas ?? 0) >= 1 && !s?.unavailableReplicas;
}
