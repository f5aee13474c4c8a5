import { describe, expect, it } from 'vitest';
import { DEFAULT_JOB_IMAGE, DEFAULT_NAMESPACE, SpecError, jobNameFor, parseEnvPairs, parseJobSpec, parseQuantity, parseServingSpec, parseTrainingSpec } from './job-spec.js';

function specError(fn: () => unknown): SpecError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return err as SpecError;
  }
  throw new Error('expected a SpecError');
}

describe('parseTrainingSpec', () => {
  it('fills defaults', () => {
    const spec = parseTrainingSpec({ name: 'train-1', script: 'train.py' });
    expect(spec).toEqual({
      kind: 'training',
      name: 'train-1',
      namespace: DEFAULT_NAMESPACE,
      script: 'train.py',
      args: [],
      workers: 1,
      gpusPerWorker: 0,
      resources: {},
      image: DEFAULT_JOB_IMAGE,
      env: {},
      masterPort: 29500,
    });
  });

  it('keeps given values and accepts numeric strings from flags', () => {
    const spec = parseTrainingSpec({
      kind: 'training',
      name: 'ddp',
      script: 'src/train.py',
      args: ['--epochs', '3'],
      workers: '4',
      gpusPerWorker: 2,
      resources: { cpu: '500m', memory: '4Gi' },
      env: { LR: '0.1' },
      backoffLimit: 1,
    });
    expect(spec.workers).toBe(4);
    expect(spec.gpusPerWorker).toBe(2);
    expect(spec.resources).toEqual({ cpu: '500m', memory: '4Gi' });
    expect(spec.args).toEqual(['--epochs', '3']);
    expect(spec.backoffLimit).toBe(1);
    expect(spec.script).toBe('src/train.py');
  });

  it('derives a name from the script when none is given', () => {
    expect(parseTrainingSpec({ script: 'My Train.py' }).name).toMatch(/^my-train-[a-z0-9]{5}$/);
  });

  it.each([
    [{ workers: 0 }, 'workers', '--workers must be between 1 and 64 (got 0)'],
    [{ workers: 65 }, 'workers', '--workers must be between 1 and 64 (got 65)'],
    [{ workers: 1.5 }, 'workers', '--workers must be a whole number between 1 and 64 (got 1.5)'],
    [{ workers: 'two' }, 'workers', "(got 'two')"],
    [{ gpusPerWorker: 17 }, 'gpusPerWorker', '--gpus must be between 0 and 16 (got 17)'],
    [{ masterPort: 70000 }, 'masterPort', '--master-port'],
    [{ name: 'Train_1' }, 'name', '--name must be at most 40 characters'],
    [{ name: '1train' }, 'name', 'starting with a letter'],
    [{ name: 'a'.repeat(41) }, 'name', '--name'],
    [{ namespace: 'Bad NS' }, 'namespace', '--namespace'],
    [{ resources: { memory: '4GB' } }, 'resources.memory', "--memory must be a Kubernetes quantity such as 512Mi or 4Gi (got '4GB'); did you mean 4Gi?"],
    [{ resources: { cpu: 'two' } }, 'resources.cpu', '--cpu must be a Kubernetes quantity'],
    [{ resources: { cpu: '0' } }, 'resources.cpu', '--cpu'],
    [{ env: { '1BAD': 'x' } }, 'env', "--env name '1BAD' is not a valid variable name"],
    [{ env: { MASTER_ADDR: 'x' } }, 'env', '--env MASTER_ADDR is set by Skiff'],
    [{ script: '/abs/train.py' }, 'script', 'relative'],
    [{ script: '../train.py' }, 'script', 'inside the code folder'],
    [{ script: '' }, 'script', 'a script to run is required'],
    [{ image: '' }, 'image', '--image'],
  ])('rejects %j', (override, field, message) => {
    const err = specError(() => parseTrainingSpec({ name: 'ok', script: 'train.py', ...override }));
    expect(err.field).toBe(field);
    expect(err.message).toContain(message);
  });

  it('asks for a script when none is given', () => {
    const err = specError(() => parseTrainingSpec({ name: 'ok' }));
    expect(err.field).toBe('script');
    expect(err.message).toContain('a script to run is required');
  });

  it('rejects non-objects', () => {
    expect(specError(() => parseTrainingSpec('train.py')).message).toBe('job spec must be an object');
  });
});

