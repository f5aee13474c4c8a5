// How a promotion plan reads in the editors: a summary, and both sides of the diff. Pure and
// browser-safe, for the VS Code diff editor and the JupyterLab dialog alike.
import type { PromotedTarget } from '../types.js';

export interface PlanView {
  job: string;
  context: string;
  namespace: string;
  image: string;
  baseImage: string;
  form?: 'kubernetes' | 'kubeflow' | 'kserve';
  changes: { kind: string; name: string; action: string; before: string; after: string }[];
}

const FORM_WORDS = { kubernetes: '', kubeflow: ', as a Kubeflow Trainer PyTorchJob', kserve: ', as a KServe InferenceService' } as const;

/** The plan in a few lines: where it goes (and in which form), the image, then one line per object. */
export function planSummaryLines(plan: PlanView): string[] {
  return [
    `${plan.job} → context '${plan.context}', namespace ${plan.namespace}${FORM_WORDS[plan.form ?? 'kubernetes']}`,
    `image ${plan.image}, built FROM ${plan.baseImage} with the job's code`,
    ...plan.changes.map((c) => `${c.action} ${c.kind}/${c.name}`),
  ];
}

/** Both sides of the diff as multi-document YAML, one document per object, in apply order. */
export function planSides(plan: Pick<PlanView, 'changes'>): { before: string; after: string } {
  const join = (texts: string[]) => texts.map((t) => t || '# (absent on the target)\n').join('---\n');
  return { before: join(plan.changes.map((c) => c.before)), after: join(plan.changes.map((c) => c.after)) };
}

export interface PromotionTargets {
  contexts: string[];
  profiles: { name: string; file: string }[];
}

/**
 * What a user can promote to (the runtime lists the contexts but the local cluster's), with the
 * profiles; or why there is nothing to pick.
 */
export function promotionChoices({ contexts, profiles }: PromotionTargets): (PromotionTargets & { problem?: undefined }) | { problem: string } {
  if (contexts.length === 0) return { problem: 'no other kubeconfig context to promote to: add the cloud cluster to your kubeconfig first' };
  if (profiles.length === 0) return { problem: 'no target profile: add skiff-targets.yaml to the workspace (registry, namespace, GPU resource, node selectors…)' };
  return { contexts, profiles };
}

/** The profiles for `context`, the one named after it first. */
export function profilesFor<P extends { name: string }>(context: string, profiles: P[]): P[] {
  return [...profiles].sort((a, b) => Number(b.name === context) - Number(a.name === context));
}

export const MAX_PROMOTED_TARGETS = 8;

/** The editors' list of promotion targets after one more promotion: newest first, no repeats, a few at most. */
export function rememberPromotedTarget(targets: readonly PromotedTarget[], target: PromotedTarget): PromotedTarget[] {
  const same = (t: PromotedTarget) => t.context === target.context && t.namespace === target.namespace;
  return [{ context: target.context, namespace: target.namespace }, ...targets.filter((t) => !same(t))].slice(0, MAX_PROMOTED_TARGETS);
}

/** How a target reads as a heading: `context · namespace`. */
export function promotedTargetLabel(target: PromotedTarget): string {
  return `${target.context} · ${target.namespace}`;
}
