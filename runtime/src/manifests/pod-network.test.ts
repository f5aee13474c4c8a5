import { describe, expect, it } from 'vitest';
import { cniConflist, nodeAddresses, podNetworkPlan } from './pod-network.js';

const node = (name: string, ip: string, podCIDR?: string) => ({
  metadata: { name },
  spec: podCIDR ? { podCIDR } : {},
  status: {
    addresses: [
      { type: 'Hostname', address: name },
      { type: 'InternalIP', address: ip },
    ],
  },
});

describe('pod network', () => {
  it('routes every other node’s pod range via that node', () => {
    const plan = podNetworkPlan([
      { name: 'cp', ip: '172.18.0.2', podCIDR: '10.244.0.0/24' },
      { name: 'w1', ip: '172.18.0.3', podCIDR: '10.244.1.0/24' },
      { name: 'w2', ip: '172.18.0.4', podCIDR: '10.244.2.0/24' },
    ]);
    expect(plan.map((p) => p.node)).toEqual(['cp', 'w1', 'w2']);
    expect(plan[1].routes).toEqual([
      { cidr: '10.244.0.0/24', via: '172.18.0.2' },
      { cidr: '10.244.2.0/24', via: '172.18.0.4' },
    ]);
    expect(JSON.parse(plan[1].conflist).plugins[0].ipam.ranges).toEqual([[{ subnet: '10.244.1.0/24' }]]);
  });

  it('uses the plugins kind nodes ship (ptp, host-local, portmap)', () => {
    const conf = cniConflist('10.244.3.0/24') as { plugins: { type: string; ipam?: { type: string } }[] };
    expect(conf.plugins.map((p) => p.type)).toEqual(['ptp', 'portmap']);
    expect(conf.plugins[0].ipam?.type).toBe('host-local');
  });

  it('waits until every node has a pod range and an address', () => {
    expect(nodeAddresses({ items: [node('cp', '172.18.0.2', '10.244.0.0/24'), node('w1', '172.18.0.3')] })).toBeUndefined();
    expect(nodeAddresses({ items: [] })).toBeUndefined();
    expect(nodeAddresses({ items: [node('cp', '172.18.0.2', '10.244.0.0/24')] })).toEqual([{ name: 'cp', ip: '172.18.0.2', podCIDR: '10.244.0.0/24' }]);
  });
});
