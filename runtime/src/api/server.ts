// A loopback HTTP API for editor extensions: the same operations as the CLI, JSON in and out, logs
// and metrics as server-sent events. Every request needs the bearer token the server was started with.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CodeFile } from '../types.js';
import { SkiffError, describeError, errorCodeOf, type ErrorCode } from '../errors.js';
import type { Clusters, UpRequest } from '../cluster/cluster.js';
import { parseJobSpec, parseNamespace, type JobSpec } from '../spec/job-spec.js';
import { explainKubeError } from '../k8s/client.js';
import { SkiffSession, type CodeSource } from '../session.js';
import path from 'node:path';
import { homedir } from 'node:os';
import { realpath } from 'node:fs/promises';
import { runFiles } from '../workspace/runs.js';
import { isWithin } from '../workspace/layout.js';
import { OUTPUTS_COPY_DIR } from './client.js';
import { SseStream } from './sse.js';
import { callbackStream } from '../k8s/streams.js';
import { FINISHED_PHASES } from '../jobs/follow-job.js';
import type { JobPhase } from '../types.js';
import type { PromotionPlan } from '../promote/promote.js';
import { planDigest } from '../promote/plan-digest.js';
import { API_VERSION, RUNTIME_VERSION } from '../version.js';
import { notebookFileSession } from '../sessions/notebook-file.js';
import { notebookSessionSpec } from '../sessions/notebook.js';
import { CellPresenter } from '../sessions/cell-output.js';
import { parseCellRun, parseInterrupt, parseSessionStart } from './session-requests.js';

/** What the API needs from a session; tests pass a fake. */
export type ApiBackend = Pick<
  SkiffSession,
  | 'clusterName'
  | 'namespace'
  | 'listClusters'
  | 'up'
  | 'down'
  | 'listJobs'
  | 'watchJobs'
  | 'describeJob'
  | 'submit'
  | 'outputs'
  | 'copyOutputs'
  | 'cancelJob'
  | 'waitForJob'
  | 'logs'
  | 'metrics'
  | 'call'
  | 'promotionTargets'
  | 'planPromotion'
  | 'applyPromotion'
  | 'startNotebookSession'
  | 'findNotebookSession'
  | 'attachNotebookSession'
  | 'runCell'
  | 'interruptNotebookSession'
  | 'stopNotebookSession'
>;

export interface ApiServerOptions {
  port?: number;
  host?: string;
  /** Random when absent. */
  token?: string;
  clusters?: Clusters;
  clusterName?: string;
  namespace?: string;
  /** Replaces the session built from clusters/clusterName/namespace. */
  backend?: ApiBackend;
  /** The session for a kubeconfig context jobs were promoted to (default: a SkiffSession on it). */
  remote?: (context: string) => ApiBackend;
  /**
   * The folders a request may name as code (codeRoot, a notebook) or copy outputs into; anything
   * outside is refused, so a caller with the token cannot ship /etc or ~/.ssh into a job. Default:
   * the user's home folder and the API's working directory (JupyterLab passes its root folder).
   */
  codeRoots?: string[];
}

export interface ApiServer {
  url: string;
  token: string;
  close(): Promise<void>;
}

/** Request bodies carry code as base64; a full 900 KiB bundle fits with room to spare. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host);
}

export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw new SkiffError('BAD_INPUT', `the API only listens on loopback addresses, not ${host}`, { hint: 'use 127.0.0.1 (the default)' });
  }
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const backend = opts.backend ?? new SkiffSession({ clusters: opts.clusters, clusterName: opts.clusterName, namespace: opts.namespace });
  const codeRoots = await Promise.all((opts.codeRoots ?? [homedir(), process.cwd()]).map((root) => realpath(path.resolve(root)).catch(() => path.resolve(root))));
  const server = createServer(apiHandler(backend, token, opts.remote, codeRoots));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // open event streams would otherwise keep close() waiting
      }),
  };
}

type Handler = (ctx: RequestContext) => Promise<void>;

interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  backend: ApiBackend;
  /** Refuses a path outside the folders this API serves (see ApiServerOptions.codeRoots). */
  confine: (what: string, folder: string) => Promise<string>;
}

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  /** Also serves the jobs of another context (`?context=`): reads, logs, metrics, calls and cancel. */
  remote?: boolean;
}

