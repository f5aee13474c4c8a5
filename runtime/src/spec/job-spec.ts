// What a user asks for, validated once at the edge so manifests can trust every field.
// Messages name the CLI flag, because that is what the user typed.
import path from 'node:path';
import { z } from 'zod';

export const DEFAULT_JOB_IMAGE = 'skiff.local/job-python:trixie-2'; // Skiff's offline-built Python+torch image (runtime/images/versions.env)
export const DEFAULT_NAMESPACE = 'skiff';
export const DEFAULT_MASTER_PORT = 29500;
export const DEFAULT_SERVING_PORT = 8000;
/** Job names stay short so `<name>-<index>-<random>` pod names and `<name>-code` fit comfortably. */
export const MAX_JOB_NAME_LENGTH = 40;

export interface Resources {
  cpu?: string;
  memory?: string;
}

/** A host folder mounted read-only into every container (`--data DIR[:PATH]`). */
export interface DataMount {
  /** Absolute path on this machine. */
  source: string;
  /** Absolute path in the container. */
  target: string;
}

/** What both kinds of job may add to the image without building one. */
export interface JobExtras {
  /**
   * A share of one GPU per worker (0 < share <= 0.5), taken as one time-slice of a shared GPU: the
   * job then asks for one nvidia.com/gpu (gpusPerWorker 1) on a cluster whose GPUs are shared at
   * least this finely (submit checks).
   */
  gpuShare?: number;
  /** Python requirement specifiers installed for the job (from --pip, requirements.txt, PEP 723, %pip). */
  packages?: string[];
  data?: DataMount[];
}

export interface TrainingJobSpec extends JobExtras {
  kind: 'training';
  name: string;
  namespace: string;
  /** Path relative to the code root, e.g. 'train.py'. */
  script: string;
  args: string[];
  /** 1..64 */
  workers: number;
  /** 0..16 */
  gpusPerWorker: number;
  resources: Resources;
  image: string;
  env: Record<string, string>;
  /** Default 29500. */
  masterPort: number;
  backoffLimit?: number;
  /** Present for a notebook session: its ranks run Skiff's agent and take cells, not the script. */
  session?: SessionSettings;
}

export interface SessionSettings {
  /** The ranks stop after this long without a cell; 0 keeps them until shut down. */
  idleMinutes: number;
}

export const DEFAULT_SESSION_IDLE_MINUTES = 60;

export interface ServingJobSpec extends JobExtras {
  kind: 'serving';
  name: string;
  namespace: string;
  script: string;
  args: string[];
  /** 1..32 */
  replicas: number;
  /** 1..65535, default 8000. */
  port: number;
  gpusPerWorker: number;
  resources: Resources;
  image: string;
  env: Record<string, string>;
}

export type JobSpec = TrainingJobSpec | ServingJobSpec;

/** A spec the user can fix; `field` is the spec path (e.g. 'workers', 'resources.memory', 'env'). */
export class SpecError extends Error {
  readonly field: string;
  constructor(message: string, field: string) {
    super(message);
    this.name = 'SpecError';
    this.field = field;
  }
}

// Service names (the headless Service is named after the job) must be DNS-1035 labels,
// which is DNS-1123 plus "starts with a letter".
const JOB_NAME_RE = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Plain decimal with an optional SI or binary suffix: what people write for cpu and memory.
const QUANTITY_RE = /^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/**
 * What each training rank is told of its place, as `torchrun --nnodes=N --nproc-per-node=1` tells
 * each process (one process per pod), plus NODE_RANK: Lightning and Accelerate find their rank in
 * these (Lightning without GROUP_RANK takes every pod for rank 0 of node 0, and the ranks never meet).
 */
export const RANK_VARIABLES = ['RANK', 'GROUP_RANK', 'ROLE_RANK', 'NODE_RANK'];
export const WORLD_SIZE_VARIABLES = ['WORLD_SIZE', 'GROUP_WORLD_SIZE', 'ROLE_WORLD_SIZE'];
/** The same for every rank: each pod is one process, one DDP rank. */
export const ONE_PROCESS_PER_POD_ENV: Record<string, string> = { LOCAL_RANK: '0', LOCAL_WORLD_SIZE: '1', ROLE_NAME: 'default' };

