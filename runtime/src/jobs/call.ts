// Calling a serving job over HTTP through the API server's service proxy: no port-forward, no
// ingress, and it works from any machine that can reach the cluster.
import type { KubeConfig } from '@kubernetes/client-node';
import { SkiffError } from '../errors.js';
import type { JobStatus } from '../types.js';
import { HTTP_PORT_NAME } from '../manifests/serving.js';
import { kubeRequest } from '../k8s/client.js';
import { sleep } from '../k8s/streams.js';
import { Jobs } from './jobs.js';
import { INFERENCE_SERVICE, predictorServiceName } from './operator-kinds.js';

export interface CallOptions {
  /** Path and query on the service, default '/'. */
  path?: string;
  /** Default GET, or POST when there is data. */
  method?: string;
  data?: string | Buffer;
  headers?: Record<string, string>;
  /** How long to wait for a ready replica (default 120 s). */
  readyTimeoutMs?: number;
  /** How long the job may take to answer (default 120 s, as a slow model's first request can). */
  answerTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface CallResult {
  status: number;
  body: string;
}

const READY_TIMEOUT_MS = 120_000;
const ANSWER_TIMEOUT_MS = 120_000;

/**
 * /api/v1/namespaces/NS/services/NAME:http/proxy/PATH, keeping PATH's query string. A path with a
 * '.' or '..' segment, however it is percent-encoded, is refused: URL normalisation would resolve it
 * out of the job's proxy to any API path the kubeconfig may read (secrets included).
 */
export function serviceProxyPath(namespace: string, name: string, path = '/'): string {
  const rest = path.startsWith('/') ? path : `/${path}`;
  if (hasDotSegment(rest.split(/[?#]/, 1)[0])) {
    throw new SkiffError('BAD_INPUT', `the call path must not contain '.' or '..' segments (got '${path}')`, {
      hint: 'a call reaches only the serving job itself; give the path as the job serves it, e.g. /predict',
    });
  }
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}:${HTTP_PORT_NAME}/proxy${rest}`;
}

/** Decodes until nothing changes (double encoding too), then looks for '.' and '..' between slashes. */
function hasDotSegment(pathPart: string): boolean {
  let decoded = pathPart;
  for (let i = 0; i < 5; i++) {
    let next: string;
    try {
      next = decodeURIComponent(decoded);
    } catch {
      break; // a lone '%' is no escape: what is there is what the URL parser sees
    }
    if (next === decoded) break;
    decoded = next;
  }
  return decoded.split(/[\\/]/).some((segment) => segment === '.' || segment === '..');
}

/** The Service in front of a serving job: its own, or the one KServe makes for an InferenceService. */
export function serviceOfJob(status: Pick<JobStatus, 'name' | 'workload'>): string {
  return status.workload === INFERENCE_SERVICE.kind ? predictorServiceName(status.name) : status.name;
}

export async function callService(kc: KubeConfig, namespace: string, job: string, opts: CallOptions = {}): Promise<CallResult> {
  serviceProxyPath(namespace, job, opts.path); // a bad path fails before anything is asked of the cluster
  const status = await waitForReadyReplica(kc, namespace, job, opts.readyTimeoutMs ?? READY_TIMEOUT_MS, opts.signal);
  const method = (opts.method ?? (opts.data !== undefined ? 'POST' : 'GET')).toUpperCase();
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.data !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['Content-Type'] = looksLikeJson(opts.data) ? 'application/json' : 'text/plain; charset=utf-8';
  }
  const res = await kubeRequest(kc, {
    method,
    path: serviceProxyPath(namespace, serviceOfJob(status), opts.path),
    body: opts.data,
    headers,
    signal: opts.signal,
    timeoutMs: opts.answerTimeoutMs ?? ANSWER_TIMEOUT_MS,
  });
  return { status: res.status, body: res.body.toString('utf8') };
}

function looksLikeJson(data: string | Buffer): boolean {
  try {
    JSON.parse(data.toString());
    return true;
  } catch {
    return false;
  }
}

/** The job's status once a replica is ready (a serving job is Running then). */
export async function waitForReadyReplica(kc: KubeConfig, namespace: string, job: string, timeoutMs: number, signal?: AbortSignal): Promise<JobStatus> {
  const jobs = new Jobs(kc, namespace);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await jobs.get(job);
    if (status.kind === 'training') throw new SkiffError('BAD_INPUT', `'${job}' is a training job; only serving jobs (skiff serve) answer calls`);
    if (status.phase === 'Running') return status;
    signal?.throwIfAborted();
    if (Date.now() >= deadline) {
      throw new SkiffError('TIMEOUT', `serving job '${job}' has no ready replica after ${Math.round(timeoutMs / 1000)} s`, {
        hint: status.reason ?? `the script must listen on $PORT; see \`skiff logs ${job}\` and \`skiff describe ${job}\``,
      });
    }
    await sleep(1000, signal);
  }
}
