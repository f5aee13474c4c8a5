// The checks a request's fields get, as zod schemas the contract is made of, and the plain BAD_INPUT
// messages they answer with. Browser-safe: the rules that need Node (a namespace, a job spec) are
// spec/job-spec.ts's, applied on the server (see dispatch.ts and routes/jobs.ts).
import { z } from 'zod';
import { SkiffError } from '../errors.js';
import { FINISHED_PHASES } from '../jobs/follow-job.js';
import type { JobPhase } from '../types.js';

/**
 * The request as `schema` takes it, or BAD_INPUT on its first problem. Messages written here name
 * their field; zod's own ("Required") get it put in front. A custom issue's `params.hint` is the hint.
 */
export function parseRequest<S extends z.ZodTypeAny>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.join('.');
  const message =
    issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : field && !issue.message.includes(field) ? `${field}: ${issue.message}` : issue.message;
  const hint = issue.code === 'custom' ? (issue.params?.hint as string | undefined) : undefined;
  throw new SkiffError('BAD_INPUT', message, hint ? { hint } : {});
}

/** Every problem of the field it is given to reads "<field> must be <what>". */
const mustBe = (what: string): z.RawCreateParams => ({ errorMap: (issue) => ({ message: `${issue.path.join('.')} must be ${what}` }) });

/** A JSON object; fields it does not name are dropped (the notebook-session routes' bodies are `.strict()`). */
export const jsonObject = <T extends z.ZodRawShape>(shape: T) => z.object(shape, { invalid_type_error: 'the request body must be a JSON object' });

/** A string or nothing; null counts as absent, as clients that send every key write it. */
export const optionalString = z
  .string(mustBe('a string'))
  .nullish()
  .transform((v) => v ?? undefined);

export const wholeNumber = z.number(mustBe('a whole number ≥ 0')).int().min(0);

/** Node's path.isAbsolute without Node: Windows forms count only on a Windows server, as they do there. */
export function isAbsolutePath(p: string): boolean {
  const onWindows = typeof process !== 'undefined' && process.platform === 'win32';
  return p.startsWith('/') || (onWindows && /^([A-Za-z]:)?[\\/]/.test(p));
}

// ---- cluster ------------------------------------------------------------------------------------

/** kind runs node images privileged: over the API only kind's own and Skiff's offline build. */
const NODE_IMAGE = /^(kindest\/node|skiff\.local\/node):[\w.-]+(@sha256:[0-9a-f]{64})?$/;

export const nodeImage = optionalString.superRefine((image, ctx) => {
  if (image === undefined || NODE_IMAGE.test(image)) return;
  ctx.addIssue({
    code: z.ZodIssueCode.custom,
    message: `nodeImage must be a kindest/node or skiff.local/node image (got '${image}')`,
    params: { hint: 'other node images can be given to `skiff up --image` on the command line' },
  });
});

// ---- job submission -----------------------------------------------------------------------------

const CODE_FILES = 'code.files must be a list of {path, content} with base64 content';
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

export interface WireCodeFile {
  /** Relative to the code root. */
  path: string;
  /** Base64: code is bytes, and JSON strings are not. */
  content: string;
}

const isWireCodeFile = (entry: unknown): entry is WireCodeFile => {
  const { path, content } = (entry ?? {}) as { path?: unknown; content?: unknown };
  return typeof path === 'string' && path !== '' && typeof content === 'string' && BASE64.test(content);
};

/** `code` of POST /api/jobs; each entry is checked here so that the message can say which one. */
export const codeFiles = z.object(
  {
    files: z.array(z.custom<WireCodeFile>(), { errorMap: () => ({ message: CODE_FILES }) }).superRefine((files, ctx) => {
      const bad = files.findIndex((entry) => !isWireCodeFile(entry));
      if (bad >= 0) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `code.files[${bad}] must be {path: string, content: base64 string}` });
    }),
  },
  { errorMap: () => ({ message: CODE_FILES }) },
);

/** A folder on the server's machine; an empty one is none. */
export const codeRoot = optionalString.transform((v) => v || undefined);

export const earlierJob = z.string(mustBe('the name of an earlier job')).min(1);

// ---- promotion ----------------------------------------------------------------------------------

export const promotionContext = z
  .string(mustBe('a string'))
  .nullish()
  .transform((to, ctx) => {
    if (to) return to;
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'say which context to promote to: {"to": "<kubeconfig context>"}' });
    return z.NEVER;
  });

// ---- calls --------------------------------------------------------------------------------------

/** What goes to the service: a string as it is, anything else as its JSON. */
export const callData = z.unknown().transform((data) => (data === undefined ? undefined : typeof data === 'string' ? data : JSON.stringify(data)));

export const stringRecord = z.custom<Record<string, string>>(
  (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string'),
  'headers must be an object of strings',
);

// ---- query parameters: strings from the URL -----------------------------------------------------

/** `?follow`, `?follow=1`, `=true` or `=yes`: on; absent or anything else: off. */
export const flag = z
  .string()
  .optional()
  .transform((v) => v !== undefined && ['1', 'true', 'yes', ''].includes(v));

/** ?namespace=; empty is none. Its rule (a DNS label) is the job spec's, applied by the server's dispatcher. */
export const namespaceParam = z
  .string()
  .optional()
  .transform((v) => v || undefined);

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** ?since=: an RFC 3339 time, as the kubelet takes it. */
export const sinceTime = z
  .string()
  .optional()
  .transform((since, ctx) => {
    if (!since) return undefined;
    if (RFC3339.test(since) && !Number.isNaN(Date.parse(since))) return since;
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `since must be an RFC 3339 time such as 2026-12-01T10:00:00Z (got '${since}')` });
    return z.NEVER;
  });

/** Metrics sampling: at most ten times a second (a tighter loop only loads the API server), at least hourly. */
export const MIN_INTERVAL_MS = 100;
export const MAX_INTERVAL_MS = 3_600_000;

export const intervalMs = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw === '') return undefined;
    const ms = Number(raw);
    if (Number.isInteger(ms) && ms >= MIN_INTERVAL_MS && ms <= MAX_INTERVAL_MS) return ms;
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `intervalMs must be a whole number from ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS} (got '${raw}')` });
    return z.NEVER;
  });

export const JOB_PHASES: JobPhase[] = ['Queued', 'Pending', 'Running', 'Succeeded', 'Failed', 'Cancelled', 'Unknown'];

/** ?until=Succeeded,Failed: the phases a wait ends at; finished ones when absent. */
export const untilPhases = z
  .string()
  .optional()
  .transform((raw, ctx): JobPhase[] => {
    if (!raw) return FINISHED_PHASES;
    const phases = raw.split(',').map((p) => p.trim());
    const unknown = phases.filter((p) => !JOB_PHASES.includes(p as JobPhase));
    if (!unknown.length) return phases as JobPhase[];
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `unknown job phase(s) in until: ${unknown.join(', ')}`,
      params: { hint: `use some of ${JOB_PHASES.join(', ')}` },
    });
    return z.NEVER;
  });
