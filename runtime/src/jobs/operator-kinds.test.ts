import { describe, expect, it } from 'vitest';
import type { CustomObjectsApi, V1Pod } from '@kubernetes/client-node';
import {
  KUBEFLOW_REPLICA_INDEX,
  KUBEFLOW_REPLICA_TYPE,
  NOT_SERVED_MEMORY_MS,
  PYTORCH_JOB,
  deploymentViewOfInferenceService,
  listOperatorObjects,
  isMadeByOperator,
  jobViewOfPyTorchJob,
  type PyTorchJob,
} from './operator-kinds.js';
import { jobPhase, rankOf, servingPhase } from './reasons.js';
import { jobStatusOf } from './status.js';

const pytorchJob = (conditions: { type: string; status: string; message?: string }[]): PyTorchJob => ({
  apiVersion: 'kubeflow.org/v1',
  kind: 'PyTorchJob',
  metadata: { name: 'train', namespace: 'prod', uid: 'pj-1', creationTimestamp: new Date('2026-12-01T10:00:00Z') },
  spec: { runPolicy: { backoffLimit: 0 }, pytorchReplicaSpecs: { Master: { replicas: 1 }, Worker: { replicas: 2 } } },
  status: { conditions, replicaStatuses: { Master: { succeeded: 1 }, Worker: { succeeded: 2 } } },
});

const kubeflowPod = (type: string, index: number, phase = 'Running'): V1Pod => ({
  metadata: {
    name: `train-${type}-${index}`,
    labels: { [KUBEFLOW_REPLICA_TYPE]: type, [KUBEFLOW_REPLICA_INDEX]: String(index) },
    ownerReferences: [{ apiVersion: 'kubeflow.org/v1', kind: 'PyTorchJob', name: 'train', uid: 'pj-1' }],
  },
  status: { phase },
});

describe('a PyTorchJob as a Job', () => {
  it("counts every replica and takes the operator's verdict", () => {
    const succeeded = jobViewOfPyTorchJob(
      pytorchJob([
        { type: 'Running', status: 'False' },
        { type: 'Succeeded', status: 'True' },
      ]),
    );
    expect(succeeded.spec?.completions).toBe(3);
    expect(jobPhase(succeeded, [])).toBe('Succeeded');
    const failed = jobViewOfPyTorchJob(pytorchJob([{ type: 'Failed', status: 'True', message: 'PyTorchJob train is failed because 1 Worker replica(s) failed.' }]));
    expect(jobPhase(failed, [])).toBe('Failed');
    expect(failed.status?.conditions?.[0].message).toContain('Worker replica(s) failed');
  });

  it('is running while its pods run, and reads as a training job named after it', () => {
    const running = jobViewOfPyTorchJob(pytorchJob([{ type: 'Running', status: 'True' }]));
    const pods = [kubeflowPod('master', 0), kubeflowPod('worker', 0), kubeflowPod('worker', 1)];
    expect(jobPhase(running, pods)).toBe('Running');
    const status = jobStatusOf({ kind: 'training', owner: running, pods });
    expect(status).toMatchObject({ name: 'train', namespace: 'prod', kind: 'training', workload: 'PyTorchJob', workers: 3, phase: 'Running' });
    expect(status.pods.map((p) => [p.name, p.rank])).toEqual([
      ['train-master-0', 0],
      ['train-worker-0', 1],
      ['train-worker-1', 2],
    ]);
  });
});

describe('an InferenceService as a Deployment', () => {
  it('is Running once KServe calls it Ready', () => {
    const isvc = (ready: string) => ({
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'web' },
      spec: { predictor: { minReplicas: 2 } },
      status: { conditions: [{ type: 'Ready', status: ready }] },
    });
    expect(servingPhase(deploymentViewOfInferenceService(isvc('False')), [])).toBe('Pending');
    const ready = deploymentViewOfInferenceService(isvc('True'));
    expect(servingPhase(ready, [])).toBe('Running');
    expect(ready.spec?.replicas).toBe(2);
  });

  it('leaves out the Deployment KServe makes for it: the job is the InferenceService', () => {
    expect(
      isMadeByOperator({ metadata: { name: 'web-predictor', ownerReferences: [{ apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', name: 'web', uid: 'i' }] } }),
    ).toBe(true);
    expect(isMadeByOperator({ metadata: { name: 'web' } })).toBe(false);
  });
});

describe('rankOf Kubeflow pods', () => {
  it('numbers the Master 0 and Worker i as i + 1, as the operator sets RANK', () => {
    expect(rankOf(kubeflowPod('master', 0))).toBe(0);
    expect(rankOf(kubeflowPod('worker', 3))).toBe(4);
    expect(rankOf(kubeflowPod('Worker', 0))).toBe(1);
  });
});

describe('listOperatorObjects', () => {
  /** A CustomObjectsApi whose list answers with `status` (an ApiException-like error) or a list. */
  const apiAnswering = (status: number | 'list') => {
    const api = {
      calls: 0,
      async listNamespacedCustomObject() {
        api.calls++;
        if (status === 'list') return { items: [{ metadata: { name: 'train' } }], metadata: { resourceVersion: '7' } };
        throw Object.assign(new Error(`HTTP ${status}`), { code: status });
      },
    };
    return api;
  };
  const list = (api: ReturnType<typeof apiAnswering>, server: string, now: number) =>
    listOperatorObjects(api as unknown as CustomObjectsApi, PYTORCH_JOB, 'skiff', 'skiff.dev/job=train', server, now);

  it('returns the items and the list version where the kind is served', async () => {
    expect(await list(apiAnswering('list'), 'https://served:1', 0)).toEqual({ items: [{ metadata: { name: 'train' } }], resourceVersion: '7' });
  });

  it('remembers a 404 for that server a while, then asks again', async () => {
    const api = apiAnswering(404);
    expect(await list(api, 'https://no-operator:1', 1_000)).toBeUndefined();
    expect(await list(api, 'https://no-operator:1', 1_000 + NOT_SERVED_MEMORY_MS - 1)).toBeUndefined();
    expect(api.calls).toBe(1);
    await list(api, 'https://other:1', 1_000);
    expect(api.calls).toBe(2);
    await list(api, 'https://no-operator:1', 1_000 + NOT_SERVED_MEMORY_MS);
    expect(api.calls).toBe(3);
  });

  it('asks again after a 403 (rights can be granted) and lets other errors through', async () => {
    const forbidden = apiAnswering(403);
    expect(await list(forbidden, 'https://rbac:1', 0)).toBeUndefined();
    expect(await list(forbidden, 'https://rbac:1', 0)).toBeUndefined();
    expect(forbidden.calls).toBe(2);
    await expect(list(apiAnswering(500), 'https://broken:1', 0)).rejects.toThrow('HTTP 500');
  });
});
