// API clients for one KubeConfig, server-side apply, and raw requests for the paths the typed
// clients cannot express (node and service proxies with arbitrary bodies).
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import {
  KubeConfig,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  NodeV1Api,
  PatchStrategy,
  type KubernetesObject,
  type V1DeleteOptions,
} from '@kubernetes/client-node';
import { SkiffError } from '../errors.js';

/** Owner of every field Skiff applies; a resubmit takes over its own fields and nobody else's. */
export const FIELD_MANAGER = 'skiff';

export interface KubeClients {
  kc: KubeConfig;
  core: CoreV1Api;
  batch: BatchV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
  node: NodeV1Api;
  objects: ObjectApi;
}

export function kubeClients(kc: KubeConfig): KubeClients {
  const pooled = withPooledConnections(kc);
  return {
    kc,
    core: pooled.makeApiClient(CoreV1Api),
    batch: pooled.makeApiClient(BatchV1Api),
    apps: pooled.makeApiClient(AppsV1Api),
    custom: pooled.makeApiClient(CustomObjectsApi),
    node: pooled.makeApiClient(NodeV1Api),
    objects: ObjectApi.forConfig(pooled),
  };
}

/**
 * client-node 1.x gives every request a new https.Agent, so each call pays a TCP and TLS handshake
 * (~20 ms here; a job submit makes a dozen calls, a follow one per change). The returned view of
 * `kc` authenticates requests exactly as `kc` does, then hands them one keep-alive agent per
 * KubeConfig, shared by all the clients, watches, log streams and raw requests made from it.
 * Proxy agents are left alone.
 */
export function withPooledConnections(kc: KubeConfig): KubeConfig {
  const pooled = Object.create(kc) as KubeConfig;
  const pool = (agent: unknown) => (agent?.constructor === https.Agent ? pooledAgent(kc, agent as https.Agent) : undefined);
  // The typed API clients authenticate through this one...
  pooled.applySecurityAuthentication = async (context) => {
    await kc.applySecurityAuthentication(context);
    const agent = pool(context.getAgent());
    if (agent) context.setAgent(agent);
  };
  // ...and everything else through this one: kubeRequest directly, Watch and Log through the
  // inherited applyToFetchOptions, which calls it on the view.
  pooled.applyToHTTPSOptions = async (opts) => {
    await kc.applyToHTTPSOptions(opts);
    opts.agent = pool(opts.agent) ?? opts.agent;
  };
  return pooled;
}

const pooledAgents = new WeakMap<KubeConfig, https.Agent>();
const IDLE_SOCKET_MS = 30_000;

/** How long a plain API call may wait for its answer: a hung API server must not hang Skiff. */
export const API_CALL_TIMEOUT_MS = 30_000;
/** Requests that stay open by design, each with its own limits: watches, follows, streams, proxies. */
const LONG_REQUEST = /[?&](watch|follow)=(true|1)(&|$)|\/(exec|attach|portforward|proxy)(\/|\?|$)/;

/**
 * The pooled agent. client-node's fetch takes no timeout or signal, so the limit on plain calls
 * is set here, on each request the agent is handed: no answer (no byte) within the limit ends
 * the call with ETIMEDOUT, which reads as "cannot reach the API server" like any network failure.
 */
export class ApiCallAgent extends https.Agent {
  callTimeoutMs = API_CALL_TIMEOUT_MS;

  // Node's (documented since v0.x, untyped) hook for every request given to an agent.
  addRequest(req: http.ClientRequest, options: http.RequestOptions): void {
    const target = `${options.method ?? 'GET'} ${(options.path ?? '').split('?')[0]}`;
    if (!LONG_REQUEST.test(options.path ?? '')) {
      req.setTimeout(this.callTimeoutMs, () => {
        const err = Object.assign(new Error(`no answer to ${target} within ${this.callTimeoutMs / 1000} s`), { code: 'ETIMEDOUT' });
        req.destroy(err);
      });
    }
    (https.Agent.prototype as unknown as { addRequest(r: http.ClientRequest, o: http.RequestOptions): void }).addRequest.call(this, req, options);
  }
}

