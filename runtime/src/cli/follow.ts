// The long-running commands: `skiff run` (submit, stream logs, end with the job's outcome) and
// `skiff serve` (submit, wait for a ready replica). Library calls plus printing, nothing more.
import type { JobPhase, JobStatus, LogLine, MetricsSample, RunEvent } from '../types.js';
import { EXIT_JOB_FAILED, EXIT_OK, describeError } from '../errors.js';
import type { JobSpec } from '../spec/job-spec.js';
import type { CodeSource, SkiffSession } from '../session.js';
import { FINISHED_PHASES, followJob } from '../jobs/follow-job.js';
import { formatDuration, logLineText, statusLine } from './format.js';

export interface Output {
  /**
   * Writes to stdout. A promise when the stream asks the writer to wait (its reader is slower than
   * the job, e.g. a pipe to `less`): a stream of lines awaits it, so they wait in the job's log, not
   * in this process's memory.
   */
  out(text: string): Promise<void> | void;
  err(text: string): void;
}

/** Output on two streams; out() resolves once stdout drains when a write fills its buffer. */
export function streamOutput(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Output {
  return {
    out: (text) => (stdout.write(text) ? undefined : drained(stdout)),
    err: (text) => void stderr.write(text),
  };
}

/** Resolves on 'drain', or when the stream is closed or broken (nothing more will be written then). */
function drained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      for (const event of ['drain', 'close', 'error']) stream.off(event, done);
      resolve();
    };
    for (const event of ['drain', 'close', 'error']) stream.once(event, done);
  });
}

/** Conventional exit status of a command stopped with Ctrl-C. */
export const EXIT_INTERRUPTED = 130;
const SERVE_OUTCOMES: JobPhase[] = ['Running', 'Failed', 'Cancelled'];
const SERVE_READY_TIMEOUT_MS = 10 * 60_000;

/** How a follower tells what happens: human lines on stderr always; with `-o json`, events on stdout too. */
interface Reporter {
  /** A log line: its text on stdout, or a `log` event. */
  log(line: LogLine): Promise<void> | void;
  /** A human line on stderr, and the event when events are asked for. */
  tell(text: string, event?: RunEvent): void;
  /** Only when events are asked for (text output has nothing to say for it). */
  event(event: RunEvent): void;
  readonly json: boolean;
}

function reporter(io: Output, json: boolean): Reporter {
  const event = (e: RunEvent) => void io.out(JSON.stringify(e) + '\n');
  return {
    json,
    log: (line) => (json ? io.out(JSON.stringify({ event: 'log', line, text: logLineText(line) } satisfies RunEvent) + '\n') : io.out(logLineText(line) + '\n')),
    tell: (text, e) => {
      io.err(text);
      if (json && e) event(e);
    },
    event: (e) => {
      if (json) event(e);
    },
  };
}

/** Tells a status whenever the phase or its reason changes; the outcome itself is told by the caller. */
function statusPrinter(report: Reporter, outcomes: JobPhase[]): (s: JobStatus) => void {
  let last = '';
  return (s) => {
    if (outcomes.includes(s.phase)) return;
    const line = statusLine(s);
    if (line !== last) report.tell(line + '\n', { event: 'status', job: s });
    last = line;
  };
}

function submittedText(s: JobStatus, session: SkiffSession): string {
  const unit = s.kind === 'training' ? 'worker' : 'replica';
  const where = s.workDir ? `; working directory ${s.workDir} (\`skiff outputs ${s.name}\`)` : '';
  return `submitted ${s.kind} job ${s.name} (${s.workers} ${unit}${s.workers === 1 ? '' : 's'}) to ${session.where}, namespace ${s.namespace}${where}\n`;
}

