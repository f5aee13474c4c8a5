// Skiff keeps no state of its own: labels find a job's objects, and the spec annotation on the
// Job (or Deployment) and Service lets `skiff status/logs/rerun` recover everything it was asked.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { parseJobSpec, type JobSpec } from '../spec/job-spec.js';

export const MANAGED_BY = 'skiff';
export const DEFAULT_CREATED_BY = 'skiff';

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  job: 'skiff.dev/job',
  kind: 'skiff.dev/kind',
  /**
   * Reserved for per-pod rank. A pod template cannot vary labels per index, so training ranks
   * come from the Indexed Job's `batch.kubernetes.io/job-completion-index` (see jobs/reasons.ts rankOf).
   */
  rank: 'skiff.dev/rank',
} as const;

export const ANNOTATIONS = {
  /** JSON of the validated JobSpec, its --env values left out (see specAnnotation). */
  spec: 'skiff.dev/spec',
  createdBy: 'skiff.dev/created-by',
  /** Host path of the job's run folder on a local cluster. */
  workDir: 'skiff.dev/work-dir',
} as const;

/** Optional metadata callers may stamp on the objects. */
export interface ManifestMeta {
  /** Who submitted the job (user name, editor extension...); defaults to "skiff". */
  createdBy?: string;
}

/** Label selector string for every object and pod of one job. */
export function jobSelector(name: string): string {
  return `${LABELS.job}=${name}`;
}

/** Label selector string for everything Skiff manages. */
export function managedSelector(): string {
  return `${LABELS.managedBy}=${MANAGED_BY}`;
}

export function jobLabels(spec: JobSpec): Record<string, string> {
  return { [LABELS.managedBy]: MANAGED_BY, [LABELS.job]: spec.name, [LABELS.kind]: spec.kind };
}

/** Labels that select a job's pods (also used by Services and topology spread). */
export function podSelectorLabels(spec: JobSpec): Record<string, string> {
  return { [LABELS.job]: spec.name };
}

export function jobAnnotations(spec: JobSpec, meta: ManifestMeta = {}): Record<string, string> {
  return { [ANNOTATIONS.spec]: specAnnotation(spec), [ANNOTATIONS.createdBy]: meta.createdBy ?? DEFAULT_CREATED_BY };
}

/**
 * The spec as its annotation holds it: --env names with empty values, as the values live in the
 * job's Secret (env-secret.ts) and annotations are readable by anyone who may list the objects.
 */
export function specAnnotation(spec: JobSpec): string {
  return JSON.stringify({ ...spec, env: Object.fromEntries(Object.keys(spec.env).map((name) => [name, ''])) });
}

/** Metadata for the objects that carry the spec (Job/Deployment, Service). */
export function specObjectMeta(spec: JobSpec, name: string, meta: ManifestMeta = {}): V1ObjectMeta {
  return { name, namespace: spec.namespace, labels: jobLabels(spec), annotations: jobAnnotations(spec, meta) };
}

/** Metadata for supporting objects (ConfigMaps): labels only, the spec lives on the Job. */
export function supportObjectMeta(spec: JobSpec, name: string, meta: ManifestMeta = {}): V1ObjectMeta {
  return {
    name,
    namespace: spec.namespace,
    labels: jobLabels(spec),
    annotations: { [ANNOTATIONS.createdBy]: meta.createdBy ?? DEFAULT_CREATED_BY },
  };
}

/** The JobSpec stored on an object, or undefined when absent or no longer valid. */
export function specFromAnnotations(annotations: Record<string, string> | undefined): JobSpec | undefined {
  const raw = annotations?.[ANNOTATIONS.spec];
  if (!raw) return undefined;
  try {
    return parseJobSpec(JSON.parse(raw));
  } catch {
    return undefined;
  }
}