/** Variables Skiff sets on every training worker; a user value would silently break rendezvous. */
const TRAINING_RESERVED_ENV = ['MASTER_ADDR', 'MASTER_PORT', ...WORLD_SIZE_VARIABLES, ...RANK_VARIABLES, ...Object.keys(ONE_PROCESS_PER_POD_ENV), 'SKIFF_JOB'];
const SERVING_RESERVED_ENV = ['PORT', 'SKIFF_JOB'];

const FLAGS: Record<string, string> = {
  name: '--name',
  namespace: '--namespace',
  workers: '--workers',
  replicas: '--replicas',
  gpusPerWorker: '--gpus',
  gpuShare: '--gpu-share',
  'resources.cpu': '--cpu',
  'resources.memory': '--memory',
  image: '--image',
  env: '--env',
  masterPort: '--master-port',
  port: '--port',
  backoffLimit: '--retries',
  script: 'script',
  args: 'script arguments',
  packages: '--pip',
  data: '--data',
  'session.idleMinutes': '--idle-minutes',
};

const flagFor = (field: string) => FLAGS[field] ?? FLAGS[field.split('.')[0]] ?? field;

/** A number as the CLI hands it over (a string), else the value as it is, for the check to judge. */
const numberFromFlag = (v: unknown) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);

function intBetween(field: string, min: number, max: number) {
  const flag = flagFor(field);
  return z.preprocess(
    numberFromFlag,
    z.unknown().superRefine((v, ctx) => {
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${flag} must be a whole number between ${min} and ${max} (got ${show(v)})` });
      } else if (v < min || v > max) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${flag} must be between ${min} and ${max} (got ${v})` });
      }
    }),
  ) as unknown as z.ZodType<number, z.ZodTypeDef, unknown>;
}

/** A share of one GPU, above 0 and at most a half (e.g. 0.5, 0.25); strings as the CLI hands them over. */
const gpuShare = z.preprocess(
  numberFromFlag,
  z.unknown().superRefine((v, ctx) => {
    if (typeof v !== 'number' || !(v > 0 && v < 1)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `--gpu-share must be a share of one GPU above 0 and below 1, e.g. 0.5 (got ${show(v)})` });
    } else if (v > 0.5) {
      // Time-slicing gives each of n sharers 1/n of the GPU, and n is at least 2.
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `--gpu-share ${v}: a GPU shared by time-slicing gives each job at most half of it; ask 0.5 or less, or a whole GPU with --gpus 1`,
      });
    }
  }),
) as unknown as z.ZodType<number, z.ZodTypeDef, unknown>;

function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v));
}

