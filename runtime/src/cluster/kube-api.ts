// The few Kubernetes API calls cluster setup makes, behind an interface so the setup steps can
// be tested against a fake cluster.
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Health,
  KubernetesObjectApi,
  type KubernetesObject,
  type KubeConfig,
  NodeV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1DaemonSet,
  type V1Node,
  type V1RuntimeClass,
} from '@kubernetes/client-node';
import { applyObject } from '../k8s/client.js';
import { devicesByNode, type ResourceSlice } from '../manifests/dra.js';

export interface ClusterApi {
  /** Whether the API server answers /readyz within the timeout. */
  ready(timeoutMs: number): Promise<boolean>;
  listNodes(): Promise<V1Node[]>;
  ensureNamespace(name: string): Promise<void>;
  /** Sets (or, with null, removes) labels on a node. */
  labelNode(name: string, labels: Record<string, string | null>): Promise<void>;
  /** Creates the objects unless they exist (Skiff never changes them after creation). */
  ensureRuntimeClass(obj: V1RuntimeClass): Promise<void>;
  ensureDaemonSet(obj: V1DaemonSet): Promise<void>;
  ensureConfigMap(obj: V1ConfigMap): Promise<void>;
  readDaemonSet(namespace: string, name: string): Promise<V1DaemonSet | undefined>;
  /** Creates the DaemonSet, or replaces the one of that name (its pods roll). */
  applyDaemonSet(obj: V1DaemonSet): Promise<void>;
  /** Server-side applies any object (the DRA driver's, which client-node has no typed API for). */
  apply(obj: KubernetesObject): Promise<void>;
  /** Deletes the object; one already gone is no error. */
  delete(obj: KubernetesObject): Promise<void>;
  /** How many devices the DRA driver published for each node (its ResourceSlices). */
  listDraDevices(driver: string): Promise<Map<string, number>>;
}

export function clusterApi(kc: KubeConfig): ClusterApi {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async ready(timeoutMs) {
      try {
        return await new Health(kc).readyz({ signal: AbortSignal.timeout(timeoutMs) });
      } catch {
        return false;
      }
    },
    async listNodes() {
      return (await core.listNode()).items;
    },
    async labelNode(name, labels) {
      await core.patchNode({ name, body: { metadata: { labels } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    },
    async ensureNamespace(name) {
      if (await exists(() => core.readNamespace({ name }))) return;
      await ignoreConflict(() => core.createNamespace({ body: { metadata: { name } } }));
    },
    async ensureRuntimeClass(obj) {
      await ignoreConflict(() => kc.makeApiClient(NodeV1Api).createRuntimeClass({ body: obj }));
    },
    async ensureDaemonSet(obj) {
      const namespace = obj.metadata?.namespace ?? 'default';
      await ignoreConflict(() => kc.makeApiClient(AppsV1Api).createNamespacedDaemonSet({ namespace, body: obj }));
    },
    async ensureConfigMap(obj) {
      await ignoreConflict(() => core.createNamespacedConfigMap({ namespace: obj.metadata?.namespace ?? 'default', body: obj }));
    },
    async readDaemonSet(namespace, name) {
      try {
        return await kc.makeApiClient(AppsV1Api).readNamespacedDaemonSet({ namespace, name });
      } catch (err) {
        if (isApiStatus(err, 404)) return undefined;
        throw err;
      }
    },
    async applyDaemonSet(obj) {
      const apps = kc.makeApiClient(AppsV1Api);
      const namespace = obj.metadata?.namespace ?? 'default';
      const name = obj.metadata?.name ?? '';
      const current = await this.readDaemonSet(namespace, name);
      if (!current) await apps.createNamespacedDaemonSet({ namespace, body: obj });
      else await apps.replaceNamespacedDaemonSet({ namespace, name, body: { ...obj, metadata: { ...obj.metadata, resourceVersion: current.metadata?.resourceVersion } } });
    },
    async apply(obj) {
      await applyObject(KubernetesObjectApi.makeApiClient(kc), obj);
    },
    async delete(obj) {
      try {
        await KubernetesObjectApi.makeApiClient(kc).delete(obj);
      } catch (err) {
        if (!isApiStatus(err, 404)) throw err;
      }
    },
    async listDraDevices(driver) {
      const slices = (await kc.makeApiClient(CustomObjectsApi).listClusterCustomObject({ group: 'resource.k8s.io', version: 'v1', plural: 'resourceslices' })) as {
        items: ResourceSlice[];
      };
      return devicesByNode(slices.items, driver);
    },
  };
}

export function isApiStatus(err: unknown, code: number): boolean {
  return err instanceof ApiException && err.code === code;
}

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (err) {
    if (isApiStatus(err, 404)) return false;
    throw err;
  }
}

async function ignoreConflict(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!isApiStatus(err, 409)) throw err;
  }
}
