// Kueue on a local cluster (`skiff up --with kueue`): its controller built offline from the Go
// module proxy and its own manifests (runtime/images/build-kueue.sh), loaded and applied here, then
// Skiff's queues sized to the worker nodes. From then on training jobs go through the queue.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeConfig, KubernetesObject, V1CustomResourceDefinition } from '@kubernetes/client-node';
import { SkiffError } from '../errors.js';
import { cacheDir } from '../exec/tools.js';
import { buildImages } from '../images/images.js';
import { applyObject, FIELD_MANAGER, kubeClients, kubeRequest, orUndefined } from '../k8s/client.js';
import { ADDON_READY_TIMEOUT_MS, pollUntil, rolledOut } from './wait.js';
import {
  clusterQueue,
  withDraGpuCounting,
  type KueueObject,
  quotaOf,
  KUEUE_API,
  KUEUE_CONTROLLER,
  KUEUE_IMAGE,
  KUEUE_NAMESPACE,
  KUEUE_RECIPE,
  KUEUE_VERSION,
  localQueue,
  QUEUE_NAME,
  type QueueQuota,
} from '../manifests/kueue.js';
import { DEFAULT_NAMESPACE } from '../spec/job-spec.js';
import type { InstallOptions } from './mlflow.js';
import { allocatable } from '../jobs/reasons.js';
import { draGpusByNode } from '../jobs/dra-gpus.js';
import { CONTROL_PLANE_LABEL } from '../cluster/nodes.js';
import { GPU_RESOURCE } from '../manifests/gpu.js';

const [GROUP, VERSION] = KUEUE_API.split('/');

export async function installKueue(kc: KubeConfig, opts: InstallOptions): Promise<void> {
  const say = opts.onProgress ?? (() => {});
  // Cached by version: seconds once built, a few minutes the first time.
  await buildImages('kueue', say);
  await opts.loadImage(KUEUE_IMAGE);
  const objects = withDraGpuCounting(
    parseAllDocuments(await readFile(path.join(cacheDir(), 'bin', `kueue-manifests-${KUEUE_VERSION}-${KUEUE_RECIPE}`, 'kueue.yaml'), 'utf8'))
      .map((d) => d.toJS() as KubernetesObject | null)
      .filter((o): o is KubernetesObject => Boolean(o?.kind)),
  );
  const k = kubeClients(kc);
  say(`installing Kueue ${KUEUE_VERSION} (namespace ${KUEUE_NAMESPACE})`);
  const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
  for (const crd of crds) await applyCrd(kc, crd);
  await waitFor('its resource types', opts, async () => {
    const read = (await Promise.all(
      crds.map((c) => k.objects.read({ apiVersion: c.apiVersion, kind: c.kind, metadata: { name: c.metadata!.name! } })),
    )) as V1CustomResourceDefinition[];
    return read.every((c) => c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True'));
  });
  for (const obj of objects.filter((o) => o.kind !== 'CustomResourceDefinition')) await applyObject(k.objects, obj);
  const since = Date.now() - 5_000;
  await waitFor('its controller', opts, async () => {
    // Pods of this install only: one left from an older install may still be failing on its own.
    const pods = (await k.core.listNamespacedPod({ namespace: KUEUE_NAMESPACE })).items.filter((p) => new Date(p.metadata?.creationTimestamp ?? 0).getTime() >= since);
    const ours = pods.flatMap((p) => p.status?.containerStatuses ?? []).filter((c) => c.image === KUEUE_IMAGE);
    const pull = ours.find((c) => /ErrImagePull|ImagePullBackOff/.test(c.state?.waiting?.reason ?? ''));
    if (pull)
      throw new SkiffError('IMAGE_MISSING', `Kueue's controller cannot start: its image ${pull.image} is not on the node`, {
        hint: 'run `skiff images build kueue`, then `skiff up --with kueue` again',
      });
    const crash = ours.find((c) => c.state?.waiting?.reason === 'CrashLoopBackOff');
    if (crash) {
      throw new SkiffError(
        'COMMAND_FAILED',
        `Kueue's controller keeps failing: ${crash.lastState?.terminated?.message ?? crash.lastState?.terminated?.reason ?? 'it exits at start'}`,
        {
          hint: `see \`kubectl --context kind-${opts.cluster} -n ${KUEUE_NAMESPACE} logs deploy/${KUEUE_CONTROLLER}\``,
        },
      );
    }
    return rolledOut(await orUndefined(k.apps.readNamespacedDeployment({ name: KUEUE_CONTROLLER, namespace: KUEUE_NAMESPACE })));
  });
  // Kueue's webhooks answer a little after its controller is ready: retry until they take the queues.
  await waitFor('its webhooks to take the queues', opts, async () => {
    try {
      await sizeQueue(kc, say, { force: true });
      await applyObject(k.objects, localQueue(DEFAULT_NAMESPACE));
      return true;
    } catch {
      return false;
    }
  });
  say('Kueue is ready');
}

/** Whether the cluster queues training jobs (Skiff's ClusterQueue exists). */
export async function hasKueue(kc: KubeConfig): Promise<boolean> {
  const read = kubeClients(kc).custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural: 'clusterqueues', name: QUEUE_NAME });
  // Without Kueue's resource types the API answers 404 too.
  return (await orUndefined(read)) !== undefined;
}

