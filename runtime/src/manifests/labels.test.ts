import { describe, expect, it } from 'vitest';
import { parseServingSpec, parseTrainingSpec } from '../spec/job-spec.js';
import { ANNOTATIONS, LABELS, jobAnnotations, jobLabels, jobSelector, specFromAnnotations } from './labels.js';

const spec = parseTrainingSpec({ name: 'train-a1b2c', script: 'train.py', workers: 2, env: { LR: '0.1' } });

describe('labels', () => {
  it('selects a job by name', () => {
    expect(jobSelector('train-a1b2c')).toBe('skiff.dev/job=train-a1b2c');
  });

  it('marks every object as managed by skiff, with job and kind', () => {
    expect(jobLabels(spec)).toEqual({
      'app.kubernetes.io/managed-by': 'skiff',
      'skiff.dev/job': 'train-a1b2c',
      'skiff.dev/kind': 'training',
    });
    expect(LABELS.rank).toBe('skiff.dev/rank');
  });

  it('recovers the spec from annotations, its --env names without their values', () => {
    const annotations = jobAnnotations(spec, { createdBy: 'alice' });
    expect(annotations[ANNOTATIONS.createdBy]).toBe('alice');
    expect(annotations[ANNOTATIONS.spec]).not.toContain('0.1');
    expect(specFromAnnotations(annotations)).toEqual({ ...spec, env: { LR: '' } });
    const serving = parseServingSpec({ name: 'api', script: 'serve.py', port: 9000 });
    expect(specFromAnnotations(jobAnnotations(serving))).toEqual(serving);
  });

  it('returns undefined for missing or broken annotations', () => {
    expect(specFromAnnotations(undefined)).toBeUndefined();
    expect(specFromAnnotations({})).toBeUndefined();
    expect(specFromAnnotations({ [ANNOTATIONS.spec]: '{not json' })).toBeUndefined();
    expect(specFromAnnotations({ [ANNOTATIONS.spec]: '{"kind":"training","workers":0,"script":"a.py"}' })).toBeUndefined();
  });
});
