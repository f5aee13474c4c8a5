// Parsing of kubelet log lines (`timestamps=true`) and of the metric lines `skiff.log()` prints.
import type { LogLine } from '../types.js';

export const METRIC_PREFIX = 'SKIFF_METRIC ';

// RFC 3339 with optional fraction and a Z or ±hh:mm offset, as the kubelet writes it.
const TIMESTAMP_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** "2026-11-23T11:00:00.123456789Z text" -> {time, text}; lines without a timestamp get time ''. */
export function splitTimestamp(raw: string): { time: string; text: string } {
  const line = raw.replace(/\r?\n$/, '');
  const space = line.indexOf(' ');
  const head = space === -1 ? line : line.slice(0, space);
  if (!TIMESTAMP_RE.test(head)) return { time: '', text: asTerminalShows(line) };
  return { time: head, text: space === -1 ? '' : asTerminalShows(line.slice(space + 1)) };
}

/**
 * A line as a terminal leaves it: progress bars (tqdm) redraw with '\r', so only the text after the
 * last '\r' that is followed by something is what the user would see, e.g. "100%|██████| 3/3".
 */
export function asTerminalShows(text: string): string {
  if (!text.includes('\r')) return text;
  const frames = text.split('\r').filter((f) => f !== '');
  return frames.at(-1) ?? '';
}

/**
 * Nanoseconds since the epoch, exactly. RFC3339Nano trims trailing zeros, so timestamps cannot be
 * compared as strings ("…:00Z" sorts after "…:00.1Z"), and Date keeps only milliseconds.
 */
export function timestampNanos(ts: string): bigint | undefined {
  const m = TIMESTAMP_RE.exec(ts);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  return BigInt(seconds) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** True when timestamp a is strictly later than b; a valid timestamp is after an empty or invalid one. */
export function isAfter(a: string, b: string): boolean {
  const na = timestampNanos(a);
  const nb = timestampNanos(b);
  if (na === undefined) return false;
  if (nb === undefined) return true;
  return na > nb;
}

/** 'SKIFF_METRIC {"step":3,"loss":0.5}' -> {step: 3, loss: 0.5}; non-numbers dropped; malformed -> undefined. */
export function parseMetricLine(text: string): Record<string, number> | undefined {
  if (!text.startsWith(METRIC_PREFIX)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(METRIC_PREFIX.length));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const values: Record<string, number> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'number' && Number.isFinite(value)) values[key] = value;
  }
  return values;
}

/** "[rank 0] text" (the default), or just the text with showRank: false. */
export function formatLogLine(line: LogLine, opts: { showRank?: boolean } = {}): string {
  return opts.showRank === false ? line.text : `[rank ${line.rank}] ${line.text}`;
}

/** Metric values as "step=3 loss=0.12346": five significant digits, integers as they are. */
export function metricValuesText(values: Record<string, number>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : Number(v.toPrecision(5))}`)
    .join(' ');
}

/** A log line for people: tagged with its rank, a metrics line shown as its values rather than JSON. */
export function displayLogLine(line: LogLine): string {
  const values = parseMetricLine(line.text);
  return formatLogLine(values ? { ...line, text: `metrics ${metricValuesText(values)}` } : line);
}
