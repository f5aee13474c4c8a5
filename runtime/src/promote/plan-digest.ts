// A promotion plan's fingerprint. A front end shows a plan, the user confirms it, and only then is
// it applied — by another request, seconds or minutes later. The server plans again at that point;
// the confirmation names the plan it was given for by this digest, so a plan that changed in
// between (the target's objects, the job's code or packages, the profile) is refused, never
// applied unseen.
import { createHash } from 'node:crypto';
import type { CodeFile } from '../types.js';
import type { PromotionPlan } from './promote.js';

/** Hex SHA-256 over everything apply() would act on, and over the target as the plan saw it. */
export function planDigest(plan: PromotionPlan): string {
  const hash = createHash('sha256');
  const fingerprint = {
    job: plan.job,
    context: plan.context,
    namespace: plan.namespace,
    image: plan.image,
    baseImage: plan.baseImage,
    form: plan.form,
    objects: plan.objects,
    // What the target holds now; the dry run's "after" is left out, as a server may stamp fresh
    // values (a Job's controller-uid) into it on every dry run.
    live: plan.changes.map((c) => [c.kind, c.name, c.before]),
    files: fileDigests(plan.files),
    libFiles: fileDigests(plan.libFiles),
    packageFiles: fileDigests(plan.packageFiles ?? []),
  };
  hash.update(JSON.stringify(fingerprint));
  return hash.digest('hex');
}

function fileDigests(files: CodeFile[]): [string, string][] {
  return files.map((f) => [f.path, createHash('sha256').update(f.content).digest('hex')]);
}
