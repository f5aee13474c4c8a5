import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SkiffSession } from './session.js';

describe('SkiffSession on the local cluster or on another context', () => {
  let dir: string;
  let kubeconfigBefore: string | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-session-'));
    const contexts = ['kind-skiff', 'kind-other', 'prod'];
    writeFileSync(
      join(dir, 'config'),
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: contexts.map((name) => ({ name, cluster: { server: 'https://127.0.0.1:6443' } })),
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: contexts.map((name) => ({ name, context: { cluster: name, user: 'u' } })),
        'current-context': 'prod',
      }),
    );
    kubeconfigBefore = process.env.KUBECONFIG;
    process.env.KUBECONFIG = join(dir, 'config');
  });
  afterAll(() => {
    if (kubeconfigBefore === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = kubeconfigBefore;
    rmSync(dir, { recursive: true, force: true });
  });

  it('offers every context but its own as a promotion target (the provider names the local one)', () => {
    expect(new SkiffSession({ clusterName: 'skiff' }).promotionTargets(dir).contexts).toEqual(['kind-other', 'prod']);
    expect(new SkiffSession({ context: 'prod' }).promotionTargets(dir).contexts).toEqual(['kind-skiff', 'kind-other']);
  });

  it('names a promoted context as a context, never as a cluster of its own', () => {
    const remote = new SkiffSession({ clusterName: 'skiff', context: 'prod' });
    expect(remote.where).toBe("context 'prod'");
    expect(remote.clusterName).toBe('skiff');
    expect(new SkiffSession({ clusterName: 'dev' }).where).toBe("cluster 'dev'");
  });
});
