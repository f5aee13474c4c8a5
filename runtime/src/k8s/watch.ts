// "Tell me when something about these objects changes": list-then-watch from a resourceVersion, so
// waiting costs one long request per collection instead of a poll loop. A dropped watch is reported
// as such; the caller re-reads and watches again, which is how watch drops are tolerated.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { withPooledConnections } from './client.js';
import { sleep } from './streams.js';

export interface WatchTarget {
  /** Collection path, e.g. /api/v1/namespaces/skiff/pods. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** From the list the caller just read: only later events count. */
  resourceVersion?: string;
}

/** changed: an event arrived; dropped: a watch ended or failed; timeout: nothing within maxWaitMs; aborted: the signal fired. */
export type ChangeOutcome = 'changed' | 'dropped' | 'timeout' | 'aborted';

export class ChangeWatch {
  private readonly watch: Watch;

  constructor(kc: KubeConfig) {
    this.watch = new Watch(withPooledConnections(kc));
  }

  /** Resolves exactly once, on the first of: an event on any target, a watch ending, maxWaitMs, abort. */
  next(targets: WatchTarget[], opts: { signal?: AbortSignal; maxWaitMs: number }): Promise<ChangeOutcome> {
    return new Promise<ChangeOutcome>((resolve) => {
      const controllers: AbortController[] = [];
      let settled = false;
      const settle = (outcome: ChangeOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        for (const c of controllers) c.abort();
        resolve(outcome);
      };
      const onAbort = () => settle('aborted');
      const timer = setTimeout(() => settle('timeout'), opts.maxWaitMs);
      if (opts.signal?.aborted) return settle('aborted');
      opts.signal?.addEventListener('abort', onAbort, { once: true });

      for (const target of targets) {
        const query = {
          labelSelector: target.labelSelector,
          fieldSelector: target.fieldSelector,
          resourceVersion: target.resourceVersion,
          // Let the server end the request too, so no connection outlives the wait.
          timeoutSeconds: Math.max(1, Math.ceil(opts.maxWaitMs / 1000)),
        };
        this.watch
          .watch(
            target.path,
            query,
            // ERROR events (e.g. 410 Gone: the resourceVersion is too old) mean "re-read".
            (type) => (type === 'BOOKMARK' ? undefined : settle(type === 'ERROR' ? 'dropped' : 'changed')),
            () => settle('dropped'),
          )
          .then(
            (controller) => (settled ? controller.abort() : controllers.push(controller)),
            () => settle('dropped'),
          );
      }
    });
  }

  /**
   * Like next(), for loops that re-read after every outcome: a watch that drops at once (an API
   * server restarting, a cluster going away) is followed by a pause, so the loop cannot spin.
   */
  async nextPaced(targets: WatchTarget[], opts: { signal?: AbortSignal; maxWaitMs: number }): Promise<ChangeOutcome> {
    const started = Date.now();
    const outcome = await this.next(targets, opts);
    if (outcome === 'dropped' && Date.now() - started < DROP_PAUSE_MS) await sleep(DROP_PAUSE_MS, opts.signal);
    return outcome;
  }
}

/** A watch that ends sooner than this counts as failed at once. */
const DROP_PAUSE_MS = 1000;
