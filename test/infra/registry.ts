// The registry the promotion tests push to (Debian's docker-registry, test/infra/ensure-registry.sh),
// and how a kind cluster's nodes pull from it: `localhost:PORT` inside a node is the node itself, so
// containerd is pointed at the host through the kind network's gateway.
import { execFileSync } from 'node:child_process';

export const REGISTRY = `localhost:${process.env.SKIFF_REGISTRY_PORT ?? '5000'}`;

export function mirrorRegistryIntoNodes(cluster: string): void {
  const gateway = execFileSync('docker', ['network', 'inspect', 'kind', '-f', '{{range .IPAM.Config}}{{if .Gateway}}{{.Gateway}} {{end}}{{end}}'], { encoding: 'utf8' })
    .split(' ')
    .find((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip))!;
  const hostsToml = `server = "http://${REGISTRY}"\n\n[host."http://${gateway}:${REGISTRY.split(':')[1]}"]\n  capabilities = ["pull", "resolve"]\n`;
  const nodes = execFileSync('docker', ['ps', '--filter', `label=io.x-k8s.kind.cluster=${cluster}`, '--format', '{{.Names}}'], { encoding: 'utf8' })
    .trim()
    .split('\n');
  for (const node of nodes) {
    execFileSync('docker', ['exec', '-i', node, 'sh', '-c', `mkdir -p /etc/containerd/certs.d/${REGISTRY} && cat > /etc/containerd/certs.d/${REGISTRY}/hosts.toml`], {
      input: hostsToml,
    });
  }
}
