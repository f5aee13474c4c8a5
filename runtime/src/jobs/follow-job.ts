// Following a job to its end, the way every front end shows it: every rank's log lines and its
// metrics as they arrive, each status change, then the outcome. The CLI, the VS Code extension and
// the API server all follow jobs through this one function.
import type { JobPhase, JobStatus, LogLine, MetricsSample } from '../types.js';
import { childController, sleep } from '../k8s/streams.js';

export const FINISHED_PHASES: JobPhase[] = ['Succeeded', 'Failed', 'Cancelled'];

export interface FollowHandlers {
  /** A promise holds back the next line until it settles (a slow reader of the output). */
  onLog?(line: LogLine): unknown;
  /** Only called when given: metrics cost a kubelet read per interval. */
  onMetrics?(sample: MetricsSample): void;
  onStatus?(status: JobStatus): void;
  /** A log or metrics stream broke off (the job itself is still followed). */
  onStreamError?(what: 'logs' | 'metrics', err: unknown): void;
  /** The API server went away (every stream waits for it), and came back. */
  onNotice?(message: string): void;
}

export interface FollowOptions {
  namespace?: string;
  signal?: AbortSignal;
  metricsIntervalMs?: number;
  /** After the job ends, how long its last lines may take to arrive (default 10 s). */
  drainMs?: number;
}

/** What following needs from a session (SkiffSession has all three). */
export interface FollowSource {
  logs(name: string, opts: { follow: boolean; signal?: AbortSignal; namespace?: string }): AsyncIterable<LogLine>;
  metrics(name: string, opts: { follow: boolean; intervalMs?: number; signal?: AbortSignal; namespace?: string }): AsyncIterable<MetricsSample>;
  waitForJob(
    name: string,
    phases: JobPhase[],
    opts: { signal?: AbortSignal; namespace?: string; onStatus?: (s: JobStatus) => void; onNotice?: (message: string) => void },
  ): Promise<JobStatus>;
}

const DEFAULT_DRAIN_MS = 10_000;

/**
 * Streams the job until it Succeeds, Fails or is Cancelled and resolves with that status, once its
 * logs have drained (or drainMs passed). Aborting `signal` stops following, not the job, and
 * rejects with the abort reason.
 */
export async function followJob(source: FollowSource, name: string, handlers: FollowHandlers, opts: FollowOptions = {}): Promise<JobStatus> {
  const streams = childController(opts.signal);
  const { namespace } = opts;
  const pump = async <T>(what: 'logs' | 'metrics', items: AsyncIterable<T>, each: (item: T) => unknown) => {
    try {
      for await (const item of items) await each(item);
    } catch (err) {
      if (!streams.signal.aborted) handlers.onStreamError?.(what, err);
    }
  };
  const logs = pump('logs', source.logs(name, { follow: true, signal: streams.signal, namespace }), (line) => handlers.onLog?.(line));
  const metrics = handlers.onMetrics
    ? pump('metrics', source.metrics(name, { follow: true, intervalMs: opts.metricsIntervalMs, signal: streams.signal, namespace }), (s) => handlers.onMetrics!(s))
    : Promise.resolve();
  try {
    // The status watch tells of an outage for all: the log and metric streams wait through the same one.
    const onNotice = handlers.onNotice && ((message: string) => handlers.onNotice!(message));
    const final = await source.waitForJob(name, FINISHED_PHASES, { namespace, signal: opts.signal, onStatus: handlers.onStatus, onNotice });
    // The pods are done; their streams end once drained. Wait a little for that, not forever.
    await Promise.race([Promise.all([logs, metrics]), sleep(opts.drainMs ?? DEFAULT_DRAIN_MS, streams.signal)]);
    return final;
  } finally {
    streams.abort();
    await Promise.all([logs, metrics]);
  }
}
