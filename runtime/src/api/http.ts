// The API's HTTP plumbing: JSON bodies in and out, and every failure as `{error: {code, message,
// hint?}}` with the status its code stands for.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SkiffError, describeError, errorCodeOf, type ErrorCode } from '../errors.js';
import { explainKubeError } from '../k8s/client.js';

/** Request bodies carry code as base64; a full 900 KiB bundle fits with room to spare. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Codes of the HTTP layer itself, beside SkiffError's. */
export type ApiErrorCode = ErrorCode | 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'INTERNAL';

export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string; hint?: string };
}

/** A failure of the HTTP layer (no such session, a body too big), with its own status. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly hint?: string,
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
  ADDON_MISSING: 409,
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
  if (explained instanceof HttpProblem) return problemBody(explained.code, explained.message, explained.hint);
  const code: ApiErrorCode = errorCodeOf(explained) ?? 'INTERNAL';
  const hint = explained instanceof SkiffError ? explained.hint : undefined;
  // describeError knows how to read Kubernetes API errors; keep its message, drop its prefixes.
  let message = describeError(explained).replace(/^error: /, '');
  if (hint) message = message.slice(0, message.length - `\nhint: ${hint}`.length);
  return problemBody(code, message, hint);
}

function problemBody(code: ApiErrorCode, message: string, hint?: string): ApiErrorBody {
  return { error: hint ? { code, message, hint } : { code, message } };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, httpStatusFor(explainKubeError(err)), errorBody(err));
}

export function sendProblem(res: ServerResponse, status: number, code: ApiErrorCode, message: string, hint?: string): void {
  sendJson(res, status, problemBody(code, message, hint));
}

/** The body as JSON; an empty body is `{}`. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
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

/** Whether the client asked for server-sent events rather than JSON. */
export function wantsEventStream(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/event-stream');
}

/** Aborts once the client has closed its connection before the answer was sent. */
export function untilClientGoes(res: ServerResponse): AbortSignal {
  const gone = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) gone.abort(new Error('the client closed the connection'));
  });
  return gone.signal;
}