function pooledAgent(kc: KubeConfig, fresh: https.Agent): https.Agent {
  let agent = pooledAgents.get(kc);
  if (!agent) {
    // The fresh agent carries this cluster's CA, client certificate and TLS settings. Idle sockets
    // close well before the API server's own idle timeout (90 s), so a request never picks up a
    // connection the server is closing (that would read as ECONNRESET: "cluster gone").
    // One TLS context for all of them: given only the PEM options, Node parses the key and the
    // certificates again for every connection (~3 ms of CPU each, a dozen per submit).
    const { ca, cert, key, pfx, passphrase } = fresh.options;
    const secureContext = tls.createSecureContext({ ca, cert, key, pfx, passphrase });
    agent = new ApiCallAgent({ ...fresh.options, secureContext, keepAlive: true, timeout: IDLE_SOCKET_MS });
    pooledAgents.set(kc, agent);
  }
  return agent;
}

/** client-node's generic object client, able to learn the API resources of several objects at once. */
export class ObjectApi extends KubernetesObjectApi {
  static forConfig(kc: KubeConfig): ObjectApi {
    const client = kc.makeApiClient(ObjectApi);
    client.setDefaultNamespace(kc);
    return client;
  }

  /**
   * Each object call first looks up its kind in the API's resource list (one request per API
   * version, cached after). Concurrent calls would each send it; fetching them up front, in
   * parallel with other work, takes those lookups off the path of the calls.
   */
  async learnResources(objects: KubernetesObject[]): Promise<void> {
    const oneKindPerVersion = new Map(objects.map((o) => [o.apiVersion!, o.kind!]));
    await Promise.all([...oneKindPerVersion].map(([apiVersion, kind]) => this.resource(apiVersion, kind)));
  }
}

/** Server-side apply: creates or updates the object, forcing ownership of the fields Skiff sets. */
export function applyObject<T extends KubernetesObject>(objects: KubernetesObjectApi, obj: T): Promise<T> {
  return objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
}

/** HTTP status of a client-node ApiException (undefined for network errors). */
export function apiStatusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (err: unknown) => apiStatusOf(err) === 404;

/** Runs a read and turns 404 into undefined. */
export async function orUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Runs a delete and ignores 404; true when something was deleted. */
export async function deleteIfPresent(remove: Promise<unknown>): Promise<boolean> {
  return (await orUndefined(remove.then(() => true))) ?? false;
}

/**
 * DeleteOptions for an object read (or listed) just before: the uid precondition makes the delete
 * fail rather than remove an object that was replaced in between (e.g. by a resubmit).
 */
export function deleteOptionsFor(obj: { metadata?: { uid?: string } }, propagationPolicy?: 'Foreground' | 'Background'): V1DeleteOptions {
  return { preconditions: { uid: obj.metadata?.uid }, ...(propagationPolicy ? { propagationPolicy } : {}) };
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE']);

/** Whether the error, or one it wraps (`cause`), carries one of these system codes (ECONNRESET…). */
export function hasErrorCode(err: unknown, codes: ReadonlySet<string>): boolean {
  for (let e = err as { code?: unknown; errno?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && codes.has(e.code)) return true;
    if (typeof e.errno === 'string' && codes.has(e.errno)) return true;
  }
  return false;
}

/** Network failures reaching the API server mean the kind cluster (its container) is gone or stopped. */
export function isConnectionError(err: unknown): boolean {
  return hasErrorCode(err, CONNECTION_ERRORS);
}

/**
 * What failed, without the request's URL (label selectors and all) that the fetch error leads
 * with: "connect ECONNREFUSED 127.0.0.1:42871" rather than "request to https://…?labelSelector=…
 * failed, reason: connect ECONNREFUSED 127.0.0.1:42871". The details channel keeps the whole error.
 */
export function connectionFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^request to \S+ failed, reason: /, '');
}

