// How an add-on's install waits: one poll loop for every add-on, and one reading of when a
// Deployment has rolled out (the server or controller an add-on runs).
import type { KubeConfig, V1Deployment } from '@kubernetes/client-node';
import { SkiffError } from '../errors.js';
import { kubeClients } from '../k8s/client.js';
import { sleep } from '../k8s/streams.js';
import { ADDONS_NAMESPACE } from '../manifests/mlflow-env.js';
import { ADDON_LABEL } from '../manifests/mlflow.js';

/** How long an add-on gets for each thing it waits for. */
export const ADDON_READY_TIMEOUT_MS = 4 * 60_000;

/**
 * Checks `ready` every second until it says yes; past the time, throws what `timedOut` says (it may
 * read the cluster for why). `ready` may throw to stop early with a reason of its own.
 */
export async function pollUntil(ready: () => Promise<boolean>, opts: { signal?: AbortSignal; timedOut: () => Promise<SkiffError> | SkiffError }): Promise<void> {
  const deadline = Date.now() + ADDON_READY_TIMEOUT_MS;
  while (!(await ready())) {
    opts.signal?.throwIfAborted();
    if (Date.now() >= deadline) throw await opts.timedOut();
    await sleep(1000, opts.signal);
  }
}

/** The Deployment's current template runs, ready, with no replica unavailable. */
export function rolledOut(d: V1Deployment | undefined): boolean {
  const s = d?.status;
  const current = (s?.observedGeneration ?? 0) >= (d?.metadata?.generation ?? 0) && (s?.updatedReplicas ?? 0) >= 1;
  return current && (s?.readyReplicas ?? 0) >= 1 && !s?.unavailableReplicas;
}

/** An add-on's server: its Deployment in the add-ons' namespace, named after the add-on, its pods labelled so. */
export interface AddonServer {
  cluster: string;
  /** Its name in messages: "MLflow". */
  title: string;
  name: string;
  signal?: AbortSignal;
}

/** Waits until the server's Deployment has rolled out; past the time, says why its pods wait (ImagePullBackOff…). */
export async function waitForServer(kc: KubeConfig, server: AddonServer): Promise<void> {
  const { apps, core } = kubeClients(kc);
  await pollUntil(async () => rolledOut(await apps.readNamespacedDeployment({ name: server.name, namespace: ADDONS_NAMESPACE })), {
    signal: server.signal,
    timedOut: async () => {
      const pods = await core.listNamespacedPod({ namespace: ADDONS_NAMESPACE, labelSelector: `${ADDON_LABEL}=${server.name}` });
      const why = pods.items
        .flatMap((p) => p.status?.containerStatuses ?? [])
        .map((c) => c.state?.waiting?.reason ?? c.lastState?.terminated?.reason)
        .find(Boolean);
      return new SkiffError('TIMEOUT', `${server.title} on cluster '${server.cluster}' is not ready after ${ADDON_READY_TIMEOUT_MS / 60_000} minutes${why ? `: ${why}` : ''}`, {
        hint: `see \`kubectl --context kind-${server.cluster} -n ${ADDONS_NAMESPACE} logs deploy/${server.name}\``,
      });
    },
  });
}
