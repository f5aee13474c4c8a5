// Followers (`skiff logs -f`, `skiff run`, the editors' watches) outlive short API-server outages: a
// control plane that restarts (an upgrade, a crash, the kubelet restarting its static pod) answers
// with reset connections and 5xx for tens of seconds, then comes back. One-shot commands still fail
// at once; only the reads a follower repeats go through here.
import { apiStatusOf, connectionFailure, hasErrorCode, isConnectionError } from './client.js';
import { sleep } from './streams.js';

/** A control-plane restart on a laptop took 30–75 s (kubelet back-off included). */
export const OUTAGE_BUDGET_MS = 120_000;
/**
 * Nothing listening at all (ECONNREFUSED) is what a deleted or stopped kind node gives, while a
 * restarting API server behind a live node resets connections: refused gets a short wait only.
 */
export const REFUSED_BUDGET_MS = 10_000;
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 2_000;

const RETRIED_STATUSES = new Set([429, 500, 502, 503, 504]);

const REFUSED = new Set(['ECONNREFUSED']);

/**
 * 'refused' or 'outage' for errors a restarting API server gives; undefined for real answers. With
 * `answeredBefore`, 401 and 403 count too: an API server that has just started refuses everyone for
 * a few seconds, until its authorizer has read the RBAC bindings (seen on kind: 403 for the admin).
 */
export function outageKind(err: unknown, answeredBefore = false): 'refused' | 'outage' | undefined {
  const status = apiStatusOf(err);
  if (status !== undefined) return RETRIED_STATUSES.has(status) || (answeredBefore && (status === 401 || status === 403)) ? 'outage' : undefined;
  if (hasErrorCode(err, REFUSED)) return 'refused';
  if (isConnectionError(err) || /socket (hang up|disconnected)|ERR_STREAM_PREMATURE_CLOSE/i.test(String((err as Error)?.message ?? ''))) return 'outage';
  return undefined;
}

export interface OutageOptions {
  signal?: AbortSignal;
  budgetMs?: number;
  refusedBudgetMs?: number;
  /** The same read was answered before, so a refusal now is the API server starting up (see outageKind). */
  answeredBefore?: boolean;
  /** Told once when an outage starts (with the error) and once when it is over. */
  onOutage?: (event: { state: 'lost'; error: unknown; budgetMs: number } | { state: 'back'; afterMs: number }) => void;
}

/**
 * `read()`, retried while the API server is away, for up to the budget; then the last error. The
 * budget holds for the whole call: a retry that hangs (an address that takes connections and never
 * answers) is given up at the budget's end, not at its own request timeout.
 */
export async function throughOutages<T>(read: () => Promise<T>, opts: OutageOptions = {}): Promise<T> {
  const started = Date.now();
  let wait = FIRST_RETRY_MS;
  let sawOutage = false;
  let deadline = Infinity;
  let lastError: unknown;
  for (let attempt = 0; ; attempt++) {
    try {
      const value = attempt === 0 ? await read() : await beforeDeadline(read(), deadline, lastError);
      if (attempt > 0) opts.onOutage?.({ state: 'back', afterMs: Date.now() - started });
      return value;
    } catch (err) {
      // A refusal straight after an outage is the restarted server loading RBAC (see outageKind).
      const kind = outageKind(err, opts.answeredBefore || sawOutage);
      sawOutage ||= kind !== undefined;
      const budget = kind === 'refused' ? (opts.refusedBudgetMs ?? REFUSED_BUDGET_MS) : (opts.budgetMs ?? OUTAGE_BUDGET_MS);
      if (!kind || opts.signal?.aborted || Date.now() - started + wait > budget) throw err;
      deadline = started + budget;
      lastError = err;
      if (attempt === 0) opts.onOutage?.({ state: 'lost', error: err, budgetMs: budget });
      await sleep(wait, opts.signal);
      wait = Math.min(MAX_RETRY_MS, wait * 2);
    }
  }
}

/** The promise's outcome, or `error` once the deadline passes (the promise is left to settle unheard). */
async function beforeDeadline<T>(promise: Promise<T>, deadline: number, error: unknown): Promise<T> {
  promise.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The outage events of every read a follower makes (pods, the job, each pod's state) as one
 * message when the API server goes and one when it is back, for the user to see why nothing moves.
 */
export function outageNotices(where: string, notify: (message: string) => void): NonNullable<OutageOptions['onOutage']> {
  let away = 0;
  return (event) => {
    if (event.state === 'lost') {
      if (away++ === 0) {
        const seconds = Math.round(event.budgetMs / 1000);
        const upTo = seconds >= 60 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
        notify(`lost the API server of ${where} (${connectionFailure(event.error)}); waiting for it to answer again, up to ${upTo}`);
      }
    } else if (away > 0 && --away === 0) {
      notify(`the API server of ${where} answers again, after ${Math.round(event.afterMs / 1000)} s`);
    }
  };
}