export async function runAndFollow(
  session: SkiffSession,
  spec: JobSpec,
  code: CodeSource,
  io: Output,
  opts: { detach?: boolean; signal?: AbortSignal; drainMs?: number; from?: string; json?: boolean },
): Promise<number> {
  const report = reporter(io, !!opts.json);
  const submitted = await session.submit(spec, code, { from: opts.from, onProgress: (line) => io.err(line + '\n') });
  report.tell(submittedText(submitted, session), { event: 'submitted', job: submitted });
  if (opts.detach) {
    io.err(`follow it with \`skiff logs ${submitted.name} -f\`, stop it with \`skiff cancel ${submitted.name}\`\n`);
    if (!report.json) io.out(`${submitted.name}\n`);
    return EXIT_OK;
  }
  const started = Date.now();
  let final: JobStatus;
  try {
    final = await followJob(
      session,
      submitted.name,
      {
        onLog: (line) => report.log(line),
        // A chart beside the lines: events carry the metrics too (one kubelet read per interval).
        ...(report.json ? { onMetrics: (sample: MetricsSample) => report.event({ event: 'metrics', sample }) } : {}),
        onStatus: statusPrinter(report, FINISHED_PHASES),
        onStreamError: (_what, err) => io.err(`log stream stopped: ${describeError(err)}\n`),
        onNotice: (message) => report.tell(`skiff: ${message}\n`, { event: 'notice', message }),
      },
      { namespace: submitted.namespace, signal: opts.signal, drainMs: opts.drainMs },
    );
  } catch (err) {
    if (opts.signal?.aborted) {
      io.err(`\nstopped following; job ${submitted.name} keeps running (\`skiff cancel ${submitted.name}\` stops it)\n`);
      return EXIT_INTERRUPTED;
    }
    throw err;
  }
  const seconds = (Date.now() - started) / 1000;
  const took = formatDuration(seconds);
  const end: RunEvent = { event: 'end', job: final, seconds };
  if (final.phase === 'Succeeded') {
    report.tell(`job ${final.name} Succeeded after ${took}\n`, end);
    return EXIT_OK;
  }
  report.tell(`job ${final.name} ${final.phase} after ${took}${final.reason ? `: ${final.reason}` : ''}\ndetails: \`skiff describe ${final.name}\`\n`, end);
  return EXIT_JOB_FAILED;
}

export async function serveAndWait(
  session: SkiffSession,
  spec: JobSpec,
  code: CodeSource,
  io: Output,
  opts: { detach?: boolean; signal?: AbortSignal; from?: string; json?: boolean },
): Promise<number> {
  const report = reporter(io, !!opts.json);
  const submitted = await session.submit(spec, code, { from: opts.from, onProgress: (line) => io.err(line + '\n') });
  report.tell(submittedText(submitted, session), { event: 'submitted', job: submitted });
  const howToCall = `call it with \`skiff call ${submitted.name} /\` (add a path and --data '{...}' for POST)\n`;
  if (opts.detach) {
    io.err(howToCall);
    if (!report.json) io.out(`${submitted.name}\n`);
    return EXIT_OK;
  }
  const started = Date.now();
  let final: JobStatus;
  try {
    final = await session.waitForJob(submitted.name, SERVE_OUTCOMES, {
      namespace: submitted.namespace,
      timeoutMs: SERVE_READY_TIMEOUT_MS,
      signal: opts.signal,
      onStatus: statusPrinter(report, SERVE_OUTCOMES),
    });
  } catch (err) {
    if (opts.signal?.aborted) {
      io.err(`\nstopped waiting; job ${submitted.name} keeps starting (\`skiff cancel ${submitted.name}\` stops it)\n`);
      return EXIT_INTERRUPTED;
    }
    throw err;
  }
  const end: RunEvent = { event: 'end', job: final, seconds: (Date.now() - started) / 1000 };
  if (final.phase !== 'Running') {
    report.tell(`job ${final.name} ${final.phase}${final.reason ? `: ${final.reason}` : ''}\nlogs: \`skiff logs ${final.name}\`\n`, end);
    return EXIT_JOB_FAILED;
  }
  report.tell(`serving job ${final.name} is ready; ${howToCall}`, end);
  if (!report.json) io.out(`${final.name}\n`);
  return EXIT_OK;
}
