// A job's --env values live in one Secret per job, `<job>-env`, and its pods read them from there
// (secretKeyRef). Everything else Skiff writes (the spec annotation, the pod template, a promotion's
// diff) carries the names only: an API token passed with --env is no longer readable by whoever can
// list Jobs, and is not copied in plain text to a promotion target.
import type { V1EnvVar, V1Secret } from '@kubernetes/client-node';
import type { JobSpec } from '../spec/job-spec.js';
import { SkiffError } from '../errors.js';
import { supportObjectMeta, type ManifestMeta } from './labels.js';

export function envSecretName(job: string): string {
  return `${job}-env`;
}

/** The Secret holding the job's --env values; none when it has none. */
export function envSecret(spec: JobSpec, meta: ManifestMeta = {}): V1Secret | undefined {
  const entries = Object.entries(spec.env);
  if (entries.length === 0) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: supportObjectMeta(spec, envSecretName(spec.name), meta),
    type: 'Opaque',
    data: Object.fromEntries(entries.map(([name, value]) => [name, Buffer.from(value, 'utf8').toString('base64')])),
  };
}

/** A container variable whose value is the job's --env entry `key`. */
export function envFromSecret(spec: JobSpec, name: string, key = name): V1EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: envSecretName(spec.name), key } } };
}

/**
 * The spec with its --env values read back from the job's Secret (spec annotations hold only the
 * names). A name the Secret lacks is an error: re-running or promoting with an empty value would
 * be a silent change of the job.
 */
export function withEnvValues(spec: JobSpec, secret: V1Secret | undefined): JobSpec {
  const names = Object.keys(spec.env);
  if (names.length === 0) return spec;
  const missing = names.filter((n) => secret?.data?.[n] === undefined);
  if (missing.length > 0) {
    throw new SkiffError('BAD_INPUT', `the --env values of job '${spec.name}' are gone (Secret ${envSecretName(spec.name)} lacks ${missing.join(', ')})`, {
      hint: 'submit the job again with its --env values',
    });
  }
  return { ...spec, env: Object.fromEntries(names.map((n) => [n, Buffer.from(secret!.data![n], 'base64').toString('utf8')])) };
}