/** What a client talks to: a local cluster Skiff made, or another kubeconfig context (where a job was promoted). */
export type KubeTarget = { cluster: string } | { context: string };

/** The target in a message's words: "cluster 'skiff'", "context 'prod'". */
export function targetPhrase(target: KubeTarget): string {
  return 'cluster' in target ? `cluster '${target.cluster}'` : `context '${target.context}'`;
}

/** The API server a kubeconfig reaches, in a message's words, when nothing more is known: its context. */
export function contextPhrase(kc: KubeConfig): string {
  return targetPhrase({ context: kc.getCurrentContext() });
}

/** Unclassified errors from talking to the cluster, in the words `describeError` prints. */
export function explainKubeError(err: unknown, target?: KubeTarget): unknown {
  if (err instanceof SkiffError || !isConnectionError(err)) return err;
  const which = target ? targetPhrase(target) : 'the cluster';
  const hint = !target
    ? 'is it still running? check with `skiff status`, or recreate it with `skiff up`'
    : 'cluster' in target
      ? `is it still running? check with \`skiff status\`, or recreate it with \`skiff up --name ${target.cluster}\``
      : `is that cluster up, and are its credentials current? check with \`kubectl --context ${target.context} cluster-info\``;
  return new SkiffError('CLUSTER_GONE', `cannot reach the API server of ${which}: ${connectionFailure(err)}`, { hint, cause: err });
}

export interface KubeRequest {
  method?: string;
  /** Path and query below the API server root, e.g. /api/v1/nodes/n1/proxy/stats/summary. */
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Without it the request may take as long as it needs: a stream can rightly stay silent for minutes. */
  timeoutMs?: number;
}

export interface KubeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request with the KubeConfig's TLS material and credentials (client-node puts both on the agent/headers). */
export async function kubeRequest(kc: KubeConfig, req: KubeRequest): Promise<KubeResponse> {
  const res = await kubeResponseStream(kc, req);
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
}

/** The same request, answered as a stream: read it as its body arrives (a proxied pod's chunked events). */
export async function kubeResponseStream(kc: KubeConfig, req: KubeRequest): Promise<http.IncomingMessage> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new SkiffError('NO_CLUSTER', 'the kubeconfig has no current cluster', { hint: 'run `skiff up`' });
  const url = new URL(cluster.server.replace(/\/+$/, '') + req.path);
  const options: https.RequestOptions = { method: req.method ?? 'GET', headers: { Accept: '*/*', ...req.headers } };
  await withPooledConnections(kc).applyToHTTPSOptions(options);
  const send = url.protocol === 'http:' ? http.request : https.request;
  return new Promise<http.IncomingMessage>((resolve, reject) => {
    const request = send(url, { ...options, signal: req.signal, timeout: req.timeoutMs }, resolve);
    // A pooled socket carries the pool's idle timeout, which is not this request's limit.
    if (req.timeoutMs === undefined) request.setTimeout(0);
    request.on('timeout', () => request.destroy(new SkiffError('TIMEOUT', `no answer from the API server for ${req.path} within ${req.timeoutMs} ms`)));
    request.on('error', reject);
    request.end(req.body);
  });
}

/** A context of the default kubeconfig (or of `file`); an unknown context is bad input, naming the known ones. */
export function kubeConfigForContext(context: string, file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  if (!kc.getContextObject(context)) {
    throw new SkiffError('BAD_INPUT', `no context '${context}' in the kubeconfig`, {
      hint: `known contexts: ${
        kc
          .getContexts()
          .map((c) => c.name)
          .join(', ') || '(none)'
      }`,
    });
  }
  kc.setCurrentContext(context);
  return kc;
}
