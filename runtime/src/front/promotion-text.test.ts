import { describe, expect, it } from 'vitest';
import { MAX_PROMOTED_TARGETS, planSides, planSummaryLines, profilesFor, promotedTargetLabel, promotionChoices, rememberPromotedTarget } from './promotion-text.js';

const plan = {
  job: 'train-a1',
  context: 'gke',
  namespace: 'prod',
  image: 'gcr.io/x/skiff-train-a1:0123',
  baseImage: 'skiff.local/job-python:trixie-2',
  changes: [
    { kind: 'Namespace', name: 'prod', action: 'unchanged', before: 'kind: Namespace\n', after: 'kind: Namespace\n' },
    { kind: 'Job', name: 'train-a1', action: 'create', before: '', after: 'kind: Job\n' },
  ],
};

describe('promotion text', () => {
  it('summarises where the job goes, its image and each object', () => {
    expect(planSummaryLines(plan)).toEqual([
      "train-a1 → context 'gke', namespace prod",
      "image gcr.io/x/skiff-train-a1:0123, built FROM skiff.local/job-python:trixie-2 with the job's code",
      'unchanged Namespace/prod',
      'create Job/train-a1',
    ]);
  });

  it('lines the objects up on both sides of the diff, absent ones marked', () => {
    expect(planSides(plan)).toEqual({ before: 'kind: Namespace\n---\n# (absent on the target)\n', after: 'kind: Namespace\n---\nkind: Job\n' });
  });
});

describe('promotionChoices', () => {
  const profiles = [
    { name: 'dev', file: '/w/skiff-targets.yaml' },
    { name: 'gke', file: '/w/skiff-targets.yaml' },
  ];

  it('offers the contexts, and the profile named after a context first', () => {
    expect(promotionChoices({ contexts: ['gke'], profiles })).toEqual({ contexts: ['gke'], profiles });
    expect(profilesFor('gke', profiles).map((p) => p.name)).toEqual(['gke', 'dev']);
    expect(profilesFor('other', profiles).map((p) => p.name)).toEqual(['dev', 'gke']);
  });

  it('says why there is nothing to pick', () => {
    expect(promotionChoices({ contexts: [], profiles }).problem).toMatch(/^no other kubeconfig context/);
    expect(promotionChoices({ contexts: ['gke'], profiles: [] }).problem).toMatch(/^no target profile: add skiff-targets.yaml/);
  });
});

describe('rememberPromotedTarget', () => {
  it('puts the newest first, once, and keeps a few', () => {
    const gke = { context: 'gke', namespace: 'prod' };
    let list = rememberPromotedTarget([], gke);
    list = rememberPromotedTarget(list, { context: 'gke', namespace: 'ml' });
    list = rememberPromotedTarget(list, { ...gke });
    expect(list).toEqual([gke, { context: 'gke', namespace: 'ml' }]);
    for (let i = 0; i < 20; i++) list = rememberPromotedTarget(list, { context: `c${i}`, namespace: 'n' });
    expect(list).toHaveLength(MAX_PROMOTED_TARGETS);
    expect(list[0]).toEqual({ context: 'c19', namespace: 'n' });
    expect(promotedTargetLabel(gke)).toBe('gke · prod');
  });
});
