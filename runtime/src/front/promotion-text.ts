// How a promotion plan reads in the editors: a summary, and both sides of the diff. Pure and
// browser-safe, for the VS Code diff editor and the JupyterLab dialog alike.

export interface PlanView {
  job: string;
  context: string;
  namespace: string;
  image: string;
  baseImage: string;
  changes: { kind: string; name: string; action: string; before: string; after: string }[];
}

/** The plan in a few lines: where it goes, the image, then one line per object. */
export function planSummaryLines(plan: PlanView): string[] {
  return [
    `${plan.job} → context '${plan.context}', namespace ${plan.namespace}`,
    `image ${plan.image}, built FROM ${plan.baseImage} with the job's code`,
    ...plan.changes.map((c) => `${c.action} ${c.kind}/${c.name}`),
  ];
}

/** Both sides of the diff as multi-document YAML, one document per object, in apply order. */
export function planSides(plan: Pick<PlanView, 'changes'>): { before: string; after: string } {
  const join = (texts: string[]) => texts.map((t) => t || '# (absent on the target)\n').join('---\n');
  return { before: join(plan.changes.map((c) => c.before)), after: join(plan.changes.map((c) => c.after)) };
}
