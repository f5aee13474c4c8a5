// What one route of the API contract (contract.ts) says, and the types read off it: the client
// builds its calls from these and the server types its handlers with them, so the two cannot drift.
// Browser-safe: no Node imports (the JupyterLab front end bundles the client).
import type { z } from 'zod';

export type Method = 'GET' | 'POST' | 'DELETE';

/** A stream's events by name, with their data. Every stream may also send `error` and ends with `end`. */
export type EventSchemas = Record<string, z.ZodTypeAny>;

export interface RouteSpec {
  method: Method;
  /** e.g. `/api/jobs/:name/logs`; each `:param` is one path segment holding a Kubernetes-style name. */
  path: string;
  query?: z.ZodTypeAny;
  body?: z.ZodTypeAny;
  /** The JSON answer; absent on a route that only streams. */
  response?: z.ZodTypeAny;
  /** The JSON answer's HTTP status, 200 when absent. */
  status?: number;
  /** The server-sent events it streams (always, or when the client asks for a stream if it also has a response). */
  events?: EventSchemas;
  /** Also serves the jobs of another kubeconfig context (`?context=`): the rest are for the local cluster only. */
  remote?: boolean;
}

/** The names of a path template's parameters: `/api/jobs/:name/logs` -> 'name'. */
type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}` ? Name | ParamNames<`/${Rest}`> : P extends `${string}:${infer Name}` ? Name : never;

export type PathParams<P extends string> = { [K in ParamNames<P>]: string };
export type ParamsOf<R extends RouteSpec> = PathParams<R['path']>;

/** What the server's handler gets (checked and converted by the route's schemas)... */
export type QueryOf<R extends RouteSpec> = R extends { query: infer S extends z.ZodTypeAny } ? z.output<S> : Record<string, never>;
export type BodyOf<R extends RouteSpec> = R extends { body: infer S extends z.ZodTypeAny } ? z.output<S> : undefined;
/** ...and what a client sends. */
export type QueryInput<R extends RouteSpec> = R extends { query: infer S extends z.ZodTypeAny } ? z.input<S> : never;
export type BodyInput<R extends RouteSpec> = R extends { body: infer S extends z.ZodTypeAny } ? z.input<S> : never;

/** The JSON answer as the server sends it and a client reads it. */
export type ResponseOf<R extends RouteSpec> = R extends { response: infer S extends z.ZodTypeAny } ? z.output<S> : never;
export type EventsOf<R extends RouteSpec> = R extends { events: infer E extends EventSchemas } ? E : Record<never, never>;
/** One event of a route's stream as a client reads it: its name and that event's data. */
export type StreamEventOf<R extends RouteSpec> = { [K in keyof EventsOf<R> & string]: { event: K; data: SchemaOutput<EventsOf<R>[K]> } }[keyof EventsOf<R> & string];

export type SchemaInput<S> = S extends z.ZodTypeAny ? z.input<S> : never;
export type SchemaOutput<S> = S extends z.ZodTypeAny ? z.output<S> : never;

/** A path parameter is a Kubernetes-style name: any other segment is no such endpoint (404), as a typo is. */
const PARAM_PATTERN = '([a-z0-9][-a-z0-9.]*)';
const compiled = new Map<string, { pattern: RegExp; names: string[] }>();

function compile(template: string): { pattern: RegExp; names: string[] } {
  let found = compiled.get(template);
  if (!found) {
    const names: string[] = [];
    const source = template
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(segment.slice(1));
        return PARAM_PATTERN;
      })
      .join('/');
    found = { pattern: new RegExp(`^${source}$`), names };
    compiled.set(template, found);
  }
  return found;
}

/** The parameters of `pathname` when it fits the template, undefined otherwise. */
export function matchPath(template: string, pathname: string): Record<string, string> | undefined {
  const { pattern, names } = compile(template);
  const match = pattern.exec(pathname);
  return match ? Object.fromEntries(names.map((name, i) => [name, match[i + 1]])) : undefined;
}

/** The path (and query) of a call to `route`: parameters encoded, absent query values left out. */
export function pathFor<R extends RouteSpec>(route: R, params: ParamsOf<R>, query?: QueryInput<R>): string {
  const values = params as Record<string, string>;
  const path = route.path.replace(/:([A-Za-z]\w*)/g, (_, name: string) => encodeURIComponent(values[name]));
  const entries = Object.entries((query ?? {}) as Record<string, unknown>).filter(([, value]) => value !== undefined);
  const search = new URLSearchParams(entries.map(([key, value]) => [key, String(value)])).toString();
  return search ? `${path}?${search}` : path;
}

/** A call's parts as the route's entry has them: its path parameters, query and body (required when it has one). */
export type CallParts<R extends RouteSpec> = ([keyof ParamsOf<R>] extends [never] ? { params?: undefined } : { params: ParamsOf<R> }) &
  ([QueryInput<R>] extends [never] ? { query?: undefined } : { query?: QueryInput<R> }) &
  ([BodyInput<R>] extends [never] ? { body?: undefined } : { body: BodyInput<R> });

/** The method, path (and query) and body of a call to `route`. */
export function requestFor<R extends RouteSpec>(route: R, parts: CallParts<R>): { method: Method; path: string; body: unknown } {
  return { method: route.method, path: pathFor(route, (parts.params ?? {}) as ParamsOf<R>, parts.query as QueryInput<R> | undefined), body: parts.body };
}
