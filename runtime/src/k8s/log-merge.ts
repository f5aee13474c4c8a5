// The pure half of job logs: resuming a pod's stream without losing or doubling a line, following
// one pod through reconnects, discovering pods, and interleaving ranks. The cluster half
// (k8s/logs.ts) plugs in as PodLogSource and JobPodSource, so all of this runs against fakes in tests.
import { SkiffError } from '../errors.js';
import type { LogLine } from '../types.js';
import { isAfter, splitTimestamp } from '../logs/parse.js';
import { childController, mergeStreams, sleep } from './streams.js';

/** One pod of a job, as the log and metric streams need it. */
export interface PodRef {
  name: string;
  uid: string;
  rank: number;
  container: string;
  node?: string;
  /** GPUs its container asked for (absent: none). */
  gpus?: number;
  /** Host path of the log the pod keeps of itself (local clusters), read instead of the kubelet's. */
  keptLog?: string;
}

/** waiting: not started yet; running; terminated: Succeeded or Failed; gone: deleted. */
export type PodRunState = 'waiting' | 'running' | 'terminated' | 'gone';

export interface PodLogSource {
  state(pod: PodRef): Promise<PodRunState>;
  /** How often the pod's container has restarted, as the last state() read saw it. */
  restarts?(pod: PodRef): number;
  /**
   * Raw kubelet lines ("<RFC3339Nano> text"), ending when the server closes the stream or the signal
   * aborts; with `previous`, those of the container before its last restart.
   */
  lines(pod: PodRef, opts: { follow: boolean; sinceTime?: string; previous?: boolean; signal: AbortSignal }): AsyncIterable<string>;
  /**
   * Resolves once the pod may have changed since the last state() (e.g. a watch event), or after
   * maxWaitMs at the latest. Without it, waiting pods are polled.
   */
  changed?(pod: PodRef, opts: { signal: AbortSignal; maxWaitMs: number }): Promise<void>;
  /**
   * Whether the next lines() goes on exactly where the pod's last stream stopped (a kept log read
   * from a byte offset): nothing is sent twice, so no window of delivered lines need be remembered.
   */
  resumesExactly?(pod: PodRef): boolean;
}

export interface JobPodSource {
  /** The job's current pods; finished once no new pod can appear (the Job ended or was deleted). */
  list(): Promise<{ pods: PodRef[]; finished: boolean }>;
  /** Resolves once the job's pods may have changed since the last list(), or after maxWaitMs. */
  changed?(opts: { signal: AbortSignal; maxWaitMs: number }): Promise<void>;
}

export interface LogStreamOptions {
  follow: boolean;
  signal?: AbortSignal;
  /** RFC 3339 time; earlier lines are skipped. */
  sinceTime?: string;
  /** How often to look for new pods and for pods that have not started (default 1 s). */
  pollMs?: number;
  /** Pause before reopening a stream the server closed while the pod still runs (default 500 ms). */
  reconnectMs?: number;
  /** Told when the API server goes away mid-stream, and when it is back (see outageNotices). */
  onNotice?: (message: string) => void;
  /** The cluster as those notices name it ("cluster 'skiff'"); default: the kubeconfig's context. */
  where?: string;
}

/**
 * Where a pod's log was read up to. A reopened stream starts at `since` (the latest timestamp seen),
 * and the server resends from that time's whole second (the kubelet truncates sinceTime), so the
 * lines already delivered from that second on are remembered and skipped once each when they come
 * again. Nothing else is dropped: stdout and stderr are stamped apart, so a line may carry an
 * earlier time than the one before it, and it is still a new line. No line is lost or doubled.
 */
export class LogCursor {
  private latest: string;
  /** Lines before this were not asked for: the caller's sinceTime, or a reopened stream's resend start. */
  private dropBefore: string;
  /** Where a stream reopened now would resend from: the latest timestamp's whole second. */
  private windowStart: string;
  /** Delivered lines from windowStart on (time and text), with counts. */
  private delivered = new Map<string, number>();
  /** What the current stream may resend: a copy of `delivered` when it opened, used up as lines repeat. */
  private resendable = new Map<string, number>();
  /** The current stream resends nothing (see startStream). */
  private exact = false;

  constructor(sinceTime?: string) {
    this.latest = sinceTime ?? '';
    this.dropBefore = sinceTime ?? '';
    this.windowStart = sinceTime ?? '';
  }

  /** The sinceTime to reopen with, or undefined before any line. */
  get since(): string | undefined {
    return this.latest || undefined;
  }

