// Talking to one rank's agent (runtime/python/skiff/agent.py). On a cluster the link goes through
// the API server's pod proxy: no port-forward to set up and tear down per rank, and the same
// credentials as every other call. A cell's events arrive as newline-delimited JSON in a chunked
// response, which the proxy passes on as each chunk comes.
//
// The proxied streams ride the pooled keep-alive connections (a fresh TLS connection per cell cost
// ~20 ms of a ~30 ms warm cell). On those, about one stream in twelve was cut (the API server logs
// "ReverseProxy read error during body copy: use of closed network connection"), taking the
// connection with it, while the agent wrote its headers apart from the first events and its last
// events apart from the stream's end; it writes them together now (none in 600 warm cells), but a
// quiet cell still sends its headers alone, so a cut stream is asked for again from its last
// event: the agent keeps the cell's events and replays them under the cell's id.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { SkiffError } from '../errors.js';
import type { AgentEvent } from '../types.js';
import { kubeResponseStream } from '../k8s/client.js';
import { newlineSeparated } from '../k8s/lines.js';
import { AGENT_PORT } from '../manifests/code-bundle.js';

export interface AgentRequest {
  method: 'GET' | 'POST';
  path: '/health' | '/execute' | '/interrupt';
  body?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** How requests reach one agent. */
export interface AgentLink {
  open(req: AgentRequest): Promise<http.IncomingMessage>;
}

/** An agent in a pod, through the API server's proxy. */
export function podAgentLink(kc: KubeConfig, namespace: string, pod: string): AgentLink {
  const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}:${AGENT_PORT}/proxy`;
  return {
    open: (req) =>
      kubeResponseStream(kc, {
        method: req.method,
        path: base + req.path,
        body: req.body,
        signal: req.signal,
        timeoutMs: req.timeoutMs,
        headers: req.body ? { 'Content-Type': 'application/json' } : {},
      }),
  };
}

/** An agent listening on a plain HTTP address (one started on this machine). */
export function httpAgentLink(baseUrl: string): AgentLink {
  const agent = new http.Agent({ keepAlive: true });
  return {
    open: (req) =>
      new Promise((resolve, reject) => {
        const request = http.request(
          new URL(req.path, baseUrl),
          { method: req.method, agent, signal: req.signal, timeout: req.timeoutMs, headers: req.body ? { 'Content-Type': 'application/json' } : {} },
          resolve,
        );
        request.on('timeout', () => request.destroy(new SkiffError('TIMEOUT', `the agent at ${baseUrl} did not answer within ${req.timeoutMs} ms`)));
        request.on('error', reject);
        request.end(req.body);
      }),
  };
}

const mimeBundle = z.record(z.string(), z.unknown());
const agentEvent: z.ZodType<AgentEvent> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stream'), name: z.enum(['stdout', 'stderr']), text: z.string() }),
  z.object({ type: z.literal('display'), data: mimeBundle }),
  z.object({ type: z.literal('result'), data: mimeBundle, count: z.number() }),
  z.object({ type: z.literal('error'), ename: z.string(), evalue: z.string(), traceback: z.string() }),
  z.object({ type: z.literal('done'), status: z.enum(['ok', 'error', 'interrupted']), count: z.number() }),
]);
const healthSchema = z.object({ rank: z.number(), world: z.number(), busy: z.boolean(), count: z.number() });
export type AgentHealth = z.infer<typeof healthSchema>;

/** The stream ended before the cell's done event: the rank's process or pod went away mid-cell. */
export class AgentLostError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentLostError';
  }
}

async function readAll(res: http.IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of res) text += chunk;
  return text;
}

/** A non-200 answer in words: the agent's own error, or the proxy's when the pod cannot be reached. */
async function refused(res: http.IncomingMessage, what: string): Promise<Error> {
  const text = await readAll(res).catch(() => '');
  let message = text.trim().slice(0, 300);
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    message = String(body.error ?? body.message ?? message);
  } catch {
    // not JSON: keep the text
  }
  if (res.statusCode === 409) return new SkiffError('BAD_INPUT', message, { hint: 'wait for the running cell, or interrupt it' });
  return new AgentLostError(`${what} answered HTTP ${res.statusCode}: ${message || '(no body)'}`);
}

export async function agentHealth(link: AgentLink, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<AgentHealth> {
  const res = await link.open({ method: 'GET', path: '/health', signal: opts.signal, timeoutMs: opts.timeoutMs ?? 10_000 });
  if (res.statusCode !== 200) throw await refused(res, 'the agent');
  return healthSchema.parse(JSON.parse(await readAll(res)));
}

/** Sends SIGINT to the running cell; false when nothing was running. */
export async function interruptAgent(link: AgentLink): Promise<boolean> {
  const res = await link.open({ method: 'POST', path: '/interrupt', body: '{}', timeoutMs: 10_000 });
  if (res.statusCode !== 200) throw await refused(res, 'the agent');
  return (JSON.parse(await readAll(res)) as { interrupted: boolean }).interrupted === true;
}

/** Times a cut cell stream is asked for again before the rank counts as lost. */
const RESUMES = 3;

/** What a rank runs: the cell's code, after putting `paths` (package sets added live) on its sys.path. */
export interface AgentCell {
  code: string;
  paths?: string[];
}

/**
 * Runs a cell on one agent: its events as they arrive, ending with `done`. A stream cut on its way
 * is asked for again from the last event read (the agent replays it, running nothing twice); one
 * that cannot be had again throws AgentLostError.
 */
export async function* executeOnAgent(link: AgentLink, cell: AgentCell | string, signal?: AbortSignal): AsyncGenerator<AgentEvent> {
  const { code, paths } = typeof cell === 'string' ? { code: cell, paths: undefined } : cell;
  const id = randomUUID();
  let next = 0;
  let cut: Error | undefined;
  for (let attempt = 0; attempt <= RESUMES; attempt++) {
    let res: http.IncomingMessage;
    try {
      res = await link.open({ method: 'POST', path: '/execute', body: JSON.stringify({ code, id, from: next, ...(paths?.length ? { paths } : {}) }), signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      const broke = cut ? `the agent's stream broke (${cut.message}) and ` : '';
      throw new AgentLostError(`${broke}cannot reach the agent: ${(err as Error).message}`, { cause: err });
    }
    if (res.statusCode !== 200) throw await refused(res, 'the agent');
    // The response is read to its end, done event included: leaving early would destroy the
    // connection before its last chunk, and the API server would drop its connection to the pod too.
    let done: AgentEvent | undefined;
    try {
      for await (const line of newlineSeparated(res, { unterminatedTail: false })) {
        if (!line.trim() || done) continue;
        const { next: after, ...fields } = JSON.parse(line) as { next?: unknown };
        const event = agentEvent.parse(fields);
        if (typeof after === 'number') next = after;
        if (event.type === 'done') done = event;
        else yield event;
      }
    } catch (err) {
      if (signal?.aborted || err instanceof z.ZodError || err instanceof SyntaxError) throw err;
      cut = err as Error;
    } finally {
      if (!res.complete) res.destroy();
    }
    if (done) {
      yield done;
      return;
    }
    cut ??= new Error('it ended before the cell finished');
  }
  throw new AgentLostError(`the agent's stream broke: ${cut?.message}`, { cause: cut });
}
