// The one place Skiff runs other programs. Like kind's exec package, every failure carries the
// argv and the program's output, so an error message alone is enough to reproduce the problem.
import { execa, type Options } from 'execa';
import { SkiffError } from '../errors.js';

export interface RunOptions {
  cwd?: string;
  /** Added to the current environment. */
  env?: Record<string, string>;
  input?: string | Buffer;
  timeoutMs?: number;
  /** Called for every output line as it arrives (the output is still collected). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  signal?: AbortSignal;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Lines of stderr quoted in the message: enough for the program's own error, not a whole log. */
const STDERR_TAIL_LINES = 20;

export class RunError extends SkiffError {
  readonly argv: string[];
  readonly exitCode?: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The program does not exist (ENOENT). */
  readonly notFound: boolean;
  readonly timedOut: boolean;
  readonly cancelled: boolean;

  constructor(init: {
    argv: string[];
    problem: string;
    exitCode?: number;
    stdout?: string;
    stderr?: string;
    notFound?: boolean;
    timedOut?: boolean;
    cancelled?: boolean;
    cause?: unknown;
  }) {
    const stderr = init.stderr ?? '';
    const tail = lastLines(stderr, STDERR_TAIL_LINES);
    super(init.timedOut ? 'TIMEOUT' : 'COMMAND_FAILED', tail ? `${init.problem}:\n${tail}` : init.problem, { cause: init.cause });
    this.name = 'RunError';
    this.argv = init.argv;
    if (init.exitCode !== undefined) this.exitCode = init.exitCode;
    this.stdout = init.stdout ?? '';
    this.stderr = stderr;
    this.notFound = init.notFound ?? false;
    this.timedOut = init.timedOut ?? false;
    this.cancelled = init.cancelled ?? false;
  }
}

export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const argv = [cmd, ...args];
  const { onLine } = opts;
  // Generator transforms see the output line by line and pass it on, so it is still collected.
  const tee = (stream: 'stdout' | 'stderr') =>
    function* (line: unknown) {
      onLine?.(String(line), stream);
      yield line;
    };
  const options: Options = {
    cwd: opts.cwd,
    env: opts.env,
    timeout: opts.timeoutMs,
    cancelSignal: opts.signal,
    reject: false,
    // A program that reads stdin must not wait forever for input nobody will send.
    ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }),
    ...(onLine ? { stdout: tee('stdout'), stderr: tee('stderr') } : {}),
  };
  const result = await execa(cmd, args, options);
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  if (!result.failed) return { stdout, stderr };

  const command = formatCommand(argv);
  const common = { argv, stdout, stderr, cause: result.cause };
  if (result.code === 'ENOENT' && result.exitCode === undefined) {
    throw new RunError({ ...common, problem: `command not found: ${cmd}`, notFound: true });
  }
  if (result.timedOut) {
    throw new RunError({ ...common, problem: `${command} timed out after ${formatSeconds(opts.timeoutMs ?? 0)}`, timedOut: true });
  }
  if (result.isCanceled) {
    throw new RunError({ ...common, problem: `${command} was cancelled`, cancelled: true });
  }
  if (result.exitCode !== undefined) {
    throw new RunError({ ...common, problem: `${command} failed with exit code ${result.exitCode}`, exitCode: result.exitCode });
  }
  const how = result.signal ? `was killed by ${result.signal}` : `failed: ${result.originalMessage ?? result.shortMessage ?? 'unknown error'}`;
  throw new RunError({ ...common, problem: `${command} ${how}` });
}

export type Runner = typeof run;

/** The command line as a user would type it into a POSIX shell. */
export function formatCommand(argv: string[]): string {
  return argv.map(shellQuote).join(' ');
}

function shellQuote(arg: string): string {
  if (/^[\w@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

function lastLines(text: string, count: number): string {
  const lines = text.trimEnd().split('\n');
  const tail = lines.slice(-count).join('\n');
  return lines.length > count ? `…\n${tail}` : tail;
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}

/** The promise, or a rejection "<what> within N s" once `ms` pass without it settling. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
