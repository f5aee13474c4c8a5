// A typed client for the runtime's HTTP + server-sent-events API (`skiff api`), for front ends that
// live in a browser (the JupyterLab extension). Every call's method, path and body come from its
// route in contract.ts, and so do the types of what it sends and gets back. Browser-safe: fetch and
// web streams only, no Node imports; imported as `@skiff/runtime/client` so none of the runtime's
// Node code comes along.
import type { ClusterInfo, JobPhase, JobStatus, LogLine, MetricsSample, PromotedTarget } from '../types.js';
import type { JobDescription } from '../jobs/status.js';
import { API_VERSION, routes, type Health, type JobOutputs, type PromotionSummary } from './contract.js';
import { requestFor, type CallParts, type ResponseOf, type RouteSpec, type StreamEventOf } from './route.js';

export { OUTPUTS_COPY_DIR, type Health, type JobOutputs, type PromotionSummary } from './contract.js';

export interface ClientOptions {
  /** Where the API is mounted, e.g. http://127.0.0.1:7070 or a Jupyter server's /skiff prefix. */
  baseUrl: string;
  /** Bearer token of `skiff api`; absent behind a proxy that adds its own authentication. */
  token?: string;
  /** Extra headers on every request (e.g. Jupyter's XSRF token). */
  headers?: Record<string, string>;
  /** Another fetch (e.g. one that adds credentials); the global one by default. */
  fetch?: typeof fetch;
  /** The context (and namespace) jobs were promoted to, instead of the local cluster: see at(). */
  target?: PromotedTarget;
}

/** An error the API answered with: its code (NO_CLUSTER, BAD_INPUT, ...), message and hint. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface SubmitRequest {
  /** The job spec as the runtime's parseJobSpec takes it (kind, name, script, workers, ...). */
  spec: Record<string, unknown>;
  /** The code: file paths relative to the code root, contents as text. */
  files: { path: string; content: string }[];
  /** A folder on the runtime's machine the files are laid over (a notebook's folder). */
  codeRoot?: string;
  /**
   * The notebook's path under the Jupyter server's root; JupyterLab's server extension turns it
   * into codeRoot (the browser does not know where the server keeps its files).
   */
  notebookPath?: string;
  /** Start in the newest run folder of this earlier job. */
  from?: string;
}

export interface SseEvent {
  event: string;
  data: unknown;
}

/** The data of one event of a route's stream. */
type StreamData<R extends RouteSpec, E extends string> = Extract<StreamEventOf<R>, { event: E }>['data'];

