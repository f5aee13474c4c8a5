import { describe, expect, it } from 'vitest';
import { promotionPlanFixture } from '../testing/fixtures.js';
import { planText } from './promote.js';

describe('planText', () => {
  it('says where the job goes, with which image, what changes, then the diff', () => {
    const text = planText(promotionPlanFixture('train-a1', 'gke'));
    expect(text.split('\n').slice(0, 3)).toEqual([
      "promote train-a1 → context 'gke', namespace prod",
      "image localhost:5000/skiff-train-a1:0123456789ab, built FROM skiff.local/job-python:trixie-2 with the job's code",
      '  create Job/train-a1',
    ]);
    expect(text).toContain('+kind: Job');
  });

  it('names the operator form when the target runs one', () => {
    const plan = { ...promotionPlanFixture('train-a1', 'gke'), form: 'kubeflow' as const };
    expect(planText(plan).split('\n')[0]).toBe("promote train-a1 → context 'gke', namespace prod, as a Kubeflow Trainer PyTorchJob");
  });

  it('says so when the target already holds exactly this', () => {
    const plan = { ...promotionPlanFixture('train-a1', 'gke'), diff: '' };
    expect(planText(plan)).toMatch(/no changes on the target\n$/);
  });
});
