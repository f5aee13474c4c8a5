// @vitest-environment jsdom
import './testing/jsdom-shims';
import { describe, expect, it } from 'vitest';
import { clusterState } from './sidebar';

const node = (ready: boolean) => ({ name: 'n', role: 'worker' as const, ready, gpus: 0 });
const cluster = (nodes: ReturnType<typeof node>[]) => ({ name: 'skiff', context: 'kind-skiff', profile: 'cpu' as const, nodes });

describe('clusterState', () => {
  it('is ready only when the cluster is made and every node is Ready', () => {
    expect(clusterState(cluster([node(true), node(true)]), undefined)).toBe('ready');
    expect(clusterState(cluster([node(true), node(false)]), undefined)).toBe('degraded');
    // kind lists a cluster before its nodes register.
    expect(clusterState(cluster([]), undefined)).toBe('degraded');
    expect(clusterState(cluster([node(true)]), { action: 'starting', progress: [] })).toBe('starting');
  });
});
