// Pod logs from the cluster: client-node's Log (timestamps on, for exact resume) per pod, or the log
// the pod keeps of itself on the host. Which pods make up a job is jobs/job-logs.ts's business; the
// merge, resume and end-of-stream rules live in log-merge.ts.
import { access } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { Log, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { KeptLogReader } from '../workspace/kept-logs.js';
import { SkiffError } from '../errors.js';
import { apiStatusOf, kubeClients, orUndefined, withPooledConnections, type KubeClients } from './client.js';
import { ChangeWatch } from './watch.js';
import { newlineSeparated } from './lines.js';
import { sleep } from './streams.js';
import { throughOutages, type OutageOptions } from './outage.js';
import type { PodLogSource, PodRef, PodRunState } from './log-merge.js';

export type { PodRef } from './log-merge.js';

export function podRunState(pod: V1Pod | undefined): PodRunState {
  if (!pod) return 'gone';
  switch (pod.status?.phase) {
    case 'Running':
      return 'running';
    case 'Succeeded':
    case 'Failed':
      return 'terminated';
    default:
      return 'waiting';
  }
}

/** How often a kept log is looked at for new lines while its pod runs. */
const KEPT_POLL_MS = 100;
/** A follow of a kept log hands back after this long without a new line, for the pod to be looked at again. */
const KEPT_IDLE_MS = 2000;
/** How long past its deletion deadline a pod still shown running counts as ended (its kubelet is gone). */
const PAST_DELETION_MS = 10_000;
/** How long a started pod may take to open its kept log before its kubelet log is read instead. */
const KEPT_START_GRACE_MS = 10_000;

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/**
 * Per-pod log streams: the log a pod keeps on the host where it has one (it outlives the pod, and
 * the kubelet's rotation), else the kubelet's through the API server.
 */
export class KubePodLogs implements PodLogSource {
  private readonly log: Log;
  private readonly k: KubeClients;
  private readonly changes: ChangeWatch;
  /** resourceVersion of each pod as state() last read it, for changed() to watch from. */
  private readonly versions = new Map<string, string | undefined>();
  /** Restart count of each pod's container as state() last read it. */
  private readonly restartCounts = new Map<string, number>();
  /** Per pod, once chosen: its kept log's reader, or null for the kubelet's log. */
  private readonly kept = new Map<string, KeptLogReader | null>();
  /** Pods running but whose kept log is not open yet: looked at again soon rather than on a pod change. */
  private readonly awaitingKeptLog = new Set<string>();

  constructor(
    kc: KubeConfig,
    private readonly namespace: string,
    private readonly outage: Pick<OutageOptions, 'signal' | 'onOutage'> = {},
  ) {
    this.log = new Log(withPooledConnections(kc));
    this.k = kubeClients(kc);
    this.changes = new ChangeWatch(kc);
  }

  async state(pod: PodRef): Promise<PodRunState> {
    const current = await throughOutages(() => orUndefined(this.k.core.readNamespacedPod({ name: pod.name, namespace: this.namespace })), {
      ...this.outage,
      answeredBefore: this.versions.has(pod.uid),
    });
    this.versions.set(pod.uid, current?.metadata?.resourceVersion);
    const container = current?.status?.containerStatuses?.find((c) => c.name === pod.container);
    this.restartCounts.set(pod.uid, container?.restartCount ?? 0);
    // A pod with the same name but another uid is a replacement, not ours.
    let state = podRunState(current?.metadata?.uid === pod.uid || !current?.metadata?.uid ? current : undefined);
    // Deleted, and still shown running well past its grace period: no kubelet is left to end it
    // (its node stopped), so nothing more will come from it.
    const deadline = current?.metadata?.deletionTimestamp ? new Date(current.metadata.deletionTimestamp).getTime() : undefined;
    if (state === 'running' && deadline !== undefined && Date.now() > deadline + PAST_DELETION_MS) state = 'terminated';
    return pod.keptLog ? this.keptLogState(pod, pod.keptLog, state, current) : state;
  }

  /**
   * The state as a pod that keeps its log sees it, choosing (once) between the kept log and the
   * kubelet's: gone from the cluster is not the end while its lines are on the host, and a pod just
   * started is waited for until its launcher opens the file.
   */
  private async keptLogState(pod: PodRef, keptLog: string, state: PodRunState, current: V1Pod | undefined): Promise<PodRunState> {
    this.awaitingKeptLog.delete(pod.uid);
    if (this.kept.has(pod.uid)) {
      const reader = this.kept.get(pod.uid);
      if (!reader) return state;
      if (state === 'gone') return 'terminated';
      // A container that is never restarted is done once its end is recorded, even while the
      // cluster still shows it running (its node stopped, so no kubelet reports it any more).
      if (state === 'running' && current?.spec?.restartPolicy === 'Never' && (await reader.ended())) return 'terminated';
      return state;
    }
    const hasKept = await exists(keptLog);
    if (state === 'gone') {
      if (!hasKept) return 'gone';
      this.kept.set(pod.uid, new KeptLogReader(keptLog));
      return 'terminated';
    }
    const startedAt = current?.status?.containerStatuses?.find((c) => c.name === pod.container)?.state?.running?.startedAt;
    const starting = state === 'running' && startedAt !== undefined && Date.now() - new Date(startedAt).getTime() < KEPT_START_GRACE_MS;
    if (starting && !hasKept) {
      this.awaitingKeptLog.add(pod.uid);
      return 'waiting';
    }
    if (state !== 'waiting') {
      const reader = hasKept ? new KeptLogReader(keptLog) : undefined;
      // A log cut short (a full disk) is read from the kubelet while the pod is there to ask.
      this.kept.set(pod.uid, reader && !(await reader.meta())?.logIncomplete ? reader : null);
    }
    return state;
  }

  restarts(pod: PodRef): number {
    return this.restartCounts.get(pod.uid) ?? 0;
  }

  /** A watch on this one pod from the version state() read: it starts, the stream opens at once. */
  async changed(pod: PodRef, opts: { signal: AbortSignal; maxWaitMs: number }): Promise<void> {
    if (this.awaitingKeptLog.has(pod.uid)) return sleep(KEPT_POLL_MS, opts.signal);
    const pods = `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods`;
    await this.changes.nextPaced([{ path: pods, fieldSelector: `metadata.name=${pod.name}`, resourceVersion: this.versions.get(pod.uid) }], opts);
  }

  /** A kept log is read on from its byte offset; the kubelet's resends its last second. */
  resumesExactly(pod: PodRef): boolean {
    return !!this.kept.get(pod.uid);
  }

  lines(pod: PodRef, opts: { follow: boolean; sinceTime?: string; previous?: boolean; signal: AbortSignal }): AsyncGenerator<string> {
    const kept = this.kept.get(pod.uid);
    return kept ? keptLines(kept, opts) : this.kubeletLines(pod, opts);
  }

  private async *kubeletLines(pod: PodRef, opts: { follow: boolean; sinceTime?: string; previous?: boolean; signal: AbortSignal }): AsyncGenerator<string> {
    // Log pipes the response body into `sink` but never tells it about errors or aborts, so the
    // source's close (normal or not) and our own abort both end the sink: the reader then stops.
    const sink = new PassThrough();
    const endSink = () => {
      if (!sink.writableEnded) sink.end();
    };
    sink.on('pipe', (source: Readable) => {
      source.once('error', endSink);
      source.once('close', endSink);
    });
    opts.signal.addEventListener('abort', endSink, { once: true });
    let request: AbortController | undefined;
    try {
      request = await this.log
        .log(this.namespace, pod.name, pod.container, sink, {
          follow: opts.follow,
          timestamps: true,
          sinceTime: opts.sinceTime,
          previous: opts.previous,
        })
        .catch((err: unknown) => {
          const status = apiStatusOf(err);
          // Not allowed stays not allowed: say so, instead of a silent empty log (or endless retries).
          if (status === 401 || status === 403) {
            throw new SkiffError('FORBIDDEN', `the cluster refused to show the logs of pod ${pod.name} (HTTP ${status})`, {
              hint: `the kubeconfig's user needs 'get' on pods/log in namespace '${this.namespace}'`,
              cause: err,
            });
          }
          throw err;
        });
      if (opts.signal.aborted) return;
      yield* newlineSeparated(sink);
    } finally {
      opts.signal.removeEventListener('abort', endSink);
      request?.abort();
      sink.destroy();
    }
  }
}

/**
 * A kept log from where it was last read. Every container the pod ran appended to it, so there is
 * no `previous` to read; following, it hands back after a quiet spell so the pod is looked at again.
 */
async function* keptLines(reader: KeptLogReader, opts: { follow: boolean; previous?: boolean; signal: AbortSignal }): AsyncGenerator<string> {
  if (opts.previous) return;
  let quietMs = 0;
  while (!opts.signal.aborted) {
    let got = false;
    for await (const line of reader.newLines()) {
      got = true;
      yield line;
    }
    if (!opts.follow) return;
    quietMs = got ? 0 : quietMs + KEPT_POLL_MS;
    if (quietMs >= KEPT_IDLE_MS) return;
    if (!got && (await reader.ended())) {
      // Its end is recorded after its last line: what is left is already in the file.
      yield* reader.newLines();
      return;
    }
    await sleep(KEPT_POLL_MS, opts.signal);
  }
}
