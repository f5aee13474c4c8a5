// Routing by the contract: the route whose path template and method fit the request, its query and
// body checked and converted by the contract's schemas, then its handler, typed from the same entry;
// what the handler answers goes out as JSON or as server-sent events.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { parseNamespace } from '../spec/job-spec.js';
import type { ApiBackend } from './backend.js';
import { routes, type RouteName, type Routes } from './contract.js';
import { parseRequest } from './fields.js';
import { errorBody, readJson, sendJson, sendProblem, untilClientGoes, wantsEventStream } from './http.js';
import { matchPath, type BodyOf, type EventSchemas, type EventsOf, type ParamsOf, type QueryOf, type RouteSpec, type SchemaInput } from './route.js';
import { SseStream } from './sse.js';

/** Refuses a path outside the folders this API serves (see ApiServerOptions.codeRoots). */
export type Confine = (what: string, folder: string) => Promise<string>;

export interface RouteRequest<R extends RouteSpec> {
  params: ParamsOf<R>;
  query: QueryOf<R>;
  body: BodyOf<R>;
}

export type SendEvent<E extends EventSchemas> = <K extends keyof E & string>(event: K, data: z.input<E[K]>) => Promise<void>;

/** An answer as a stream of events: what a handler returns to stream instead of answering JSON. */
export class StreamReply {
  constructor(readonly produce: (send: (event: string, data: unknown) => Promise<void>, signal: AbortSignal) => Promise<void>) {}
}

export interface HandlerContext<R extends RouteSpec> {
  /** The session of the local cluster, or of the context `?context=` names (remote routes only). */
  backend: ApiBackend;
  confine: Confine;
  /** The client asked for server-sent events (Accept: text/event-stream). */
  wantsStream: boolean;
  /** Aborts when the client closes its connection before the answer. */
  untilClientGoes(): AbortSignal;
  /**
   * Streams the route's events. Whatever fails before this is called is answered as JSON with
   * its status; what fails in `produce` becomes an `error` event. Every stream ends with `end`.
   */
  stream(produce: (send: SendEvent<EventsOf<R>>, signal: AbortSignal) => Promise<void>): StreamReply;
  /** Streams each item of `open` as one `event`, at the client's pace, until it is done or the client goes. */
  items<K extends keyof EventsOf<R> & string>(event: K, open: (signal: AbortSignal) => AsyncIterable<SchemaInput<EventsOf<R>[K]>>): StreamReply;
}

type JsonReply<R extends RouteSpec> = R extends { response: infer S extends z.ZodTypeAny } ? z.input<S> : never;
type Reply<R extends RouteSpec> = JsonReply<R> | (R extends { events: EventSchemas } ? StreamReply : never);

export type RouteHandler<R extends RouteSpec> = (request: RouteRequest<R>, ctx: HandlerContext<R>) => Promise<Reply<R>>;

/** A handler for every route of the contract: a route without one does not compile. */
export type Handlers = { [K in RouteName]: RouteHandler<Routes[K]> };

export interface DispatchEnv {
  backendFor(context: string | null): ApiBackend;
  confine: Confine;
}

type AnyHandler = (request: RouteRequest<RouteSpec>, ctx: HandlerContext<RouteSpec>) => Promise<unknown>;
const ROUTES = Object.entries(routes) as [RouteName, RouteSpec][];

export async function dispatch(req: IncomingMessage, res: ServerResponse, handlers: Handlers, env: DispatchEnv): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const matching = ROUTES.filter(([, route]) => matchPath(route.path, url.pathname));
  if (matching.length === 0) return sendProblem(res, 404, 'NOT_FOUND', `no such endpoint: ${url.pathname}`);
  const found = matching.find(([, route]) => route.method === req.method);
  if (!found) {
    res.setHeader('Allow', [...new Set(matching.map(([, route]) => route.method))].join(', '));
    return sendProblem(res, 405, 'METHOD_NOT_ALLOWED', `${req.method} is not supported on ${url.pathname}`);
  }
  const [name, route] = found;
  const context = url.searchParams.get('context');
  if (context && !route.remote) return sendProblem(res, 400, 'BAD_INPUT', `${req.method} ${url.pathname} is for the local cluster only, not for context '${context}'`);

  const request = {
    params: matchPath(route.path, url.pathname)!,
    query: route.query ? parseQuery(route.query, url.searchParams) : {},
    body: route.body ? parseRequest(route.body, await readJson(req)) : undefined,
  } as RouteRequest<RouteSpec>;
  const reply = await (handlers[name] as AnyHandler)(request, {
    backend: env.backendFor(context),
    confine: env.confine,
    wantsStream: wantsEventStream(req),
    untilClientGoes: () => untilClientGoes(res),
    stream: (produce) => new StreamReply(produce as StreamReply['produce']),
    items: (event, open) =>
      new StreamReply(async (send, signal) => {
        for await (const item of open(signal)) {
          if (signal.aborted) break;
          await send(event, item);
        }
      }),
  });
  if (reply instanceof StreamReply) await streamReply(res, reply);
  else sendJson(res, route.status ?? 200, reply);
}

/** The query as its schema takes it (a repeated key counts once, its first value), the namespace rule applied. */
function parseQuery(schema: z.ZodTypeAny, search: URLSearchParams): Record<string, unknown> {
  const raw: Record<string, string> = {};
  for (const [key, value] of search) raw[key] ??= value;
  const query = parseRequest(schema, raw) as Record<string, unknown>;
  // A DNS label as the CLI's -n takes it: the rule lives with the job spec, which needs Node.
  if (typeof query.namespace === 'string') query.namespace = parseNamespace(query.namespace);
  return query;
}

async function streamReply(res: ServerResponse, reply: StreamReply): Promise<void> {
  const stream = new SseStream(res);
  try {
    await reply.produce((event, data) => stream.send(event, data), stream.signal);
  } catch (err) {
    stream.send('error', errorBody(err));
  }
  stream.end();
}
