// What a local job's pods kept of themselves on the host (runtime/python/skiff/keep_logs.py): per pod,
// `<pod>.log` with every line as "<RFC 3339 time> <text>" and `<pod>.json` with its rank, node and how
// it ended. They outlive the pods, so a job whose pods were deleted (by a user, by the Job controller
// once one rank failed, with their node) still has every rank's logs and the reason it failed.
import { open, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

export const KEPT_LOG_SUFFIX = '.log';
const META_SUFFIX = '.json';
/** Bytes read from the end of a log for its last lines. */
const TAIL_BYTES = 64 * 1024;
const READ_BYTES = 64 * 1024;

/** A pod as it recorded itself: written when it started, again when it was signalled and when it ended. */
export interface KeptPod {
  pod: string;
  uid?: string;
  node?: string;
  rank?: number;
  startedAt?: string;
  /** The first signal it got from outside (the kubelet stopping it: pod deleted, node drained). */
  stoppedBy?: { signal: string; at: string };
  /** Absent while it runs, or when it was killed before it could say (SIGKILL, its node gone). */
  ended?: { exitCode: number; at: string; signal?: string };
  /** Why the log stops short (its disk filled up): the kubelet's log has the rest while the pod exists. */
  logIncomplete?: string;
  /** Host path of its log. */
  logFile: string;
}

/** The kept pods in a run's logs folder, oldest first; none when the folder is missing. */
export async function readKeptPods(logsDir: string): Promise<KeptPod[]> {
  const names = await readdir(logsDir).catch(() => [] as string[]);
  const pods = await Promise.all(names.filter((n) => n.endsWith(META_SUFFIX)).map((n) => readKeptPod(logsDir, n.slice(0, -META_SUFFIX.length))));
  return pods.filter((p): p is KeptPod => p !== undefined).sort((a, b) => ((a.startedAt ?? '') < (b.startedAt ?? '') ? -1 : 1));
}

async function readKeptPod(logsDir: string, pod: string): Promise<KeptPod | undefined> {
  try {
    const meta = JSON.parse(await readFile(path.join(logsDir, pod + META_SUFFIX), 'utf8')) as Omit<KeptPod, 'logFile'>;
    return typeof meta.pod === 'string' ? { ...meta, logFile: path.join(logsDir, pod + KEPT_LOG_SUFFIX) } : undefined;
  } catch {
    return undefined; // written whole by a rename, so only a foreign file reads as garbage
  }
}

/**
 * The kept pods the cluster no longer has. `present` holds the names and uids of the pods it does
 * have (a kept pod may lack its uid when the downward API gave none).
 */
export function keptPodsGone(kept: KeptPod[], present: Iterable<string | undefined>): KeptPod[] {
  const known = new Set(present);
  return kept.filter((k) => !known.has(k.pod) && !(k.uid && known.has(k.uid)));
}

/** The text of the last `count` lines of a kept log (timestamps cut), or none when it is missing. */
export async function keptTail(logFile: string, count: number): Promise<string[]> {
  const file = await open(logFile, 'r').catch(() => undefined);
  if (!file) return [];
  try {
    const { size } = await file.stat();
    const start = Math.max(0, size - TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    await file.read(buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8').split('\n');
    if (start > 0) lines.shift(); // cut mid-line
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-count).map((l) => l.slice(l.indexOf(' ') + 1));
  } finally {
    await file.close();
  }
}

/**
 * Reads a kept log a piece at a time from where it last stopped, so following a growing log costs
 * the new bytes only. Only whole lines are handed out: the writer appends each line in one write,
 * and a read may still land in the middle of one.
 */
export class KeptLogReader {
  private offset = 0;
  private partial = Buffer.alloc(0);

  constructor(readonly logFile: string) {}

  /** Whether the pod has recorded its end (written after its last line): nothing more will come. */
  async ended(): Promise<boolean> {
    return (await this.meta())?.ended !== undefined;
  }

  /** What the pod recorded of itself beside this log. */
  meta(): Promise<KeptPod | undefined> {
    return readKeptPod(path.dirname(this.logFile), path.basename(this.logFile, KEPT_LOG_SUFFIX));
  }

  /** Raw lines ("<time> <text>") appended since the last call; none when the file does not exist. */
  async *newLines(): AsyncGenerator<string> {
    const file = await open(this.logFile, 'r').catch(() => undefined);
    if (!file) return;
    try {
      const buffer = Buffer.alloc(READ_BYTES);
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, this.offset);
        if (bytesRead === 0) return;
        this.offset += bytesRead;
        const chunk = this.partial.length > 0 ? Buffer.concat([this.partial, buffer.subarray(0, bytesRead)]) : buffer.subarray(0, bytesRead);
        let start = 0;
        for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
          yield chunk.toString('utf8', start, end);
          start = end + 1;
        }
        this.partial = Buffer.from(chunk.subarray(start));
      }
    } finally {
      await file.close();
    }
  }
}
