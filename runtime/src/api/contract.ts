// The HTTP API, once: every route's method, path, query and body schemas, and its JSON answer or the
// events it streams. The server checks requests with these schemas (dispatch.ts) and types its
// handlers from them (routes/); the client (client.ts) builds its calls from them. Adding a route
// means an entry here and its handler, and the compiler asks for the handler.
//
// Answers are typed, not checked (z.custom): the server made them from its own types. The wire is
// what the Python clients and the JupyterLab front end speak: change a route or a payload
// incompatibly and bump API_VERSION (version.ts, at the bottom of the layers, so that the CLI and the
// front ends can read it; exported from here too).
//
// Browser-safe: zod and type imports only.
import { z } from 'zod';
import type { CellStatus, ClusterInfo, ClusterProfile, JobStatus, LogLine, MetricsSample, NotebookSessionInfo } from '../types.js';
import type { UpResult } from '../cluster/cluster.js';
import type { JobDescription } from '../jobs/status.js';
import type { CallResult } from '../jobs/call.js';
import type { RunRecord } from '../workspace/runs.js';
import type { CellOutput } from '../sessions/cell-output.js';
import type { RouteSpec } from './route.js';
import {
  callData,
  codeFiles,
  codeRoot,
  earlierJob,
  flag,
  intervalMs,
  isAbsolutePath,
  jsonObject,
  namespaceParam,
  nodeImage,
  optionalString,
  promotionContext,
  sinceTime,
  stringRecord,
  untilPhases,
  wholeNumber,
} from './fields.js';

export { API_VERSION } from '../version.js';

// ---- answers ------------------------------------------------------------------------------------

export interface Health {
  ok: boolean;
  version: string;
  /** The API_VERSION the server speaks: a client compares it with its own. */
  apiVersion: number;
  cluster: string;
  namespace: string;
}

/** Where POST /api/jobs/:name/outputs/copy puts a job's outputs inside the folder asked for: `<folder>/skiff-outputs/<job>/`. */
export const OUTPUTS_COPY_DIR = 'skiff-outputs';

/** A job's run folder as the API sends it. */
export interface JobOutputs {
  dir: string;
  files: string[];
  /** More files than listed. */
  truncated: boolean;
}

/** A promotion plan as the API sends it. */
export interface PromotionSummary {
  job: string;
  context: string;
  namespace: string;
  image: string;
  baseImage: string;
  /** kubernetes, kubeflow (a PyTorchJob) or kserve (an InferenceService). */
  form: 'kubernetes' | 'kubeflow' | 'kserve';
  changes: { kind: string; name: string; action: 'create' | 'update' | 'unchanged'; before: string; after: string }[];
  diff: string;
  /** Names this plan in the confirmation, so that only the plan the user saw is applied. */
  digest: string;
}

export interface PromotionTargets {
  contexts: string[];
  profiles: { name: string; file: string }[];
}

const progress = z.custom<{ message: string }>();
const namespaced = { namespace: namespaceParam };

// ---- request bodies -----------------------------------------------------------------------------

const upBody = jsonObject({
  name: optionalString,
  /** Checked with the cluster's other options (clusterOptions), as the CLI's --profile is. */
  profile: optionalString.transform((v) => v as ClusterProfile | undefined),
  recreate: z.boolean({ invalid_type_error: 'recreate must be true or false' }).optional(),
  nodeImage,
  workers: wholeNumber.optional(),
  gpusPerNode: wholeNumber.optional(),
  gpuSharing: wholeNumber.optional(),
  dra: z.boolean({ invalid_type_error: 'dra must be true or false' }).optional(),
  /** Add-ons to install (ADDONS), checked by the cluster as the CLI's --with is. */
  addons: z.array(z.string()).optional(),
});

/**
 * Spec fields (as parseJobSpec takes them, checked by the handler with the session's namespace)
 * plus the code: `code.files` (e.g. a notebook cell as one file), `codeRoot` (a folder on this
 * machine), or both (a cell in its notebook's folder).
 */
