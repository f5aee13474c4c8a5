// A serving job on a local port: `skiff forward JOB` makes it answer curl, a browser or any client
// on 127.0.0.1 the way `kubectl port-forward` would, through the API server. Each connection goes to
// a replica that is ready then, so a replaced pod does not end the forward.
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { PortForward, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { SkiffError } from '../errors.js';
import { HTTP_PORT_NAME } from '../manifests/serving.js';
import { jobSelector } from '../manifests/labels.js';
import { kubeClients } from '../k8s/client.js';
import { isReady } from './reasons.js';
import { waitForReadyReplica } from './call.js';

export interface ForwardOptions {
  /** The local port (0: any free one). */
  port?: number;
  readyTimeoutMs?: number;
  signal?: AbortSignal;
  /** A connection that could not be forwarded (the connection is closed; the forward goes on). */
  onError?: (err: Error) => void;
}

export interface Forward {
  url: string;
  port: number;
  /** The port the job's server listens on in its pods. */
  targetPort: number;
  close(): Promise<void>;
}

/** The port a serving pod's server listens on: its container port named http. */
export function servingPort(pod: V1Pod): number | undefined {
  for (const c of pod.spec?.containers ?? []) {
    const port = c.ports?.find((p) => p.name === HTTP_PORT_NAME)?.containerPort;
    if (port) return port;
  }
  return undefined;
}

export async function forwardJob(kc: KubeConfig, namespace: string, job: string, opts: ForwardOptions = {}): Promise<Forward> {
  await waitForReadyReplica(kc, namespace, job, opts.readyTimeoutMs ?? 120_000, opts.signal);
  const { core } = kubeClients(kc);
  const readyPod = async () => {
    const pods = await core.listNamespacedPod({ namespace, labelSelector: jobSelector(job) });
    const pod = pods.items.find((p) => isReady(p) && !p.metadata?.deletionTimestamp);
    if (!pod) throw new SkiffError('COMMAND_FAILED', `serving job '${job}' has no ready replica`, { hint: `see \`skiff describe ${job}\`` });
    return pod;
  };
  const first = await readyPod();
  const targetPort = servingPort(first);
  if (!targetPort) throw new SkiffError('BAD_INPUT', `'${job}' has no port named ${HTTP_PORT_NAME}; only serving jobs (skiff serve) can be forwarded`);
  const forwarder = new PortForward(kc);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    readyPod()
      .then((pod) => forwarder.portForward(namespace, pod.metadata!.name!, [targetPort], socket, null, socket))
      .catch((err: unknown) => {
        opts.onError?.(err instanceof Error ? err : new Error(String(err)));
        socket.destroy();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new SkiffError('BAD_INPUT', `port ${opts.port} is already in use on this machine`, { hint: 'pick another with --port, or leave it out for a free one' })
          : err,
      ),
    );
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  opts.signal?.addEventListener('abort', () => void close(), { once: true });
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, targetPort, close };
}