/** The namespace's LocalQueue, made when missing (jobs in a namespace of their own go through the same queue). */
export async function ensureLocalQueue(kc: KubeConfig, namespace: string): Promise<void> {
  await applyObject(kubeClients(kc).objects, localQueue(namespace));
}

/**
 * Sizes Skiff's ClusterQueue to what the worker nodes can give now, and says so when that changed.
 * A queue sized once would go stale: `skiff up --gpu-sharing 2` doubles the GPUs the kubelets list,
 * and a queue still holding the old count admits jobs the nodes cannot run together (or, shrunk the
 * other way, ranks that Kueue let start wait Pending on GPUs). `up` calls this on every cluster (a
 * cluster without the queue is left alone); `force` applies it even so (the install).
 */
export async function sizeQueue(kc: KubeConfig, say: (msg: string) => void, { force = false } = {}): Promise<void> {
  const k = kubeClients(kc);
  const current = (await orUndefined(k.custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural: 'clusterqueues', name: QUEUE_NAME }))) as KueueObject | undefined;
  // Without force, a cluster without Kueue costs this one read, and a queue already right is left as it is.
  if (!force && !current) return;
  const quota = await workerCapacity(kc);
  if (!force && current && sameQuota(quotaOf(current), quota)) return;
  for (const obj of clusterQueue(quota)) await applyObject(k.objects, obj);
  const gib = (Number(quota.memory) / 2 ** 30).toFixed(1);
  say(`Kueue's queue '${QUEUE_NAME}' holds the workers' ${Number.parseInt(quota.cpu) / 1000} CPUs, ${gib} GiB and ${quota.gpus} GPU${quota.gpus === 1 ? '' : 's'}`);
}

const sameQuota = (a: QueueQuota | undefined, b: QueueQuota) => a !== undefined && a.cpu === b.cpu && a.memory === b.memory && a.gpus === b.gpus;

/** What worker nodes can give jobs: their allocatable CPU, memory and GPUs (a device plugin's, or DRA's), summed. */
async function workerCapacity(kc: KubeConfig): Promise<QueueQuota> {
  const k = kubeClients(kc);
  const [nodes, draGpus] = await Promise.all([k.core.listNode(), draGpusByNode(k)]);
  const workers = nodes.items.filter((n) => !(CONTROL_PLANE_LABEL in (n.metadata?.labels ?? {})));
  const total = (resource: string) => workers.reduce((sum, n) => sum + allocatable(n, resource), 0);
  // On DRA the published devices are the GPUs: the kubelets may still list the device plugin's a while after it went.
  const gpus = draGpus ? workers.reduce((sum, n) => sum + (draGpus.get(n.metadata?.name ?? '') ?? 0), 0) : total(GPU_RESOURCE);
  return { cpu: `${Math.round(total('cpu') * 1000)}m`, memory: String(Math.floor(total('memory'))), gpus };
}

function waitFor(what: string, opts: InstallOptions, ready: () => Promise<boolean>): Promise<void> {
  return pollUntil(ready, {
    signal: opts.signal,
    timedOut: () =>
      new SkiffError('TIMEOUT', `Kueue on cluster '${opts.cluster}' did not get ${what} ready in ${ADDON_READY_TIMEOUT_MS / 60_000} minutes`, {
        hint: `see \`kubectl --context kind-${opts.cluster} -n ${KUEUE_NAMESPACE} logs deploy/${KUEUE_CONTROLLER}\``,
      }),
  });
}

/**
 * A CustomResourceDefinition applied as it is written: client-node's typed serializer would drop
 * schema keys it spells differently (x-kubernetes-int-or-string), which the API server then refuses.
 */
async function applyCrd(kc: KubeConfig, crd: KubernetesObject): Promise<void> {
  const res = await kubeRequest(kc, {
    method: 'PATCH',
    path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${encodeURIComponent(crd.metadata!.name!)}?fieldManager=${FIELD_MANAGER}&force=true`,
    body: JSON.stringify(crd),
    headers: { 'Content-Type': 'application/apply-patch+yaml' },
    timeoutMs: 60_000,
  });
  if (res.status >= 300)
    throw new SkiffError('COMMAND_FAILED', `Kueue's resource type ${crd.metadata?.name} was refused (HTTP ${res.status}): ${res.body.toString('utf8').slice(0, 300)}`);
}