function quantity(field: 'resources.cpu' | 'resources.memory') {
  const flag = flagFor(field);
  const example = field === 'resources.cpu' ? '2 or 500m' : '512Mi or 4Gi';
  return z.preprocess(
    (v) => (typeof v === 'number' ? String(v) : v),
    z.unknown().superRefine((v, ctx) => {
      if (typeof v !== 'string' || !QUANTITY_RE.test(v) || parseQuantity(v) <= 0) {
        const hint = typeof v === 'string' ? byteUnitHint(v) : '';
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${flag} must be a Kubernetes quantity such as ${example} (got ${show(v)})${hint}` });
      }
    }),
  ) as unknown as z.ZodType<string, z.ZodTypeDef, unknown>;
}

/** "4GB" is the most common slip: Kubernetes spells it 4G (10^9) or 4Gi (2^30). */
function byteUnitHint(v: string): string {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGTPE])i?B$/i.exec(v.trim());
  return m ? `; did you mean ${m[1]}${m[2].toUpperCase()}i?` : '';
}

const jobName = z.string({ invalid_type_error: '--name must be a string' }).superRefine((v, ctx) => {
  if (v.length > MAX_JOB_NAME_LENGTH || !JOB_NAME_RE.test(v)) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `--name must be at most ${MAX_JOB_NAME_LENGTH} characters of lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (got '${v}')`,
    });
  }
});

const namespace = z.string({ invalid_type_error: '--namespace must be a string' }).superRefine((v, ctx) => {
  if (v.length > 63 || !NAMESPACE_RE.test(v)) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `--namespace must be at most 63 characters of lowercase letters, digits and '-' (got '${v}')`,
    });
  }
});

const script = z
  .string({ required_error: 'a script to run is required (e.g. train.py)', invalid_type_error: 'script must be a path' })
  .superRefine((v, ctx) => {
    const parts = v.split(/[\\/]/);
    if (v.trim() === '') ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'a script to run is required (e.g. train.py)' });
    else if (path.posix.isAbsolute(v) || path.win32.isAbsolute(v) || parts.includes('..'))
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `script must be a path inside the code folder, relative to it (got '${v}')` });
  })
  .transform((v) => path.posix.normalize(v.replace(/\\/g, '/')));

const args = z.array(z.string(), { invalid_type_error: 'script arguments must be a list of strings' }).default([]);

const image = z
  .string({ invalid_type_error: '--image must be a string' })
  .refine(
    (v) => v.trim() !== '' && !/\s/.test(v),
    (v) => ({ message: `--image must be an image reference such as ${DEFAULT_JOB_IMAGE} (got '${v}')` }),
  )
  .default(DEFAULT_JOB_IMAGE);

const resources = z
  .object({ cpu: quantity('resources.cpu').optional(), memory: quantity('resources.memory').optional() }, { invalid_type_error: 'resources must be an object' })
  .strip()
  .default({})
  .transform((r) => {
    // Drop absent keys so the spec round-trips through JSON unchanged.
    const out: Resources = {};
    if (r.cpu !== undefined) out.cpu = r.cpu;
    if (r.memory !== undefined) out.memory = r.memory;
    return out;
  });

function env(reserved: string[]) {
  return z
    .record(z.string(), z.string({ invalid_type_error: '--env values must be strings' }), { invalid_type_error: '--env must be NAME=VALUE pairs' })
    .default({})
    .superRefine((vars, ctx) => {
      for (const key of Object.keys(vars)) {
        const problem = envNameProblem(key) ?? (reserved.includes(key) ? `--env ${key} is set by Skiff for every pod; pick another name` : undefined);
        if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem, path: [] });
      }
    });
}

function envNameProblem(key: string): string | undefined {
  return ENV_NAME_RE.test(key) ? undefined : `--env name '${key}' is not a valid variable name (letters, digits and '_', not starting with a digit)`;
}

const packages = z.array(z.string().trim().min(1, '--pip needs a package name'), { invalid_type_error: '--pip must be a list of requirement strings' }).optional();

const absolutePath = (what: string) =>
  z.string({ invalid_type_error: `${what} must be a path` }).refine(
    (v) => path.posix.isAbsolute(v),
    (v) => ({ message: `${what} must be an absolute path (got '${v}')` }),
  );

const data = z
  .array(z.object({ source: absolutePath('--data folder'), target: absolutePath('--data mount path') }).strip(), {
    invalid_type_error: '--data must be a list of {source, target}',
  })
  .optional();

const common = {
  namespace: namespace.default(DEFAULT_NAMESPACE),
  packages,
  data,
  script,
  args,
  gpusPerWorker: intBetween('gpusPerWorker', 0, 16).default(0),
  gpuShare: gpuShare.optional(),
  resources,
  image,
};

const trainingSchema = z
  .object({
    kind: z.literal('training'),
    name: jobName.optional(),
    ...common,
    workers: intBetween('workers', 1, 64).default(1),
    env: env(TRAINING_RESERVED_ENV),
    masterPort: intBetween('masterPort', 1, 65535).default(DEFAULT_MASTER_PORT),
    backoffLimit: intBetween('backoffLimit', 0, 100).optional(),
    session: z
      .object({ idleMinutes: intBetween('session.idleMinutes', 0, 7 * 24 * 60).default(DEFAULT_SESSION_IDLE_MINUTES) }, { invalid_type_error: 'session must be an object' })
      .strip()
      .optional(),
  })
  .strip();

const servingSchema = z
  .object({
    kind: z.literal('serving'),
    name: jobName.optional(),
    ...common,
    replicas: intBetween('replicas', 1, 32).default(1),
    port: intBetween('port', 1, 65535).default(DEFAULT_SERVING_PORT),
    env: env(SERVING_RESERVED_ENV),
  })
  .strip();

/** A namespace as every surface takes it (`-n`, the API's ?namespace=): a DNS label. */
export function parseNamespace(input: unknown): string {
  return parseWith(namespace, input);
}

function parseWith<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.join('.') || 'spec';
  const flag = flagFor(field);
  // Our own messages already name the flag; zod's generic ones ("Required") need it prefixed.
  throw new SpecError(issue.message.includes(flag) ? issue.message : `${flag}: ${issue.message}`, field);
}

function withKind(input: unknown, kind: JobSpec['kind']): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new SpecError('job spec must be an object', 'spec');
  return { ...input, kind };
}

/** Validates a training spec and fills defaults (name from the script when absent). */
export function parseTrainingSpec(input: unknown): TrainingJobSpec {
  const s = parseWith(trainingSchema, withKind(input, 'training'));
  const spec: TrainingJobSpec = {
    kind: 'training',
    name: s.name ?? jobNameFor(s.script),
    namespace: s.namespace,
    script: s.script,
    args: s.args,
    workers: s.workers,
    gpusPerWorker: s.gpusPerWorker,
    resources: s.resources,
    image: s.image,
    env: s.env,
    masterPort: s.masterPort,
  };
  if (s.backoffLimit !== undefined) spec.backoffLimit = s.backoffLimit;
  if (s.session) spec.session = { idleMinutes: s.session.idleMinutes };
  return withExtras(spec, s);
}

/** Validates a serving spec and fills defaults (name from the script when absent). */
export function parseServingSpec(input: unknown): ServingJobSpec {
  const s = parseWith(servingSchema, withKind(input, 'serving'));
  return withExtras<ServingJobSpec>(
    {
      kind: 'serving',
      name: s.name ?? jobNameFor(s.script),
      namespace: s.namespace,
      script: s.script,
      args: s.args,
      replicas: s.replicas,
      port: s.port,
      gpusPerWorker: s.gpusPerWorker,
      resources: s.resources,
      image: s.image,
      env: s.env,
    },
    s,
  );
}

/** Packages and data only when there are some, so specs without them round-trip unchanged. */
function withExtras<T extends JobSpec>(spec: T, s: JobExtras): T {
  if (s.gpuShare !== undefined) {
    if (spec.gpusPerWorker > 1) throw new SpecError(`--gpu-share is a share of one GPU: leave out --gpus (or give 1), not ${spec.gpusPerWorker}`, 'gpuShare');
    spec.gpusPerWorker = 1;
    spec.gpuShare = s.gpuShare;
  }
  if (s.packages?.length) spec.packages = s.packages;
  if (s.data?.length) spec.data = s.data;
  return spec;
}

export function parseJobSpec(input: unknown): JobSpec {
  const kind = input !== null && typeof input === 'object' ? (input as { kind?: unknown }).kind : undefined;
  if (kind === 'training') return parseTrainingSpec(input);
  if (kind === 'serving') return parseServingSpec(input);
  throw new SpecError(`job kind must be 'training' or 'serving' (got ${show(kind)})`, 'kind');
}

/**
 * A valid job name from the script's base name plus a 5-character suffix derived from `now`,
 * e.g. "train-7f3k2". The suffix repeats only every ~17 hours, at the same millisecond.
 */
export function jobNameFor(script: string, now: Date = new Date()): string {
  const suffix = now.getTime().toString(36).slice(-5).padStart(5, '0');
  const base = path.posix.basename(script.replace(/\\/g, '/')).replace(/\.(py|ipynb)$/i, '');
  let stem = base
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(stem)) stem = stem ? `job-${stem}` : 'job';
  stem = stem.slice(0, MAX_JOB_NAME_LENGTH - suffix.length - 1).replace(/-+$/, '');
  return `${stem}-${suffix}`;
}

/** ["K=V", ...] -> {K: V}; the value may contain '=' and may be empty; later pairs win. */
export function parseEnvPairs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new SpecError(`--env expects NAME=VALUE (got '${pair}')`, 'env');
    const key = pair.slice(0, eq);
    const problem = envNameProblem(key);
    if (problem) throw new SpecError(problem, 'env');
    out[key] = pair.slice(eq + 1);
  }
  return out;
}

const SUFFIX_FACTORS: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * A Kubernetes quantity as a number of base units (cores, bytes, devices); NaN when malformed.
 * Accepts everything the API server returns, including "100n" and "1e3".
 */
export function parseQuantity(q: string): number {
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(q.trim());
  if (!m) return NaN;
  if (m[2]) return Number(m[1] + m[2]);
  return Number(m[1]) * SUFFIX_FACTORS[m[3] ?? ''];
}
