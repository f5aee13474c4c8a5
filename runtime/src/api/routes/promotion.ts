// Promotion: where jobs can go, the plan for one, and applying the plan the user confirmed.
import { SkiffError } from '../../errors.js';
import { planDigest } from '../../promote/plan-digest.js';
import type { PromotionPlan } from '../../promote/promote.js';
import type { PromotionSummary } from '../contract.js';
import type { Handlers } from '../dispatch.js';

export const promotionHandlers = {
  promotionTargets: async (_request, { backend }) => backend.promotionTargets(),

  planPromotion: async ({ params, body }, { backend }) => planSummary(await backend.planPromotion(params.name, body)),

  /** The contract made sure of `confirm: true` and a digest; the plan made now must still have that digest. */
  promoteJob: async ({ params, body: { to, profile, digest: shown } }, { backend, stream }) => {
    const plan = await backend.planPromotion(params.name, { to, profile });
    // The digest hashes every code and package file: computed once, for the check and the answer.
    const digest = planDigest(plan);
    if (digest !== shown) {
      throw new SkiffError(
        'PLAN_CHANGED',
        `the plan for promoting ${params.name} to '${to}' changed after it was shown (the target's objects, the job's code or its packages); nothing was applied`,
        { hint: 'review the new plan (promote again) and confirm that one' },
      );
    }
    return stream(async (send) => {
      await backend.applyPromotion(plan, (message) => send('progress', { message }));
      send('result', planSummary(plan, digest));
    });
  },
} satisfies Partial<Handlers>;

/** A plan as JSON: everything but the code itself, and the digest a confirmation must name. */
function planSummary(plan: PromotionPlan, digest = planDigest(plan)): PromotionSummary {
  return {
    job: plan.job,
    context: plan.context,
    namespace: plan.namespace,
    image: plan.image,
    baseImage: plan.baseImage,
    form: plan.form,
    changes: plan.changes,
    diff: plan.diff,
    digest,
  };
}
