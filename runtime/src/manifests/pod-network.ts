// Skiff's pod network for kind clusters: each node's pods get the node's podCIDR on ptp
// links, and every node routes the other nodes' podCIDRs via their IPs on the Docker network.
// That is what kind's default CNI (kindnetd) sets up; a local cluster's nodes do not come and
// go, so Skiff writes it at creation, and again after a node restarts (which empties its routes
// and may change its address), instead of running a CNI daemon whose image would have to be
// pulled or built.

export interface NodeAddress {
  name: string;
  ip: string;
  podCIDR: string;
}

export interface NodeNetworkPlan {
  node: string;
  /** Written to /etc/cni/net.d/10-skiff.conflist. */
  conflist: string;
  routes: { cidr: string; via: string }[];
}

export const CNI_CONFLIST_PATH = '/etc/cni/net.d/10-skiff.conflist';

export function cniConflist(podCIDR: string): object {
  return {
    cniVersion: '0.4.0',
    name: 'skiff',
    plugins: [
      {
        type: 'ptp',
        // Pod-to-pod traffic keeps its source address; there is no outside world to NAT to offline.
        ipMasq: false,
        ipam: { type: 'host-local', dataDir: '/run/cni-ipam-state', routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet: podCIDR }]] },
        mtu: 1500,
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

export function podNetworkPlan(nodes: NodeAddress[]): NodeNetworkPlan[] {
  return nodes.map((node) => ({
    node: node.name,
    conflist: JSON.stringify(cniConflist(node.podCIDR), null, 2),
    routes: nodes.filter((other) => other.name !== node.name).map((other) => ({ cidr: other.podCIDR, via: other.ip })),
  }));
}

/** Node addresses from `kubectl get nodes -o json`; undefined until every node has a podCIDR. */
export function nodeAddresses(nodeList: { items?: unknown[] }): NodeAddress[] | undefined {
  const nodes = (nodeList.items ?? []) as {
    metadata?: { name?: string };
    spec?: { podCIDR?: string };
    status?: { addresses?: { type: string; address: string }[] };
  }[];
  const addresses = nodes.map((n) => ({
    name: n.metadata?.name ?? '',
    ip: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
    podCIDR: n.spec?.podCIDR ?? '',
  }));
  if (addresses.length === 0 || addresses.some((a) => !a.name || !a.ip || !a.podCIDR)) return undefined;
  return addresses;
}
