import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeLocation, parseHeaders, servingSpecFromFlags, trainingSpecFromFlags, upRequestFromFlags, wholeNumber } from './specs.js';

const cwd = '/home/me/project';

describe('codeLocation', () => {
  it('ships the script’s folder by default', () => {
    expect(codeLocation('src/train.py', undefined, cwd)).toEqual({ codeRoot: '/home/me/project/src', script: 'train.py' });
  });

  it('keeps the path below --code-dir', () => {
    expect(codeLocation('src/train.py', '.', cwd)).toEqual({ codeRoot: cwd, script: 'src/train.py' });
    expect(codeLocation('/abs/x/train.py', '/abs', cwd)).toEqual({ codeRoot: '/abs', script: 'x/train.py' });
  });
});

describe('trainingSpecFromFlags', () => {
  it('turns flags (strings) into a validated spec with defaults', () => {
    const { spec, codeRoot } = trainingSpecFromFlags(
      'train.py',
      ['--lr', '0.1'],
      { workers: '2', gpusPerWorker: '1', cpu: '2', memory: '4Gi', env: ['A=1', 'B=x=y'], name: 'my-job', retries: '1' },
      { namespace: 'team', cwd },
    );
    expect(codeRoot).toBe(cwd);
    expect(spec).toEqual({
      kind: 'training',
      name: 'my-job',
      namespace: 'team',
      script: 'train.py',
      args: ['--lr', '0.1'],
      workers: 2,
      gpusPerWorker: 1,
      resources: { cpu: '2', memory: '4Gi' },
      image: expect.any(String),
      env: { A: '1', B: 'x=y' },
      masterPort: 29500,
      backoffLimit: 1,
    });
  });

  it('derives the job name from the script', () => {
    expect(trainingSpecFromFlags('my_train.py', [], {}, { cwd }).spec.name).toMatch(/^my-train-[a-z0-9]{5}$/);
  });

  it('rejects bad values with the spec parser’s words', () => {
    expect(() => trainingSpecFromFlags('train.py', [], { workers: '0' }, { cwd })).toThrow(/--workers/);
    expect(() => trainingSpecFromFlags('train.py', [], { workers: 'two' }, { cwd })).toThrow(/--workers/);
    expect(() => trainingSpecFromFlags('train.py', [], { memory: '4GB' }, { cwd })).toThrow(/4Gi/);
    expect(() => trainingSpecFromFlags('train.py', [], { env: ['NOEQUALS'] }, { cwd })).toThrow(/--env/);
    expect(() => trainingSpecFromFlags('/elsewhere/train.py', [], { codeDir: '.' }, { cwd })).toThrow(/inside the code folder/);
  });

  it('accepts the short --gpus spelling', () => {
    expect(trainingSpecFromFlags('train.py', [], { gpus: '2' }, { cwd }).spec.gpusPerWorker).toBe(2);
  });
});

describe('servingSpecFromFlags', () => {
  it('reads port and replicas', () => {
    const { spec } = servingSpecFromFlags(path.join('app', 'serve.py'), [], { port: '9000', replicas: '3' }, { cwd });
    expect(spec).toMatchObject({ kind: 'serving', script: 'serve.py', port: 9000, replicas: 3, namespace: 'skiff' });
  });

  it('rejects a bad port', () => {
    expect(() => servingSpecFromFlags('serve.py', [], { port: '70000' }, { cwd })).toThrow(/--port/);
  });
});

describe('upRequestFromFlags', () => {
  it('parses numbers and keeps only what was given', () => {
    expect(upRequestFromFlags({ profile: 'fake-gpu', workers: '3', gpusPerNode: '2' }, 'skiff')).toEqual({ name: 'skiff', profile: 'fake-gpu', workers: 3, gpusPerNode: 2 });
    expect(upRequestFromFlags({ profile: 'fake-gpu', dra: true }, 'skiff')).toEqual({ name: 'skiff', profile: 'fake-gpu', dra: true });
    expect(upRequestFromFlags({ dra: false }, 'skiff')).toEqual({ name: 'skiff', dra: false });
    expect(upRequestFromFlags({ with: 'mlflow, ' }, 'skiff')).toEqual({ name: 'skiff', addons: ['mlflow'] });
    expect(upRequestFromFlags({ name: 'other', image: 'kindest/node:v1' }, 'skiff')).toEqual({ name: 'other', nodeImage: 'kindest/node:v1' });
    expect(upRequestFromFlags({ gpuSharing: '2' }, 'skiff')).toEqual({ name: 'skiff', gpuSharing: 2 });
  });

  it('takes a share of a GPU for a job as a slice of one GPU', () => {
    expect(trainingSpecFromFlags('t.py', [], { gpuShare: '0.25' }, { cwd: '/w' }).spec).toMatchObject({ gpusPerWorker: 1, gpuShare: 0.25 });
    expect(() => upRequestFromFlags({ gpuSharing: '0' }, 'skiff')).toThrow(/--gpu-sharing must be a whole number ≥ 1/);
  });

  it('rejects bad values as BAD_INPUT', () => {
    expect(() => upRequestFromFlags({ workers: '-1' }, 'skiff')).toThrow(/--workers/);
    expect(() => upRequestFromFlags({ profile: 'tpu' }, 'skiff')).toThrow(/--profile/);
    expect(() => wholeNumber('--x', '1.5')).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});

describe('parseHeaders', () => {
  it('splits on the first colon', () => {
    expect(parseHeaders(['Content-Type: application/json', 'X-A:b:c'])).toEqual({ 'Content-Type': 'application/json', 'X-A': 'b:c' });
    expect(() => parseHeaders(['nope'])).toThrow(/Name: value/);
  });
});
