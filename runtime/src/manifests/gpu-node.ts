// The gpu profile's work inside each kind node, in nvkind's steps (pkg/nvkind/node.go). The host's
// NVIDIA runtime has put the node's GPUs and the driver into the node container (kind-config.ts
// mounts /dev/null at /var/run/nvidia-container-devices/<gpu>); containerd inside the node still
// needs NVIDIA's runtime to hand them on to pods. Pure: the scripts are run by the kind provider.

/** Where a node container's GPUs are named: one mount per GPU, or `all`. */
export const DEVICE_MOUNT_DIR = '/var/run/nvidia-container-devices';

export interface ContainerMount {
  Source?: string;
  Destination?: string;
}

/** The GPUs a node container was given (["0", "1"], ["all"]), from its mounts; [] for a node without GPUs. */
export function visibleGpus(mounts: ContainerMount[]): string[] {
  return mounts.filter((m) => m.Source === '/dev/null' && m.Destination?.startsWith(`${DEVICE_MOUNT_DIR}/`)).map((m) => m.Destination!.slice(DEVICE_MOUNT_DIR.length + 1));
}

/**
 * Stops the driver recreating device nodes on demand (ModifyDeviceFiles: 0), then removes the
 * host's /dev/nvidiaN nodes of GPUs this node was not given, so each node sees only its own.
 * Toolkits from v1.19 already mask the params file; older ones hid the directory behind a tmpfs.
 */
export function maskOtherGpusScript(visible: string[]): string {
  const keep = visible.includes('all') ? undefined : visible;
  return [
    'set -e',
    "if ! grep -q '^ModifyDeviceFiles: 0' /proc/driver/nvidia/params; then",
    '  umount -R /proc/driver/nvidia',
    '  cp /proc/driver/nvidia/params /root/gpu-params',
    "  sed -i 's/^ModifyDeviceFiles: 1$/ModifyDeviceFiles: 0/' /root/gpu-params",
    '  mount --bind /root/gpu-params /proc/driver/nvidia/params',
    'fi',
    ...(keep
      ? [
          `keep=" ${keep.join(' ')} "`,
          'for dev in /dev/nvidia[0-9]*; do',
          '  [ -e "$dev" ] || continue',
          '  n=${dev#/dev/nvidia}',
          '  case "$keep" in *" $n "*) ;; *) while umount "$dev" 2>/dev/null; do :; done; rm -f "$dev" ;; esac',
          'done',
        ]
      : []),
  ].join('\n');
}

/**
 * NVIDIA's container toolkit from its apt repository, unless the node image already has it (Skiff's
 * own does: built from the Go module proxy, in CDI mode, so a gpu cluster fetches nothing).
 */
export const INSTALL_TOOLKIT_SCRIPT = [
  'set -e',
  'command -v nvidia-ctk >/dev/null && exit 0',
  'export DEBIAN_FRONTEND=noninteractive',
  'apt-get update',
  'apt-get install -y gpg curl',
  'curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey | gpg --dearmor -o /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg',
  "curl -fsSL https://nvidia.github.io/libnvidia-container/stable/deb/nvidia-container-toolkit.list | sed 's#deb https://#deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://#g' > /etc/apt/sources.list.d/nvidia-container-toolkit.list",
  'apt-get update',
  'apt-get install -y nvidia-container-toolkit',
].join('\n');

/**
 * containerd's `nvidia` runtime handler (the RuntimeClass of GPU pods); the CDI spec of the node's
 * GPUs, read from the driver the node was given (what the runtime injects in CDI mode, by index
 * and by UUID, as the device plugin names them); then containerd restarted.
 */
export const CONFIGURE_CONTAINERD_SCRIPT = [
  'set -e',
  'nvidia-ctk runtime configure --runtime=containerd --config-source=file',
  'mkdir -p /var/run/cdi',
  'nvidia-ctk cdi generate --output=/var/run/cdi/nvidia.yaml',
  'systemctl restart containerd',
].join('\n');
