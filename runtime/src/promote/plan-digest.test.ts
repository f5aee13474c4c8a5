import { describe, expect, it } from 'vitest';
import { planDigest } from './plan-digest.js';
import { promotionPlanFixture } from '../testing/fixtures.js';
import type { PromotionPlan } from './promote.js';

function plan(change: (p: PromotionPlan) => void = () => {}): PromotionPlan {
  const p: PromotionPlan = {
    ...promotionPlanFixture('train', 'cloud'),
    objects: [{ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'train', namespace: 'prod' } }],
    files: [{ path: 'train.py', content: Buffer.from('print(1)\n') }],
  };
  change(p);
  return p;
}

describe('planDigest', () => {
  it('is the same for the same plan made twice, whatever the dry run stamped into "after"', () => {
    const again = plan((p) => (p.changes[0].after = 'kind: Job\nmetadata:\n  labels:\n    controller-uid: 1234\n'));
    expect(planDigest(again)).toBe(planDigest(plan()));
    expect(planDigest(plan())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with anything apply() acts on, or with the target as the plan saw it', () => {
    const base = planDigest(plan());
    const variants: [string, (p: PromotionPlan) => void][] = [
      ['the target object appeared', (p) => (p.changes[0] = { ...p.changes[0], action: 'update', before: 'kind: Job\n' })],
      ['an object to apply', (p) => (p.objects[0].metadata!.labels = { team: 'b' })],
      ['the code', (p) => (p.files[0].content = Buffer.from('print(2)\n'))],
      ['a package', (p) => (p.packageFiles = [{ path: 'flask/__init__.py', content: Buffer.from('') }])],
      ['the context', (p) => (p.context = 'other')],
      ['the namespace', (p) => (p.namespace = 'staging')],
      ['the image', (p) => (p.image = 'localhost:5000/skiff-train:ffffffffffff')],
      ['the form', (p) => (p.form = 'kubeflow')],
    ];
    for (const [what, change] of variants) expect(planDigest(plan(change)), what).not.toBe(base);
  });
});
