import { describe, expect, it } from 'vitest';
import { parseTrainingSpec } from '../spec/job-spec.js';
import { envSecret, withEnvValues } from './env-secret.js';
import { specFromAnnotations, jobAnnotations } from './labels.js';

describe('the --env Secret', () => {
  const spec = parseTrainingSpec({ name: 'train', script: 'a.py', env: { TOKEN: 'abc=def', EMPTY: '', UNICODE: 'é✓' } });

  it('round-trips every value, empty and non-ASCII ones too, onto the names an annotation kept', () => {
    const annotated = specFromAnnotations(jobAnnotations(spec))!;
    expect(annotated.env).toEqual({ TOKEN: '', EMPTY: '', UNICODE: '' });
    expect(withEnvValues(annotated, envSecret(spec))).toEqual(spec);
  });

  it('is an error, not an empty value, when the Secret or one of its keys is gone', () => {
    const annotated = specFromAnnotations(jobAnnotations(spec))!;
    expect(() => withEnvValues(annotated, undefined)).toThrow("the --env values of job 'train' are gone (Secret train-env lacks TOKEN, EMPTY, UNICODE)");
    const partial = envSecret(spec)!;
    delete partial.data!.TOKEN;
    expect(() => withEnvValues(annotated, partial)).toThrow(/lacks TOKEN\)/);
  });

  it('is not needed by a job without --env', () => {
    const plain = parseTrainingSpec({ name: 'train', script: 'a.py' });
    expect(envSecret(plain)).toBeUndefined();
    expect(withEnvValues(plain, undefined)).toBe(plain);
  });
});