export class SkiffApiClient {
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: ClientOptions) {
    this.fetch = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  /**
   * The same API for the jobs of a context they were promoted to: listing, watching, describing,
   * waiting, logs, metrics, calls and cancel. The server refuses the rest (submit, promote, clusters).
   */
  at(target: PromotedTarget): SkiffApiClient {
    return new SkiffApiClient({ ...this.opts, target });
  }

  health(): Promise<Health> {
    return this.json(routes.health, {});
  }

  /** The API's health, or an ApiError saying plainly that the two halves are of different versions. */
  async checkVersion(expected: number = API_VERSION): Promise<Health> {
    const health = await this.health();
    if (health.apiVersion !== expected) {
      throw new ApiError(
        200,
        'VERSION_MISMATCH',
        `the Skiff runtime speaks API version ${health.apiVersion} (runtime ${health.version}) but this front end expects version ${expected}`,
        'install the same Skiff version for both (e.g. upgrade the pip package and the runtime together)',
      );
    }
    return health;
  }

  clusters(): Promise<ClusterInfo[]> {
    return this.json(routes.listClusters, {});
  }

  /** Creates or reuses the cluster, calling onProgress with each step; resolves with the cluster. */
  async up(
    request: { profile?: string; workers?: number; gpusPerNode?: number; gpuSharing?: number; dra?: boolean; addons?: string[]; name?: string },
    onProgress?: (message: string) => void,
  ): Promise<ClusterInfo> {
    for await (const item of this.events(routes.clusterUp, { body: request })) {
      if (item.event === 'progress') onProgress?.(item.data.message);
      else if (item.event === 'result') return item.data.cluster;
    }
    throw new ApiError(0, 'INTERNAL', 'the cluster stream ended without a result');
  }

  down(name?: string): Promise<{ name: string; deleted: boolean }> {
    return this.json(routes.clusterDown, { body: name ? { name } : {} });
  }

  jobs(): Promise<JobStatus[]> {
    return this.json(routes.listJobs, {});
  }

  describe(job: string): Promise<JobDescription> {
    return this.json(routes.describeJob, { params: { name: job } });
  }

  submit(request: SubmitRequest): Promise<JobStatus> {
    const files = request.files.map((f) => ({ path: f.path, content: base64(f.content) }));
    const where = Object.fromEntries(Object.entries({ codeRoot: request.codeRoot, notebookPath: request.notebookPath, from: request.from }).filter(([, v]) => v));
    return this.json(routes.submitJob, { body: { ...request.spec, code: { files }, ...where } });
  }

  /** A local job's run folder and the files in it. */
  outputs(job: string): Promise<JobOutputs> {
    return this.json(routes.jobOutputs, { params: { name: job } });
  }

  /** Copies a job's outputs into `<notebook folder>/skiff-outputs/<job>/` (JupyterLab's server extension resolves notebookPath). */
  copyOutputs(job: string, where: { notebookPath: string } | { codeRoot: string }): Promise<{ dir: string; to: string }> {
    return this.json(routes.copyJobOutputs, { params: { name: job }, body: where });
  }

  cancel(job: string): Promise<{ name: string; cancelled: boolean }> {
    return this.json(routes.cancelJob, { params: { name: job } });
  }

  call(job: string, request: { path?: string; method?: string; data?: unknown }): Promise<{ status: number; body: string }> {
    return this.json(routes.callJob, { params: { name: job }, body: request });
  }

  /** Where jobs can be promoted to: kubeconfig contexts and target profiles. */
  promotionTargets(): Promise<{ contexts: string[]; profiles: { name: string; file: string }[] }> {
    return this.json(routes.promotionTargets, {});
  }

  /** The target's dry run and the diff for promoting a job; nothing is applied. */
  planPromotion(job: string, target: { to: string; profile?: string }): Promise<PromotionSummary> {
    return this.json(routes.planPromotion, { params: { name: job }, body: target });
  }

  /**
   * Builds, pushes and applies the plan the user confirmed, reporting each step. Refused with
   * PLAN_CHANGED when the plan made now is no longer that one: show the new one.
   */
  async promote(
    job: string,
    target: { to: string; profile?: string },
    confirmed: Pick<PromotionSummary, 'digest'>,
    onProgress?: (message: string) => void,
  ): Promise<PromotionSummary> {
    const body = { ...target, confirm: true, digest: confirmed.digest };
    for await (const item of this.events(routes.promoteJob, { params: { name: job }, body })) {
      if (item.event === 'progress') onProgress?.(item.data.message);
      else if (item.event === 'result') return item.data;
    }
    throw new ApiError(0, 'INTERNAL', 'the promotion stream ended without a result');
  }

  /** The job list now and after every change, until the signal aborts. */
  watchJobs(signal?: AbortSignal): AsyncGenerator<JobStatus[]> {
    return this.items(routes.watchJobs, {}, 'jobs', signal);
  }

  /**
   * Resolves with the job's status once it reaches one of `phases`, calling onStatus at every
   * change on the way: the same contract as the runtime's waitForJob, so followJob works over HTTP.
   */
  async waitForJob(job: string, phases: JobPhase[], opts: { signal?: AbortSignal; onStatus?: (status: JobStatus) => void } = {}): Promise<JobStatus> {
    let last: JobStatus | undefined;
    for await (const status of this.items(routes.waitForJob, { params: { name: job }, query: { until: phases.join(',') } }, 'status', opts.signal)) {
      last = status;
      opts.onStatus?.(status);
    }
    opts.signal?.throwIfAborted();
    if (!last || !phases.includes(last.phase)) throw new ApiError(0, 'INTERNAL', `the status stream of job '${job}' ended before it was ${phases.join(' or ')}`);
    return last;
  }

  logs(job: string, opts: { follow?: boolean; since?: string; signal?: AbortSignal } = {}): AsyncGenerator<LogLine> {
    const query = { follow: opts.follow ? '1' : undefined, since: opts.since || undefined };
    return this.items(routes.jobLogs, { params: { name: job }, query }, 'log', opts.signal);
  }

  metrics(job: string, opts: { follow?: boolean; intervalMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<MetricsSample> {
    const query = { follow: opts.follow ? '1' : undefined, intervalMs: opts.intervalMs ? String(opts.intervalMs) : undefined };
    return this.items(routes.jobMetrics, { params: { name: job }, query }, 'metrics', opts.signal);
  }

  /** One stream's items of one event name; `error` events become ApiErrors. */
  private async *items<R extends RouteSpec, E extends StreamEventOf<R>['event']>(route: R, parts: CallParts<R>, name: E, signal?: AbortSignal): AsyncGenerator<StreamData<R, E>> {
    for await (const item of this.events(route, parts, signal)) {
      if (item.event === name) yield item.data as StreamData<R, E>;
    }
  }

  /** A stream's events until `end`; aborting the signal ends it quietly, as for any iterator. */
  private async *events<R extends RouteSpec>(route: R, parts: CallParts<R>, signal?: AbortSignal): AsyncGenerator<StreamEventOf<R>> {
    const { method, path, body } = requestFor(route, parts);
    try {
      const res = await this.request(method, path, body, { Accept: 'text/event-stream' }, signal);
      if (res.body) {
        for await (const item of parseSse(res.body, signal)) {
          if (item.event === 'error') throw apiError(500, item.data);
          if (item.event === 'end') return;
          yield item as StreamEventOf<R>;
        }
      }
      if (signal?.aborted) return;
      // Every stream of the API ends with `end`: without it the server went away mid-stream, and
      // a follower that took this for the end would sit frozen with a partial log.
      throw new ApiError(
        0,
        'UNREACHABLE',
        `the Skiff API's stream ${path.split('?')[0]} was cut before its end`,
        'is `skiff api` (or the Jupyter server extension) still running? open the view again to resume',
      );
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
  }

  private async json<R extends RouteSpec>(route: R, parts: CallParts<R>): Promise<ResponseOf<R>> {
    const { method, path, body } = requestFor(route, parts);
    const res = await this.request(method, path, body, { Accept: 'application/json' });
    return (await res.json()) as ResponseOf<R>;
  }

  private targeted(path: string): string {
    const target = this.opts.target;
    if (!target) return path;
    const query = new URLSearchParams({ context: target.context, namespace: target.namespace });
    return `${path}${path.includes('?') ? '&' : '?'}${query}`;
  }

  private async request(method: string, path: string, body: unknown, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    const all: Record<string, string> = { ...this.opts.headers, ...headers };
    if (this.opts.token) all.Authorization = `Bearer ${this.opts.token}`;
    if (body !== undefined) all['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetch(this.opts.baseUrl.replace(/\/$/, '') + this.targeted(path), {
        method,
        headers: all,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new ApiError(
        0,
        'UNREACHABLE',
        `cannot reach the Skiff API at ${this.opts.baseUrl}: ${err instanceof Error ? err.message : String(err)}`,
        'is `skiff api` (or the Jupyter server extension) running?',
      );
    }
    if (!res.ok) throw apiError(res.status, await res.json().catch(() => undefined));
    return res;
  }
}

function apiError(status: number, body: unknown): ApiError {
  const e = (body as { error?: { code?: string; message?: string; hint?: string } } | undefined)?.error;
  return new ApiError(status, e?.code ?? 'INTERNAL', e?.message ?? `the Skiff API answered HTTP ${status}`, e?.hint);
}

/** Server-sent events from a response body: `event:` and one JSON `data:` line per event. */
export async function* parseSse(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const abort = () => void reader.cancel().catch(() => {});
  signal?.addEventListener('abort', abort, { once: true });
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: ?(.*)$/m.exec(block)?.[1] ?? 'message';
        const data = /^data: ?(.*)$/m.exec(block)?.[1];
        if (data !== undefined) yield { event, data: JSON.parse(data) };
      }
    }
  } finally {
    signal?.removeEventListener('abort', abort);
    reader.releaseLock();
  }
}

/** UTF-8 text as base64, without Node's Buffer. */
function base64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