const NAME = '([a-z0-9][-a-z0-9.]*)';

const routes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/api\/health$/,
    handler: async ({ res, backend }) =>
      sendJson(res, 200, { ok: true, version: RUNTIME_VERSION, apiVersion: API_VERSION, cluster: backend.clusterName, namespace: backend.namespace }),
  },
  { method: 'GET', pattern: /^\/api\/clusters$/, handler: async ({ res, backend }) => sendJson(res, 200, await backend.listClusters()) },
  { method: 'POST', pattern: /^\/api\/clusters\/up$/, handler: clusterUp },
  {
    method: 'POST',
    pattern: /^\/api\/clusters\/down$/,
    handler: async ({ req, res, backend }) => {
      const body = objectBody(await readJson(req));
      const name = optionalString(body, 'name') ?? backend.clusterName;
      sendJson(res, 200, { name, deleted: await backend.down(name) });
    },
  },
  { method: 'GET', pattern: /^\/api\/jobs$/, remote: true, handler: async ({ res, query, backend }) => sendJson(res, 200, await backend.listJobs(namespaceOf(query))) },
  {
    method: 'POST',
    pattern: /^\/api\/jobs$/,
    handler: async ({ req, res, query, backend, confine }) => {
      const { spec, code, from } = submitRequest(await readJson(req), namespaceOf(query) ?? backend.namespace);
      if (code.codeRoot) code.codeRoot = await confine('codeRoot', code.codeRoot);
      // What stayed behind and which packages were used, for the editor to show beside the job.
      const notices: string[] = [];
      const status = await backend.submit(spec, code, { from, onProgress: (line) => notices.push(line) });
      sendJson(res, 201, { ...status, notices });
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/api/jobs/${NAME}/outputs$`),
    handler: async ({ res, params, query, backend }) => {
      const run = await backend.outputs(params.name, namespaceOf(query));
      sendJson(res, 200, { dir: run.dir, record: run.record, ...(await runFiles(run)) });
    },
  },
  {
    // Into `<codeRoot>/skiff-outputs/<job>/`: where an editor that shows only its own folder (JupyterLab) can open them.
    method: 'POST',
    pattern: new RegExp(`^/api/jobs/${NAME}/outputs/copy$`),
    handler: async ({ req, res, params, query, backend, confine }) => {
      const codeRoot = objectBody(await readJson(req)).codeRoot;
      if (typeof codeRoot !== 'string' || !path.isAbsolute(codeRoot)) throw new SkiffError('BAD_INPUT', 'codeRoot must be the absolute path of a folder to copy the outputs into');
      const to = path.join(await confine('codeRoot', codeRoot), OUTPUTS_COPY_DIR, params.name);
      const run = await backend.copyOutputs(params.name, to, namespaceOf(query));
      sendJson(res, 200, { dir: run.dir, to });
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/jobs\/watch$/,
    remote: true,
    handler: ({ res, query, backend }) => streamEvents(res, 'jobs', (signal) => backend.watchJobs({ signal, namespace: namespaceOf(query) })),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/api/jobs/${NAME}$`),
    remote: true,
    handler: async ({ res, params, query, backend }) => sendJson(res, 200, await backend.describeJob(params.name, namespaceOf(query))),
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^/api/jobs/${NAME}$`),
    remote: true,
    handler: async ({ res, params, query, backend }) => {
      await backend.cancelJob(params.name, namespaceOf(query));
      sendJson(res, 200, { name: params.name, cancelled: true });
    },
  },
  { method: 'GET', pattern: /^\/api\/promotion\/targets$/, handler: async ({ res, backend }) => sendJson(res, 200, backend.promotionTargets()) },
  {
    // The plan only: the target's dry run and the diff. Nothing is applied.
    method: 'POST',
    pattern: new RegExp(`^/api/jobs/${NAME}/promote/plan$`),
    handler: async ({ req, res, params, backend }) => {
      const body = objectBody(await readJson(req));
      const plan = await backend.planPromotion(params.name, promotionTarget(body));
      sendJson(res, 200, planSummary(plan));
    },
  },
  { method: 'POST', pattern: new RegExp(`^/api/jobs/${NAME}/promote$`), handler: promoteJob },
  {
    // The job's status at every change until it reaches one of `until` (default: finished).
    method: 'GET',
    pattern: new RegExp(`^/api/jobs/${NAME}/wait$`),
    remote: true,
    handler: ({ res, params, query, backend }) =>
      streamEvents(res, 'status', (signal) => callbackStream((onStatus) => backend.waitForJob(params.name, phasesOf(query), { signal, onStatus, namespace: namespaceOf(query) }))),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/api/jobs/${NAME}/logs$`),
    remote: true,
    handler: ({ res, params, query, backend }) =>
      streamEvents(res, 'log', (signal) => backend.logs(params.name, { follow: flag(query, 'follow'), sinceTime: sinceOf(query), signal, namespace: namespaceOf(query) })),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/api/jobs/${NAME}/metrics$`),
    remote: true,
    handler: ({ res, params, query, backend }) =>
      streamEvents(res, 'metrics', (signal) => {
        return backend.metrics(params.name, { follow: flag(query, 'follow'), intervalMs: intervalOf(query), signal, namespace: namespaceOf(query) });
      }),
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/api/jobs/${NAME}/call$`),
    remote: true,
    handler: async ({ req, res, params, query, backend }) => {
      const body = objectBody(await readJson(req));
      const data = body.data === undefined ? undefined : typeof body.data === 'string' ? body.data : JSON.stringify(body.data);
      const headers = body.headers === undefined ? undefined : stringRecord(body.headers, 'headers');
      const result = await backend.call(params.name, {
        path: optionalString(body, 'path'),
        method: optionalString(body, 'method'),
        data,
        headers,
        namespace: namespaceOf(query),
        // A caller that gave up (a closed tab, a Ctrl-C) stops the wait for a replica and the request.
        signal: untilClientGoes(res),
      });
      sendJson(res, 200, result);
    },
  },
  // ---- notebook sessions: what a kernel needs (the JupyterLab one is a client of these) ----
  { method: 'POST', pattern: /^\/api\/sessions$/, handler: startSession },
  {
    method: 'GET',
    pattern: new RegExp(`^/api/sessions/${NAME}$`),
    handler: async ({ res, params, query, backend }) => {
      const info = await backend.findNotebookSession(params.name, namespaceOf(query));
      if (!info) return sendProblem(res, 404, 'NOT_FOUND', `no notebook session '${params.name}'`, 'start one with POST /api/sessions');
      sendJson(res, 200, info);
    },
  },
  { method: 'POST', pattern: new RegExp(`^/api/sessions/${NAME}/cells$`), handler: runSessionCell },
  {
    method: 'POST',
    pattern: new RegExp(`^/api/sessions/${NAME}/interrupt$`),
    handler: async ({ req, res, params, query, backend }) => {
      const { graceMs } = parseInterrupt(await readJson(req));
      sendJson(res, 200, await backend.interruptNotebookSession(params.name, { graceMs, namespace: namespaceOf(query) }));
    },
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^/api/sessions/${NAME}$`),
    handler: async ({ res, params, query, backend }) => {
      await backend.stopNotebookSession(params.name, namespaceOf(query));
      sendJson(res, 200, { name: params.name, stopped: true });
    },
  },
];

/** The request handler, exported so tests can mount it on their own server. */
export function apiHandler(
  backend: ApiBackend,
  token: string,
  remote: (context: string) => ApiBackend = (context) => new SkiffSession({ context }),
  codeRoots: string[],
): (req: IncomingMessage, res: ServerResponse) => void {
  const expected = digest(token);
  const remotes = new Map<string, ApiBackend>();
  const backendFor = (context: string | null) => {
    if (!context) return backend;
    let session = remotes.get(context);
    if (!session) remotes.set(context, (session = remote(context)));
    return session;
  };
  return (req, res) => {
    void handle(req, res, backendFor, expected, (what, folder) => confined(what, folder, codeRoots)).catch((err) => sendError(res, err));
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  backendFor: (context: string | null) => ApiBackend,
  expectedToken: Buffer,
  confine: RequestContext['confine'],
): Promise<void> {
  // A web page on another origin could point a hostname at 127.0.0.1 (DNS rebinding); the Host header gives it away.
  const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  if (!isLoopbackHost(hostHeader)) return sendProblem(res, 403, 'FORBIDDEN', `requests must be addressed to a loopback host, not '${req.headers.host}'`);
  if (!authorized(req, expectedToken)) {
    res.setHeader('WWW-Authenticate', 'Bearer');
    return sendProblem(res, 401, 'UNAUTHORIZED', 'missing or wrong bearer token', 'send the token `skiff api` printed as "Authorization: Bearer <token>"');
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  const matching = routes.filter((r) => r.pattern.test(url.pathname));
  if (matching.length === 0) return sendProblem(res, 404, 'NOT_FOUND', `no such endpoint: ${url.pathname}`);
  const route = matching.find((r) => r.method === req.method);
  if (!route) {
    res.setHeader('Allow', matching.map((r) => r.method).join(', '));
    return sendProblem(res, 405, 'METHOD_NOT_ALLOWED', `${req.method} is not supported on ${url.pathname}`);
  }
  const context = url.searchParams.get('context');
  if (context && !route.remote) return sendProblem(res, 400, 'BAD_INPUT', `${req.method} ${url.pathname} is for the local cluster only, not for context '${context}'`);
  const match = route.pattern.exec(url.pathname)!;
  await route.handler({ req, res, params: { name: match[1] ?? '' }, query: url.searchParams, backend: backendFor(context), confine });
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function authorized(req: IncomingMessage, expected: Buffer): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  // Comparing digests keeps the comparison constant-time whatever the length sent.
  return m !== null && timingSafeEqual(digest(m[1].trim()), expected);
}

// ---- cluster up: JSON or a progress stream ------------------------------------------------------

async function clusterUp({ req, res, backend }: RequestContext): Promise<void> {
  const request = upRequest(await readJson(req));
  if (!(req.headers.accept ?? '').includes('text/event-stream')) {
    sendJson(res, 200, await backend.up(request));
    return;
  }
  const stream = new SseStream(res);
  try {
    const result = await backend.up(request, (message) => stream.send('progress', { message }));
    stream.send('result', result);
  } catch (err) {
    stream.send('error', errorBody(err));
  }
  stream.end();
}

// ---- notebook sessions --------------------------------------------------------------------------

/**
 * Starts the session of a notebook on this machine (or, with `attach`, returns the running one of
 * the same size): JSON, or progress events then `result` when the client asks for a stream.
 */
async function startSession({ req, res, query, backend, confine }: RequestContext): Promise<void> {
  const { notebook, attach, ...choices } = parseSessionStart(await readJson(req));
  await confine('the notebook', path.dirname(path.resolve(notebook)));
  const namespace = namespaceOf(query) ?? backend.namespace;
  const request = await notebookFileSession(notebook, { ...choices, namespace });
  // The spec's own defaults and checks: a bad size is refused before anything starts.
  const wanted = notebookSessionSpec({ ...request, namespace });
  const start = async (onProgress?: (line: string) => void) => {
    if (attach) {
      const running = await backend.findNotebookSession(request.name, namespace);
      const sameSize = running && running.workers === wanted.workers && running.gpusPerWorker === wanted.gpusPerWorker;
      if (running?.phase === 'Running' && sameSize) return { ...running, attached: true };
    }
    return { ...(await backend.startNotebookSession(request, { onProgress })), attached: false };
  };
  if (!(req.headers.accept ?? '').includes('text/event-stream')) return sendJson(res, 201, await start());
  const stream = new SseStream(res);
  try {
    stream.send('result', await start((message) => stream.send('progress', { message })));
  } catch (err) {
    stream.send('error', errorBody(err));
  }
  stream.end();
}

/** A cell on every rank: its outputs as the presenter decides them (`output` events), then `outcome`. */
async function runSessionCell({ req, res, params, query, backend }: RequestContext): Promise<void> {
  const { code, allRanks } = parseCellRun(await readJson(req));
  const namespace = namespaceOf(query);
  const { info } = await backend.attachNotebookSession(params.name, namespace);
  const presenter = new CellPresenter(info.workers, { allRanks });
  const stream = new SseStream(res);
  try {
    for await (const event of backend.runCell(params.name, code, { signal: stream.signal, namespace })) {
      for (const output of presenter.present(event)) await stream.send('output', output);
    }
    stream.send('outcome', { status: presenter.outcome.status, summary: presenter.outcome.summary() });
  } catch (err) {
    stream.send('error', errorBody(err));
  }
  stream.end();
}

function promotionTarget(body: Record<string, unknown>): { to: string; profile?: string } {
  const to = optionalString(body, 'to');
  if (!to) throw new SkiffError('BAD_INPUT', 'say which context to promote to: {"to": "<kubeconfig context>"}');
  return { to, profile: optionalString(body, 'profile') };
}

/** A plan as JSON: everything but the code itself, and the digest a confirmation must name. */
function planSummary(plan: PromotionPlan, digest = planDigest(plan)) {
  return {
    job: plan.job,
    context: plan.context,
    namespace: plan.namespace,
    image: plan.image,
    baseImage: plan.baseImage,
    form: plan.form,
    changes: plan.changes,
    diff: plan.diff,
    digest,
  };
}

/**
 * Applies to a non-local context only with `confirm: true` and the digest of the plan the user was
 * shown: the plan is made again here, and applied only when it is still that plan.
 */
async function promoteJob({ req, res, params, backend }: RequestContext): Promise<void> {
  const body = objectBody(await readJson(req));
  const target = promotionTarget(body);
  const shown = optionalString(body, 'digest');
  if (body.confirm !== true || !shown) {
    throw new SkiffError('BAD_INPUT', `not applying to context '${target.to}' without a confirmation of the plan shown`, {
      hint: 'show the plan (POST …/promote/plan) to the user, then send {"confirm": true, "digest": "<the plan\'s digest>"}',
    });
  }
  const plan = await backend.planPromotion(params.name, target);
  // The digest hashes every code and package file: computed once, for the check and the answer.
  const digest = planDigest(plan);
  if (digest !== shown) {
    throw new SkiffError(
      'PLAN_CHANGED',
      `the plan for promoting ${params.name} to '${target.to}' changed after it was shown (the target's objects, the job's code or its packages); nothing was applied`,
      {
        hint: 'review the new plan (promote again) and confirm that one',
      },
    );
  }
  const stream = new SseStream(res);
  try {
    await backend.applyPromotion(plan, (message) => stream.send('progress', { message }));
    stream.send('result', planSummary(plan, digest));
  } catch (err) {
    stream.send('error', errorBody(err));
  }
  stream.end();
}

export function upRequest(input: unknown): UpRequest {
  const body = objectBody(input);
  const request: UpRequest = {};
  const name = optionalString(body, 'name');
  if (name !== undefined) request.name = name;
  const profile = optionalString(body, 'profile');
  if (profile !== undefined) request.profile = profile as UpRequest['profile'];
  if (body.recreate !== undefined) {
    if (typeof body.recreate !== 'boolean') throw new SkiffError('BAD_INPUT', 'recreate must be true or false');
    request.recreate = body.recreate;
  }
  const nodeImage = optionalString(body, 'nodeImage');
  if (nodeImage !== undefined) {
    // kind runs node images privileged: over the API only kind's own and Skiff's offline build.
    if (!/^(kindest\/node|skiff\.local\/node):[\w.-]+(@sha256:[0-9a-f]{64})?$/.test(nodeImage)) {
      throw new SkiffError('BAD_INPUT', `nodeImage must be a kindest/node or skiff.local/node image (got '${nodeImage}')`, {
        hint: 'other node images can be given to `skiff up --image` on the command line',
      });
    }
    request.nodeImage = nodeImage;
  }
  for (const key of ['workers', 'gpusPerNode'] as const) {
    const v = body[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new SkiffError('BAD_INPUT', `${key} must be a whole number ≥ 0`);
    request[key] = v;
  }
  return request;
}

// ---- what a request may reach on this machine --------------------------------------------------

/**
 * `folder` as a real path when it lies in one of `roots` (links resolved, so a link inside cannot
 * lead out); BAD_INPUT otherwise. A folder that does not exist is left for the caller to report.
 */
export async function confined(what: string, folder: string, roots: string[]): Promise<string> {
  if (!path.isAbsolute(folder)) throw new SkiffError('BAD_INPUT', `${what} must be an absolute path (got '${folder}')`);
  const real = await realpath(folder).catch(() => path.resolve(folder));
  if (roots.some((root) => isWithin(root, real))) return real;
  throw new SkiffError('BAD_INPUT', `${what} ${folder} is outside the folders this API serves (${roots.join(', ')})`, {
    hint: 'open the code from inside one of them, or start `skiff api` with --code-root for its folder',
  });
}

// ---- job submission -----------------------------------------------------------------------------

/**
 * POST /api/jobs: spec fields plus either `code.files` ({path, content: base64}[], e.g. a notebook
 * cell as one file) or `codeRoot` (a folder on this machine).
 */
export function submitRequest(input: unknown, namespace: string): { spec: JobSpec; code: CodeSource; from?: string } {
  const { code, codeRoot, from, ...fields } = objectBody(input);
  const spec = parseJobSpec({ namespace, ...fields });
  const source: CodeSource = {};
  if (code !== undefined) {
    const files = (code as { files?: unknown } | null)?.files;
    if (!Array.isArray(files)) throw new SkiffError('BAD_INPUT', 'code.files must be a list of {path, content} with base64 content');
    source.files = files.map(codeFile);
  }
  if (typeof codeRoot === 'string' && codeRoot) source.codeRoot = codeRoot;
  if (!source.files && !source.codeRoot)
    throw new SkiffError('BAD_INPUT', "send the code as code.files or name a folder on this machine as codeRoot (or both: a cell in its notebook's folder)");
  if (from !== undefined && (typeof from !== 'string' || !from)) throw new SkiffError('BAD_INPUT', 'from must be the name of an earlier job');
  return from ? { spec, code: source, from: from as string } : { spec, code: source };
}

function codeFile(entry: unknown, index: number): CodeFile {
  const { path, content } = (entry ?? {}) as { path?: unknown; content?: unknown };
  if (typeof path !== 'string' || !path || typeof content !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(content)) {
    throw new SkiffError('BAD_INPUT', `code.files[${index}] must be {path: string, content: base64 string}`);
  }
  return { path, content: Buffer.from(content, 'base64') };
}

// ---- event streams ------------------------------------------------------------------------------

/** Streams items as `event: <name>`; errors become `event: error`; always finishes with `event: end`. */
const PHASES: JobPhase[] = ['Pending', 'Running', 'Succeeded', 'Failed', 'Cancelled', 'Unknown'];

function phasesOf(query: URLSearchParams): JobPhase[] {
  const raw = query.get('until');
  if (!raw) return FINISHED_PHASES;
  const phases = raw.split(',').map((p) => p.trim());
  const unknown = phases.filter((p) => !PHASES.includes(p as JobPhase));
  if (unknown.length) throw new SkiffError('BAD_INPUT', `unknown job phase(s) in until: ${unknown.join(', ')}`, { hint: `use some of ${PHASES.join(', ')}` });
  return phases as JobPhase[];
}

/** Aborts once the client has closed its connection before the answer was sent. */
function untilClientGoes(res: ServerResponse): AbortSignal {
  const gone = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) gone.abort(new Error('the client closed the connection'));
  });
  return gone.signal;
}

async function streamEvents(res: ServerResponse, event: string, open: (signal: AbortSignal) => AsyncIterable<unknown>): Promise<void> {
  const stream = new SseStream(res);
  try {
    for await (const item of open(stream.signal)) {
      if (stream.signal.aborted) break;
      await stream.send(event, item);
    }
  } catch (err) {
    stream.send('error', errorBody(err));
  }
  stream.end();
}

// ---- JSON helpers -------------------------------------------------------------------------------

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpProblem(413, 'BAD_INPUT', `request body over ${MAX_BODY_BYTES / 1024 / 1024} MiB`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new SkiffError('BAD_INPUT', 'the request body is not valid JSON');
  }
}

function objectBody(input: unknown): Record<string, unknown> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new SkiffError('BAD_INPUT', 'the request body must be a JSON object');
  return input as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new SkiffError('BAD_INPUT', `${key} must be a string`);
  return v;
}

function stringRecord(v: unknown, key: string): Record<string, string> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw new SkiffError('BAD_INPUT', `${key} must be an object of strings`);
  }
  return v as Record<string, string>;
}

const flag = (query: URLSearchParams, key: string) => ['1', 'true', 'yes', ''].includes(query.get(key) ?? 'absent');
/** ?namespace=, validated as the CLI's -n is. */
export function namespaceOf(query: URLSearchParams): string | undefined {
  const value = query.get('namespace');
  return value ? parseNamespace(value) : undefined;
}

/** ?since=: an RFC 3339 time, as the kubelet takes it. */
export function sinceOf(query: URLSearchParams): string | undefined {
  const value = query.get('since');
  if (!value) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new SkiffError('BAD_INPUT', `since must be an RFC 3339 time such as 2026-12-01T10:00:00Z (got '${value}')`);
  }
  return value;
}

/** Metrics sampling: at most ten times a second (a tighter loop only loads the API server), at least hourly. */
export const MIN_INTERVAL_MS = 100;
export const MAX_INTERVAL_MS = 3_600_000;

export function intervalOf(query: URLSearchParams): number | undefined {
  const raw = query.get('intervalMs');
  if (raw === null || raw === '') return undefined;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) {
    throw new SkiffError('BAD_INPUT', `intervalMs must be a whole number from ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS} (got '${raw}')`);
  }
  return ms;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

// ---- errors -------------------------------------------------------------------------------------

/** Codes of the HTTP layer itself, beside SkiffError's. */
export type ApiErrorCode = ErrorCode | 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'INTERNAL';

export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string; hint?: string };
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  BAD_INPUT: 400,
  SCRIPT_NOT_FOUND: 400,
  JOB_NOT_FOUND: 404,
  NO_GPU: 409,
  IMAGE_MISSING: 409,
  JOB_FAILED: 409,
  NO_CLUSTER: 503,
  NO_DOCKER: 503,
  NO_KIND: 503,
  CLUSTER_GONE: 503,
  UNREACHABLE: 503,
  REGISTRY_FAILED: 502,
  FORBIDDEN: 403,
  COMMAND_FAILED: 500,
  TIMEOUT: 504,
  CLUSTER_OUTDATED: 409,
  PLAN_CHANGED: 409,
  DISK_FULL: 507,
  PACKAGES_FAILED: 400,
  SESSION_LOST: 410,
};

export function httpStatusFor(err: unknown): number {
  if (err instanceof HttpProblem) return err.status;
  const code = errorCodeOf(err);
  return code ? STATUS_BY_CODE[code] : 500;
}

export function errorBody(err: unknown): ApiErrorBody {
  const explained = explainKubeError(err);
  const code: ApiErrorCode = explained instanceof HttpProblem ? explained.code : (errorCodeOf(explained) ?? 'INTERNAL');
  const hint = explained instanceof SkiffError ? explained.hint : undefined;
  // describeError knows how to read Kubernetes API errors; keep its message, drop its prefixes.
  let message = describeError(explained).replace(/^error: /, '');
  if (hint) message = message.slice(0, message.length - `\nhint: ${hint}`.length);
  return { error: hint ? { code, message, hint } : { code, message } };
}

function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, httpStatusFor(explainKubeError(err)), errorBody(err));
}

function sendProblem(res: ServerResponse, status: number, code: ApiErrorCode, message: string, hint?: string): void {
  sendJson(res, status, { error: hint ? { code, message, hint } : { code, message } });
}
