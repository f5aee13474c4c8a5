// Data for the tests of front ends that stand a scripted session behind the real API server
// (`@skiff/runtime/testing`): shapes the runtime returns, so fakes stay true to them.
import type { PromotionPlan } from '../promote/promote.js';

/** A promotion plan as planPromotion returns it: one Job to create. */
export function promotionPlanFixture(job: string, context: string): PromotionPlan {
  return {
    job,
    context,
    namespace: 'prod',
    image: `localhost:5000/skiff-${job}:0123456789ab`,
    baseImage: 'skiff.local/job-python:trixie-2',
    form: 'kubernetes',
    objects: [],
    changes: [{ kind: 'Job', name: job, action: 'create', before: '', after: 'kind: Job\n' }],
    diff: '+kind: Job',
    files: [],
    libFiles: [],
  };
}

/** What the target listing of a session with one cloud context and one profile says. */
export const PROMOTION_TARGETS_FIXTURE = { contexts: ['kind-skiff', 'cloud'], profiles: [{ name: 'cloud', file: '/w/skiff-targets.yaml' }] };

/** A member of a stand-in backend that the test never reaches: it fails loudly if it is reached. */
export function notUsedHere(member: string): (...args: unknown[]) => never {
  return () => {
    throw new Error(`${member} is not part of this test`);
  };
}