const submitBody = jsonObject({
  code: codeFiles.optional(),
  codeRoot,
  /** Read by JupyterLab's server extension, which sends the notebook's folder as codeRoot instead. */
  notebookPath: z.string().optional(),
  /** Start in the newest run folder of this earlier job. */
  from: earlierJob.optional(),
})
  .passthrough()
  .superRefine((body, ctx) => {
    if (body.code || body.codeRoot) return;
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: "send the code as code.files or name a folder on this machine as codeRoot (or both: a cell in its notebook's folder)" });
  });

const COPY_INTO = 'codeRoot must be the absolute path of a folder to copy the outputs into';
const copyOutputsBody = jsonObject({
  codeRoot: z.string({ errorMap: () => ({ message: COPY_INTO }) }).optional(),
  /** Read by JupyterLab's server extension, which sends the notebook's folder as codeRoot instead. */
  notebookPath: z.string().optional(),
}).transform(({ codeRoot }, ctx) => {
  if (codeRoot && isAbsolutePath(codeRoot)) return { codeRoot };
  ctx.addIssue({ code: z.ZodIssueCode.custom, message: COPY_INTO });
  return z.NEVER;
});

const promotionTarget = { to: promotionContext, profile: optionalString };

/** Applied to a non-local context only with the digest of the plan the user was shown. */
const promoteBody = jsonObject({ ...promotionTarget, confirm: z.custom<boolean>().optional(), digest: optionalString }).superRefine((body, ctx) => {
  if (body.confirm === true && body.digest) return;
  ctx.addIssue({
    code: z.ZodIssueCode.custom,
    message: `not applying to context '${body.to}' without a confirmation of the plan shown`,
    params: { hint: 'show the plan (POST …/promote/plan) to the user, then send {"confirm": true, "digest": "<the plan\'s digest>"}' },
  });
});

const callBody = jsonObject({ path: optionalString, method: optionalString, data: callData, headers: stringRecord.optional() });

// The notebook-session bodies, checked before anything starts. The numbers' ranges are the job
// spec's to judge (notebookSessionSpec validates them as for any job).
const sessionStartBody = z
  .object({
    notebook: z
      .string({ required_error: 'notebook is required: the absolute path of the .ipynb on this machine' })
      .refine(isAbsolutePath, 'notebook must be an absolute path on this machine'),
    name: z.string().min(1).optional(),
    workers: z.number().optional(),
    gpusPerWorker: z.number().optional(),
    /** A time-slice of one GPU per rank (above 0, at most 0.5), instead of whole GPUs. */
    gpuShare: z.number().optional(),
    idleMinutes: z.number().optional(),
    image: z.string().min(1).optional(),
    packages: z.array(z.string()).optional(),
    /** Reuse a running session of the same size instead of starting afresh (an editor reattaching). */
    attach: z.boolean().default(false),
  })
  .strict();

const cellRunBody = z.object({ code: z.string({ required_error: "code is required: the cell's source" }), allRanks: z.boolean().optional() }).strict();

const interruptBody = z.object({ graceMs: z.number().int().min(0).max(600_000).optional() }).strict();

type StartedSession = NotebookSessionInfo & { attached: boolean };

// ---- the routes, in the order they are matched --------------------------------------------------