  /**
   * Call before reading a new stream. One that goes on exactly where the last stopped resends
   * nothing, so its lines are not remembered: at 50k lines a second that window is tens of MB.
   */
  startStream(opts: { exact?: boolean } = {}): void {
    this.exact = opts.exact ?? false;
    if (this.exact) {
      this.delivered.clear();
      this.resendable.clear();
      return; // nothing comes twice, so nothing before the window need be dropped
    }
    this.resendable = new Map(this.delivered);
    if (this.windowStart && isAfter(this.windowStart, this.dropBefore)) this.dropBefore = this.windowStart;
  }

  /** The parsed line when it is new, undefined when it was delivered before (or precedes the start). */
  accept(raw: string): { time: string; text: string } | undefined {
    const line = splitTimestamp(raw);
    if (!line.time) return line;
    if (this.dropBefore && isAfter(this.dropBefore, line.time)) return undefined;
    if (!this.exact) return this.acceptResendable(line);
    if (!this.latest || isAfter(line.time, this.latest)) this.moveTo(line.time);
    return line;
  }

  private acceptResendable(line: { time: string; text: string }): { time: string; text: string } | undefined {
    const key = `${line.time} ${line.text}`;
    const resent = this.resendable.get(key);
    if (resent) {
      this.resendable.set(key, resent - 1);
      return undefined;
    }
    if (!this.latest || isAfter(line.time, this.latest)) this.moveTo(line.time);
    if (!isAfter(this.windowStart, line.time)) this.delivered.set(key, (this.delivered.get(key) ?? 0) + 1);
    return line;
  }

  /** A later timestamp: the resend window starts at its whole second, and older lines are forgotten. */
  private moveTo(time: string): void {
    this.latest = time;
    const second = wholeSecond(time);
    if (this.windowStart && !isAfter(second, this.windowStart)) return;
    this.windowStart = second;
    for (const key of this.delivered.keys()) {
      if (isAfter(second, key.slice(0, key.indexOf(' ')))) this.delivered.delete(key);
    }
  }
}

/** '2026-01-01T00:00:02.5Z' -> '2026-01-01T00:00:02Z' (offsets kept as they are). */
function wholeSecond(time: string): string {
  return time.replace(/\.\d+/, '');
}

const DEFAULT_POLL_MS = 1000;
const DEFAULT_RECONNECT_MS = 500;
/** Longest wait on a watch before looking again anyway (a watch can drop silently). */
const WATCH_SAFETY_MS = 10_000;
/** First wait of a poll: a new job's pods appear and start within a second or two on a local cluster. */
const FIRST_POLL_MS = 150;

/**
 * Waits between polls: short at first, so the first line of a new job shows as soon as it exists,
 * then growing by half each time up to `maxMs`, so a job stuck in Pending costs few requests.
 */
export function pollBackoff(maxMs: number): () => number {
  let next = Math.min(FIRST_POLL_MS, maxMs);
  return () => {
    const wait = next;
    next = Math.min(maxMs, Math.round(next * 1.5));
    return wait;
  };
}
/** Reads of a finished pod that may fail before giving up on it (its logs may be gone). */
const TERMINATED_READ_ATTEMPTS = 3;

/**
 * One pod's lines, tagged with its rank. Waits for the pod to start; with follow, reopens a stream
 * that ends while the pod still runs, and after the pod terminates does one last plain read from the
 * cursor so that lines the follow stream missed are delivered too. Ends when the pod is done (or gone).
 */
export async function* podLogLines(source: PodLogSource, pod: PodRef, opts: LogStreamOptions): AsyncGenerator<LogLine> {
  const signal = opts.signal ?? new AbortController().signal;
  const cursor = new LogCursor(opts.sinceTime);
  const nextPoll = pollBackoff(opts.pollMs ?? DEFAULT_POLL_MS);
  let failedTerminatedReads = 0;
  let restarts: number | undefined;
  while (!signal.aborted) {
    const state = await source.state(pod);
    if (state === 'gone') return;
    const nowRestarts = source.restarts?.(pod);
    if (restarts !== undefined && nowRestarts !== undefined && nowRestarts > restarts) {
      // The container restarted inside its pod (a server that crashed): the stream read so far was
      // cut when it died, so its last lines, often the traceback, are in the previous container's log.
      yield* podPreviousLines(source, pod, cursor, signal);
    }
    restarts = nowRestarts;
    if (state === 'waiting') {
      if (!opts.follow) return;
      await (source.changed ? source.changed(pod, { signal, maxWaitMs: WATCH_SAFETY_MS }) : sleep(nextPoll(), signal));
      continue;
    }
    const follow = opts.follow && state === 'running';
    let failed = false;
    try {
      yield* newLines(source, pod, cursor, { follow, signal });
    } catch (err) {
      // A refusal in Skiff's words (not allowed) is final; anything else passes, e.g. "container is
      // waiting to start": the pod looked ready a moment too early.
      if (err instanceof SkiffError) throw err;
      failed = true;
    }
    if (signal.aborted || !opts.follow) return;
    if (state === 'terminated' && (!failed || ++failedTerminatedReads >= TERMINATED_READ_ATTEMPTS)) return;
    await sleep(failed ? nextPoll() : (opts.reconnectMs ?? DEFAULT_RECONNECT_MS), signal);
  }
}

