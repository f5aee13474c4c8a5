// GPU utilisation of a job's pods, read with nvidia-smi inside each GPU container (through exec).
// The kubelet no longer reports accelerator usage (its accelerator stats were removed with
// DisableAcceleratorUsageMetrics), and a DCGM exporter is more than a local cluster should carry;
// the NVIDIA container runtime puts nvidia-smi into every container it hands GPUs to.
import { Writable } from 'node:stream';
import { Exec, type KubeConfig } from '@kubernetes/client-node';
import type { PodRef } from './log-merge.js';

export const NVIDIA_SMI_QUERY = ['nvidia-smi', '--query-gpu=utilization.gpu', '--format=csv,noheader,nounits'];

/** nvidia-smi's CSV ("87\n12\n", one GPU a line) -> the mean utilisation in percent; undefined without numbers. */
export function parseGpuUtilization(csv: string): number | undefined {
  const values = csv
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^\d+(\.\d+)?$/.test(line))
    .map(Number);
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
}

/**
 * The pod's GPU utilisation now, or undefined when it cannot be read: no nvidia-smi in the image
 * (fake GPUs, a custom image), exec forbidden (a promoted job on a locked-down cluster), or no
 * answer within timeoutMs. Never throws: a missing reading must not stop the other metrics.
 */
export function podGpuUtilization(kc: KubeConfig, namespace: string, pod: PodRef, timeoutMs = 5000): Promise<number | undefined> {
  return new Promise((resolve) => {
    let out = '';
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, done) {
        out += chunk.toString('utf8');
        done();
      },
    });
    let socket: { close(): void; on?(event: 'close', listener: () => void): void } | undefined;
    let finished = false;
    const finish = (value: number | undefined) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket?.close();
      resolve(value);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    new Exec(kc)
      .exec(namespace, pod.name, pod.container, NVIDIA_SMI_QUERY, stdout, null, null, false, (status) => finish(status.status === 'Success' ? parseGpuUtilization(out) : undefined))
      .then(
        (ws) => {
          socket = ws;
          // Closed without a status (the pod went away): no reading.
          ws.on?.('close', () => finish(undefined));
        },
        () => finish(undefined),
      );
  });
}
