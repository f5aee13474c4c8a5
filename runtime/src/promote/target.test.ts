import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTargetProfile, parseTargets, targetFiles } from './target.js';

describe('target profiles', () => {
  it('fills defaults and keeps what is given', () => {
    const { dev } = parseTargets('dev:\n  registry: localhost:5000\n  nodeSelector: { pool: gpu }\n');
    expect(dev).toEqual({
      registry: 'localhost:5000',
      namespace: 'skiff',
      gpuResource: 'nvidia.com/gpu',
      nodeSelector: { pool: 'gpu' },
      tolerations: [],
      serviceType: 'ClusterIP',
      imagePullSecrets: [],
      form: 'auto',
      scratchSize: '10Gi',
    });
  });

  it('names the profile and the field that is wrong', () => {
    expect(() => parseTargets('gke:\n  registry: https://gcr.io/x\n')).toThrow(/profile 'gke': registry: a registry host and path, without scheme/);
    expect(() => parseTargets('gke:\n  registry: gcr.io/x\n  serviceType: Ingress\n')).toThrow(/profile 'gke': serviceType/);
    expect(() => parseTargets('gke:\n  registry: gcr.io/x\n  password: hunter2\n')).toThrow(/profile 'gke'.*password/);
    expect(() => parseTargets('- a\n- b\n')).toThrow(/must map profile names to profiles/);
    expect(() => parseTargets('a: [\n')).toThrow(/not valid YAML/);
  });

  it('looks in $SKIFF_TARGETS, then the workspace, then the user config, and says where it looked', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-targets-'));
    const file = path.join(dir, 'skiff-targets.yaml');
    writeFileSync(file, 'cloud:\n  registry: localhost:5000\n  namespace: prod\n');
    const files = targetFiles(dir, { XDG_CONFIG_HOME: path.join(dir, 'config') });
    expect(files).toEqual([file, path.join(dir, 'config', 'skiff', 'targets.yaml')]);
    expect(loadTargetProfile('cloud', files)).toMatchObject({ profile: { namespace: 'prod' }, file });
    expect(() => loadTargetProfile('other', files)).toThrow(new RegExp(`no target profile 'other' in ${file.replace(/[.]/g, '\\.')}`));
    expect(targetFiles(dir, { SKIFF_TARGETS: '/x.yaml', XDG_CONFIG_HOME: '/c' })[0]).toBe('/x.yaml');
  });
});
