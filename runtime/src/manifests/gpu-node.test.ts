import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { gpuDeviceMounts } from './kind-config.js';
import { CONFIGURE_CONTAINERD_SCRIPT, INSTALL_TOOLKIT_SCRIPT, maskOtherGpusScript, visibleGpus } from './gpu-node.js';

const bashParses = (script: string) => execFileSync('bash', ['-n', '-c', script]);

describe('gpu node setup', () => {
  it("reads a node's GPUs back from the mounts the kind config gave it", () => {
    const mounts = gpuDeviceMounts(1, 2).map((m) => ({ Source: m.hostPath, Destination: m.containerPath }));
    expect(visibleGpus([...mounts, { Source: '/var/lib/docker/x', Destination: '/var/lib/containerd' }])).toEqual(['2', '3']);
    expect(visibleGpus(gpuDeviceMounts(0, 0).map((m) => ({ Source: m.hostPath, Destination: m.containerPath })))).toEqual(['all']);
    expect(visibleGpus([])).toEqual([]);
  });

  it("removes only other GPUs' device nodes, and none when the node has them all", () => {
    const own = maskOtherGpusScript(['2', '3']);
    expect(own).toContain('keep=" 2 3 "');
    expect(own).toContain('ModifyDeviceFiles: 0');
    expect(maskOtherGpusScript(['all'])).not.toContain('rm -f');
    for (const script of [own, maskOtherGpusScript(['all']), INSTALL_TOOLKIT_SCRIPT, CONFIGURE_CONTAINERD_SCRIPT]) bashParses(script);
  });

  it('keeps a toolkit the node image has, and registers the runtime the nvidia RuntimeClass names', () => {
    expect(INSTALL_TOOLKIT_SCRIPT.split('\n')[1]).toBe('command -v nvidia-ctk >/dev/null && exit 0');
    expect(CONFIGURE_CONTAINERD_SCRIPT).toContain('nvidia-ctk runtime configure --runtime=containerd');
    expect(CONFIGURE_CONTAINERD_SCRIPT).toContain('nvidia-ctk cdi generate --output=/var/run/cdi/nvidia.yaml');
    expect(CONFIGURE_CONTAINERD_SCRIPT.split('\n').at(-1)).toBe('systemctl restart containerd');
  });
});
