// One error type with a machine-readable code and a hint for the human, so every surface
// (CLI, editors) can print the same two lines and the CLI can pick an exit code.

export type ErrorCode =
  | 'NO_DOCKER'
  | 'NO_KIND'
  | 'NO_GPU'
  | 'NO_CLUSTER'
  | 'CLUSTER_GONE'
  | 'BAD_INPUT'
  | 'SCRIPT_NOT_FOUND'
  | 'JOB_NOT_FOUND'
  | 'JOB_FAILED'
  | 'UNREACHABLE'
  | 'IMAGE_MISSING'
  | 'COMMAND_FAILED'
  | 'REGISTRY_FAILED'
  | 'FORBIDDEN'
  | 'TIMEOUT'
  | 'CLUSTER_OUTDATED'
  | 'DISK_FULL'
  | 'PACKAGES_FAILED'
  | 'SESSION_LOST'
  /** An add-on (`skiff up --with NAME`) the command needs is not installed on the cluster. */
  | 'ADDON_MISSING'
  /** A promotion's plan is no longer the one the user confirmed. */
  | 'PLAN_CHANGED';

export class SkiffError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SkiffError';
    this.code = code;
    if (opts.hint !== undefined) this.hint = opts.hint;
  }
}

export const EXIT_OK = 0;
export const EXIT_JOB_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_ENVIRONMENT = 3;
export const EXIT_COMMAND_FAILED = 4;

const EXIT_CODES: Record<ErrorCode, number> = {
  JOB_FAILED: EXIT_JOB_FAILED,
  BAD_INPUT: EXIT_BAD_INPUT,
  SCRIPT_NOT_FOUND: EXIT_BAD_INPUT,
  JOB_NOT_FOUND: EXIT_BAD_INPUT,
  NO_DOCKER: EXIT_ENVIRONMENT,
  NO_KIND: EXIT_ENVIRONMENT,
  NO_GPU: EXIT_ENVIRONMENT,
  NO_CLUSTER: EXIT_ENVIRONMENT,
  CLUSTER_GONE: EXIT_ENVIRONMENT,
  IMAGE_MISSING: EXIT_ENVIRONMENT,
  ADDON_MISSING: EXIT_ENVIRONMENT,
  UNREACHABLE: EXIT_ENVIRONMENT,
  REGISTRY_FAILED: EXIT_ENVIRONMENT,
  FORBIDDEN: EXIT_ENVIRONMENT,
  COMMAND_FAILED: EXIT_COMMAND_FAILED,
  TIMEOUT: EXIT_COMMAND_FAILED,
  CLUSTER_OUTDATED: EXIT_ENVIRONMENT,
  DISK_FULL: EXIT_ENVIRONMENT,
  PACKAGES_FAILED: EXIT_BAD_INPUT,
  SESSION_LOST: EXIT_JOB_FAILED,
  PLAN_CHANGED: EXIT_COMMAND_FAILED,
};

/** The code of a Skiff error; SpecError from the spec module (it carries `field`) counts as BAD_INPUT. */
export function errorCodeOf(err: unknown): ErrorCode | undefined {
  if (err instanceof SkiffError) return err.code;
  if (isSpecError(err)) return 'BAD_INPUT';
  return undefined;
}

/**
 * Process exit code for an outcome: 0 when there is no error, 4 ("other failures", as README.md
 * says) for errors Skiff did not classify, so that 1 always means the job itself failed.
 */
export function exitCodeFor(err: unknown): number {
  if (err === undefined || err === null) return EXIT_OK;
  const code = errorCodeOf(err);
  return code ? EXIT_CODES[code] : EXIT_COMMAND_FAILED;
}

/** "error: <message>" plus "hint: <hint>" when there is one. */
export function describeError(err: unknown): string {
  const lines = [`error: ${messageOf(err)}`];
  const hint = err instanceof SkiffError ? err.hint : undefined;
  if (hint) lines.push(`hint: ${hint}`);
  return lines.join('\n');
}

// Duck-typed so this module stays free of imports (the spec module is written elsewhere).
function isSpecError(err: unknown): err is Error & { field: string } {
  return err instanceof Error && typeof (err as { field?: unknown }).field === 'string';
}

function messageOf(err: unknown): string {
  const status = kubernetesStatusMessage(err);
  if (status) return status;
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * client-node's ApiException message embeds the whole response (body, headers); the API server's
 * own Status.message is the readable part.
 */
function kubernetesStatusMessage(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const { code, body } = err as { code?: unknown; body?: unknown };
  if (typeof code !== 'number') return undefined;
  let status = body;
  if (typeof status === 'string') {
    try {
      status = JSON.parse(status);
    } catch {
      return undefined;
    }
  }
  const message = (status as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message ? `Kubernetes API (${code}): ${message}` : undefined;
}