export const routes = {
  health: { method: 'GET', path: '/api/health', response: z.custom<Health>() },

  // ---- clusters ----
  listClusters: { method: 'GET', path: '/api/clusters', response: z.custom<ClusterInfo[]>() },
  /** JSON, or progress events then `result` when the client asks for a stream. */
  clusterUp: { method: 'POST', path: '/api/clusters/up', body: upBody, response: z.custom<UpResult>(), events: { progress, result: z.custom<UpResult>() } },
  clusterDown: { method: 'POST', path: '/api/clusters/down', body: jsonObject({ name: optionalString }), response: z.custom<{ name: string; deleted: boolean }>() },

  // ---- jobs ----
  listJobs: { method: 'GET', path: '/api/jobs', remote: true, query: z.object(namespaced), response: z.custom<JobStatus[]>() },
  /** With the notices of the submission (what stayed behind, which packages were used), for the editor to show. */
  submitJob: { method: 'POST', path: '/api/jobs', query: z.object(namespaced), body: submitBody, status: 201, response: z.custom<JobStatus & { notices: string[] }>() },
  jobOutputs: { method: 'GET', path: '/api/jobs/:name/outputs', query: z.object(namespaced), response: z.custom<JobOutputs & { record: RunRecord }>() },
  /** Into `<codeRoot>/skiff-outputs/<job>/`: where an editor that shows only its own folder (JupyterLab) can open them. */
  copyJobOutputs: {
    method: 'POST',
    path: '/api/jobs/:name/outputs/copy',
    query: z.object(namespaced),
    body: copyOutputsBody,
    response: z.custom<{ dir: string; to: string }>(),
  },
  /** The job list now and after every change. */
  watchJobs: { method: 'GET', path: '/api/jobs/watch', remote: true, query: z.object(namespaced), events: { jobs: z.custom<JobStatus[]>() } },
  describeJob: { method: 'GET', path: '/api/jobs/:name', remote: true, query: z.object(namespaced), response: z.custom<JobDescription>() },
  cancelJob: { method: 'DELETE', path: '/api/jobs/:name', remote: true, query: z.object(namespaced), response: z.custom<{ name: string; cancelled: boolean }>() },

  // ---- promotion ----
  promotionTargets: { method: 'GET', path: '/api/promotion/targets', response: z.custom<PromotionTargets>() },
  /** The plan only: the target's dry run and the diff. Nothing is applied. */
  planPromotion: { method: 'POST', path: '/api/jobs/:name/promote/plan', body: jsonObject(promotionTarget), response: z.custom<PromotionSummary>() },
  /** The plan is made again and applied only when it is still the one confirmed (else 409 PLAN_CHANGED). */
  promoteJob: { method: 'POST', path: '/api/jobs/:name/promote', body: promoteBody, events: { progress, result: z.custom<PromotionSummary>() } },

  // ---- following a job ----
  /** The job's status at every change until it reaches one of `until` (default: finished). */
  waitForJob: { method: 'GET', path: '/api/jobs/:name/wait', remote: true, query: z.object({ ...namespaced, until: untilPhases }), events: { status: z.custom<JobStatus>() } },
  jobLogs: {
    method: 'GET',
    path: '/api/jobs/:name/logs',
    remote: true,
    query: z.object({ ...namespaced, follow: flag, since: sinceTime }),
    events: { log: z.custom<LogLine>() },
  },
  jobMetrics: {
    method: 'GET',
    path: '/api/jobs/:name/metrics',
    remote: true,
    query: z.object({ ...namespaced, follow: flag, intervalMs }),
    events: { metrics: z.custom<MetricsSample>() },
  },
  /** A request to a serving job's service. */
  callJob: { method: 'POST', path: '/api/jobs/:name/call', remote: true, query: z.object(namespaced), body: callBody, response: z.custom<CallResult>() },

  // ---- notebook sessions: what a kernel needs (the JupyterLab one is a client of these) ----
  /** Starts the session of a notebook on this machine, or with `attach` returns the running one of the same size. */
  startSession: {
    method: 'POST',
    path: '/api/sessions',
    query: z.object(namespaced),
    body: sessionStartBody,
    status: 201,
    response: z.custom<StartedSession>(),
    events: { progress, result: z.custom<StartedSession>() },
  },
  getSession: { method: 'GET', path: '/api/sessions/:name', query: z.object(namespaced), response: z.custom<NotebookSessionInfo>() },
  /** A cell on every rank: its outputs as presented (`output`), then `outcome`. */
  runCell: {
    method: 'POST',
    path: '/api/sessions/:name/cells',
    query: z.object(namespaced),
    body: cellRunBody,
    events: { output: z.custom<CellOutput>(), outcome: z.custom<{ status: CellStatus; summary: string }>() },
  },
  interruptSession: {
    method: 'POST',
    path: '/api/sessions/:name/interrupt',
    query: z.object(namespaced),
    body: interruptBody,
    response: z.custom<{ interrupted: number[]; killed: number[] }>(),
  },
  stopSession: { method: 'DELETE', path: '/api/sessions/:name', query: z.object(namespaced), response: z.custom<{ name: string; stopped: boolean }>() },
} as const satisfies Record<string, RouteSpec>;

export type Routes = typeof routes;
export type RouteName = keyof Routes;