describe('parseServingSpec', () => {
  it('fills defaults', () => {
    const spec = parseServingSpec({ name: 'api', script: 'serve.py' });
    expect(spec).toMatchObject({ kind: 'serving', replicas: 1, port: 8000, gpusPerWorker: 0, namespace: 'skiff' });
    expect(spec).not.toHaveProperty('workers');
  });

  it('validates replicas and port', () => {
    expect(specError(() => parseServingSpec({ script: 's.py', replicas: 33 })).message).toContain('--replicas must be between 1 and 32 (got 33)');
    expect(specError(() => parseServingSpec({ script: 's.py', port: 0 })).field).toBe('port');
    expect(specError(() => parseServingSpec({ script: 's.py', env: { PORT: '1' } })).message).toContain('--env PORT is set by Skiff');
  });
});

describe('parseJobSpec', () => {
  it('dispatches on kind and round-trips through JSON', () => {
    const training = parseTrainingSpec({ name: 't', script: 'a.py', workers: 2 });
    expect(parseJobSpec(JSON.parse(JSON.stringify(training)))).toEqual(training);
    expect(parseJobSpec({ kind: 'serving', name: 's', script: 'a.py' }).kind).toBe('serving');
  });

  it('rejects an unknown kind', () => {
    const err = specError(() => parseJobSpec({ kind: 'batch', script: 'a.py' }));
    expect(err.field).toBe('kind');
    expect(err.message).toContain("'training' or 'serving'");
  });
});

describe('jobNameFor', () => {
  const now = new Date('2026-11-23T11:00:00.000Z');

  it('is the script base name plus a short suffix', () => {
    const name = jobNameFor('experiments/train.py', now);
    expect(name).toMatch(/^train-[a-z0-9]{5}$/);
    expect(jobNameFor('experiments/train.py', now)).toBe(name);
    expect(jobNameFor('train.py', new Date(now.getTime() + 1))).not.toBe(name);
  });

  it('always yields a valid name of at most 40 characters', () => {
    for (const script of ['Train_Model v2.py', '123.py', '---.py', 'x'.repeat(100) + '.py', 'notebook.ipynb', 'ÜBER.py']) {
      const name = jobNameFor(script, now);
      expect(name.length).toBeLessThanOrEqual(40);
      expect(name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
      expect(() => parseTrainingSpec({ name, script: 'a.py' })).not.toThrow();
    }
    expect(jobNameFor('123.py', now)).toMatch(/^job-123-/);
    expect(jobNameFor('Train_Model v2.py', now)).toMatch(/^train-model-v2-/);
  });
});

describe('parseEnvPairs', () => {
  it('splits at the first "="', () => {
    expect(parseEnvPairs(['A=1', 'B=x=y', 'EMPTY=', 'A=2'])).toEqual({ A: '2', B: 'x=y', EMPTY: '' });
  });

  it('explains bad pairs and names', () => {
    expect(specError(() => parseEnvPairs(['NOVALUE'])).message).toBe("--env expects NAME=VALUE (got 'NOVALUE')");
    expect(specError(() => parseEnvPairs(['=x'])).field).toBe('env');
    expect(specError(() => parseEnvPairs(['MY-VAR=1'])).message).toContain("'MY-VAR' is not a valid variable name");
  });
});

describe('parseQuantity', () => {
  it.each([
    ['2', 2],
    ['500m', 0.5],
    ['1.5', 1.5],
    ['4Gi', 4 * 2 ** 30],
    ['16331572Ki', 16331572 * 1024],
    ['1G', 1e9],
    ['1e3', 1000],
    ['100n', 1e-7],
  ])('%s', (q, n) => expect(parseQuantity(q)).toBeCloseTo(n));

  it('is NaN for garbage', () => expect(parseQuantity('4GB')).toBeNaN());
});
