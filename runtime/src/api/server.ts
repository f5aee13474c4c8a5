// A loopback HTTP API for editor extensions: the same operations as the CLI, JSON in and out, logs
// and metrics as server-sent events. Every request needs the bearer token the server was started
// with. The routes are contract.ts's; their handlers are in routes/.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import type { Clusters, UpRequest } from '../cluster/cluster.js';
import { parseNamespace } from '../spec/job-spec.js';
import { SkiffSession } from '../session.js';
import { isWithin } from '../workspace/layout.js';
import type { ApiBackend } from './backend.js';
import { routes } from './contract.js';
import { dispatch, type Confine, type Handlers } from './dispatch.js';
import { intervalMs, parseRequest, sinceTime } from './fields.js';
import { sendError, sendProblem } from './http.js';
import { clusterHandlers } from './routes/clusters.js';
import { jobHandlers } from './routes/jobs.js';
import { promotionHandlers } from './routes/promotion.js';
import { sessionHandlers } from './routes/sessions.js';

export type { ApiBackend } from './backend.js';
export { errorBody, httpStatusFor, type ApiErrorBody, type ApiErrorCode } from './http.js';
export { MAX_INTERVAL_MS, MIN_INTERVAL_MS } from './fields.js';
export { submitRequest } from './routes/jobs.js';

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

/**
 * How long an idle client connection stays open (Node's default is 5 s). A kernel sends a cell over
 * a kept-alive connection; one closed after a pause between cells would cost the next its connect
 * and accept, about a millisecond of a few-millisecond cell. Loopback connections cost nothing idle.
 */
export const KEEP_ALIVE_MS = 10 * 60_000;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Every route's handler; the type says when one is missing. */
const handlers: Handlers = { ...clusterHandlers, ...jobHandlers, ...promotionHandlers, ...sessionHandlers };

export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw new SkiffError('BAD_INPUT', `the API only listens on loopback addresses, not ${host}`, { hint: 'use 127.0.0.1 (the default)' });
  }
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const backend = opts.backend ?? new SkiffSession({ clusters: opts.clusters, clusterName: opts.clusterName, namespace: opts.namespace });
  const codeRoots = await Promise.all((opts.codeRoots ?? [homedir(), process.cwd()]).map((root) => realpath(path.resolve(root)).catch(() => path.resolve(root))));
  const server = createServer(apiHandler(backend, token, opts.remote, codeRoots));
  server.keepAliveTimeout = KEEP_ALIVE_MS;
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
  const confine: Confine = (what, folder) => confined(what, folder, codeRoots);
  return (req, res) => {
    void handle(req, res, expected, () => dispatch(req, res, handlers, { backendFor, confine })).catch((err) => sendError(res, err));
  };
}

/** Only requests addressed to a loopback host and bearing the token get to the routes. */
async function handle(req: IncomingMessage, res: ServerResponse, expectedToken: Buffer, route: () => Promise<void>): Promise<void> {
  // A web page on another origin could point a hostname at 127.0.0.1 (DNS rebinding); the Host header gives it away.
  const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  if (!isLoopbackHost(hostHeader)) return sendProblem(res, 403, 'FORBIDDEN', `requests must be addressed to a loopback host, not '${req.headers.host}'`);
  if (!authorized(req, expectedToken)) {
    res.setHeader('WWW-Authenticate', 'Bearer');
    return sendProblem(res, 401, 'UNAUTHORIZED', 'missing or wrong bearer token', 'send the token `skiff api` printed as "Authorization: Bearer <token>"');
  }
  await route();
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function authorized(req: IncomingMessage, expected: Buffer): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  // Comparing digests keeps the comparison constant-time whatever the length sent.
  return m !== null && timingSafeEqual(digest(m[1].trim()), expected);
}

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

// ---- single inputs, as the routes check them (for server.test; the routes use the contract) ----

/** POST /api/clusters/up's body as the route takes it. */
export function upRequest(input: unknown): UpRequest {
  return parseRequest(routes.clusterUp.body, input);
}

/** ?namespace=, validated as the CLI's -n is. */
export function namespaceOf(query: URLSearchParams): string | undefined {
  const value = query.get('namespace');
  return value ? parseNamespace(value) : undefined;
}

/** ?since=: an RFC 3339 time, as the kubelet takes it. */
export function sinceOf(query: URLSearchParams): string | undefined {
  return parseRequest(sinceTime, query.get('since') ?? undefined);
}

/** ?intervalMs=: how often metrics are sampled, within MIN_INTERVAL_MS and MAX_INTERVAL_MS. */
export function intervalOf(query: URLSearchParams): number | undefined {
  return parseRequest(intervalMs, query.get('intervalMs') ?? undefined);
}
