// Target profiles: how a job is remapped for another cluster ("the cloud"). A small YAML file,
// `skiff-targets.yaml` in the workspace or ~/.config/skiff/targets.yaml, one entry per profile:
//
//   gke-a100:
//     registry: europe-docker.pkg.dev/acme/ml
//     namespace: research
//     gpuResource: nvidia.com/gpu
//     nodeSelector: { cloud.google.com/gke-accelerator: nvidia-tesla-a100 }
//     tolerations: [{ key: nvidia.com/gpu, operator: Exists, effect: NoSchedule }]
//     serviceType: LoadBalancer
//
// Credentials never live here: pushes use Docker's config, applies use the kubeconfig context.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { SkiffError } from '../errors.js';
import { GPU_RESOURCE } from '../manifests/gpu.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const toleration = z
  .object({
    key: z.string().optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    tolerationSeconds: z.number().int().optional(),
  })
  .strict();

export const targetProfileSchema = z
  .object({
    /** Where the job's image is pushed, e.g. `ghcr.io/acme/ml` or `localhost:5000`. */
    registry: z
      .string()
      .min(1)
      .refine((r) => !/^[a-z]+:\/\//.test(r) && !r.endsWith('/'), 'a registry host and path, without scheme or trailing slash'),
    namespace: z.string().regex(DNS_LABEL, 'a Kubernetes namespace name').default('skiff'),
    /** The extended resource the target's GPUs are advertised as. */
    gpuResource: z.string().min(1).default(GPU_RESOURCE),
    nodeSelector: z.record(z.string(), z.string()).default({}),
    tolerations: z.array(toleration).default([]),
    runtimeClassName: z.string().optional(),
    /**
     * Scratch disk on the target (checkpoints, downloaded data): each pod gets a volume of this
     * storage class, `scratchSize` big, at /skiff/scratch ($SKIFF_SCRATCH). Absent: no scratch volume.
     */
    storageClass: z.string().min(1).optional(),
    scratchSize: z
      .string()
      .regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'a Kubernetes quantity such as 50Gi')
      .default('10Gi'),
    serviceType: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).default('ClusterIP'),
    /** Secrets (already in the target namespace) the kubelet uses to pull from the registry. */
    imagePullSecrets: z.array(z.string()).default([]),
    /**
     * auto: Kubeflow Trainer's PyTorchJob and KServe's InferenceService where the target serves those
     * APIs, plain Jobs and Deployments elsewhere; kubernetes: always plain.
     */
    form: z.enum(['auto', 'kubernetes']).default('auto'),
    /**
     * The Kueue LocalQueue training jobs go through on the target (MultiKueue's too): they get
     * kueue.x-k8s.io/queue-name and start suspended until Kueue admits them. Absent: not queued.
     */
    queue: z.string().regex(DNS_LABEL, 'a LocalQueue name').optional(),
  })
  .strict();

export type TargetProfile = z.infer<typeof targetProfileSchema>;

/** Where profiles are looked for, first match wins: $SKIFF_TARGETS, the workspace, the user's config. */
export function targetFiles(cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): string[] {
  const files = [path.join(cwd, 'skiff-targets.yaml'), path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'skiff', 'targets.yaml')];
  return env.SKIFF_TARGETS ? [env.SKIFF_TARGETS, ...files] : files;
}

/** Every profile of a targets file's text, validated; errors name the profile and the field. */
export function parseTargets(text: string, source = 'targets file'): Record<string, TargetProfile> {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new SkiffError('BAD_INPUT', `${source} is not valid YAML: ${(err as Error).message}`);
  }
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new SkiffError('BAD_INPUT', `${source} must map profile names to profiles`);
  const out: Record<string, TargetProfile> = {};
  for (const [name, value] of Object.entries(raw)) {
    const result = targetProfileSchema.safeParse(value ?? {});
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new SkiffError('BAD_INPUT', `${source}: profile '${name}': ${issue.path.join('.') || 'profile'}: ${issue.message}`, {
        hint: 'fields: registry, namespace, gpuResource, nodeSelector, tolerations, runtimeClassName, storageClass, scratchSize, serviceType, imagePullSecrets, form, queue',
      });
    }
    out[name] = result.data;
  }
  return out;
}

/** The named profile (default: one named after the context) from the first targets file that has it. */
export function loadTargetProfile(name: string, files: string[] = targetFiles()): { profile: TargetProfile; file: string } {
  const seen: string[] = [];
  for (const file of files) {
    if (!existsSync(file)) continue;
    seen.push(file);
    const profiles = parseTargets(readFileSync(file, 'utf8'), file);
    if (profiles[name]) return { profile: profiles[name], file };
  }
  throw new SkiffError('BAD_INPUT', `no target profile '${name}' in ${seen.length ? seen.join(', ') : `any of ${files.join(', ')}`}`, {
    hint: `add one, e.g.\n${name}:\n  registry: registry.example.com/team\n  namespace: skiff`,
  });
}

/** Every profile name in the targets files, with the file it comes from (first file wins). */
export function listTargetProfiles(files: string[] = targetFiles()): { name: string; file: string }[] {
  const seen = new Map<string, string>();
  for (const file of files) {
    if (!existsSync(file)) continue;
    for (const name of Object.keys(parseTargets(readFileSync(file, 'utf8'), file))) if (!seen.has(name)) seen.set(name, file);
  }
  return [...seen].map(([name, file]) => ({ name, file }));
}