/** One stream of the pod from the cursor on, its lines not delivered before. */
async function* newLines(source: PodLogSource, pod: PodRef, cursor: LogCursor, opts: { follow: boolean; previous?: boolean; signal: AbortSignal }): AsyncGenerator<LogLine> {
  cursor.startStream({ exact: source.resumesExactly?.(pod) });
  for await (const raw of source.lines(pod, { ...opts, sinceTime: cursor.since })) {
    const line = cursor.accept(raw);
    if (line) yield { pod: pod.name, rank: pod.rank, ...line };
  }
}

async function* podPreviousLines(source: PodLogSource, pod: PodRef, cursor: LogCursor, signal: AbortSignal): AsyncGenerator<LogLine> {
  try {
    yield* newLines(source, pod, cursor, { follow: false, previous: true, signal });
  } catch (err) {
    if (err instanceof SkiffError) throw err;
    // A container restarted more than once since: only the last one before this is kept.
  }
}

/** Each pod once (by uid); without follow one listing, with follow until the source says finished. */
export async function* discoverPods(source: JobPodSource, opts: LogStreamOptions): AsyncGenerator<PodRef> {
  const signal = opts.signal ?? new AbortController().signal;
  const seen = new Set<string>();
  const nextPoll = pollBackoff(opts.pollMs ?? DEFAULT_POLL_MS);
  while (!signal.aborted) {
    const { pods, finished } = await source.list();
    for (const pod of pods) {
      if (seen.has(pod.uid)) continue;
      seen.add(pod.uid);
      yield pod;
    }
    if (!opts.follow || finished) return;
    await (source.changed ? source.changed({ signal, maxWaitMs: WATCH_SAFETY_MS }) : sleep(nextPoll(), signal));
  }
}

/**
 * All lines of a job. Following, lines appear as they arrive (ranks interleave, each in order) and
 * the stream ends when every pod has terminated and been drained; without follow, one read of every
 * started pod, merged by timestamp. Aborting the signal ends the stream quietly.
 */
export async function* jobLogLines(pods: JobPodSource, logs: PodLogSource, opts: LogStreamOptions): AsyncGenerator<LogLine> {
  const controller = childController(opts.signal);
  const inner = { ...opts, signal: controller.signal };
  try {
    const discovered = discoverPods(pods, inner);
    if (opts.follow) {
      yield* mergeStreams(mapStream(discovered, (pod) => podLogLines(logs, pod, inner)));
      return;
    }
    const reads: Promise<LogLine[]>[] = [];
    for await (const pod of discovered) reads.push(collect(podLogLines(logs, pod, inner)));
    yield* mergeByTime(await Promise.all(reads));
  } finally {
    controller.abort();
  }
}

async function* mapStream<A, B>(source: AsyncIterable<A>, fn: (a: A) => B): AsyncGenerator<B> {
  for await (const a of source) yield fn(a);
}

export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

/**
 * K-way merge of per-pod line lists by timestamp. Only list heads are compared, so each pod's order
 * is kept even where clocks disagree; ties go to the lower rank.
 */
export function mergeByTime(perPod: LogLine[][]): LogLine[] {
  const heads = perPod.map(() => 0);
  const out: LogLine[] = [];
  for (;;) {
    let best = -1;
    for (let i = 0; i < perPod.length; i++) {
      const line = perPod[i][heads[i]];
      if (!line) continue;
      const current = best === -1 ? undefined : perPod[best][heads[best]];
      if (!current || isAfter(current.time, line.time) || (!isAfter(line.time, current.time) && line.rank < current.rank)) best = i;
    }
    if (best === -1) return out;
    out.push(perPod[best][heads[best]++]);
  }
}
