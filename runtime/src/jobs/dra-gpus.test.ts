import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseTrainingSpec } from '../spec/job-spec.js';
import { draGpuProblem, ownedBy } from './dra-gpus.js';

describe('GPUs claimed through DRA', () => {
  const nodes = new Map([
    ['kind-worker', 1],
    ['kind-worker2', 1],
  ]);

  it('takes whole GPUs and shares that fit one node; a job asking more per rank than a node has waits Pending with its reason', () => {
    expect(draGpuProblem(parseTrainingSpec({ script: 't.py', workers: 2, gpusPerWorker: 1 }), nodes, "cluster 'skiff'")).toBeUndefined();
    expect(draGpuProblem(parseTrainingSpec({ script: 't.py', workers: 2, gpuShare: 0.5 }), nodes, "cluster 'skiff'")).toBeUndefined();
    expect(draGpuProblem(parseTrainingSpec({ script: 't.py', workers: 2, gpusPerWorker: 4 }), nodes, "cluster 'skiff'")).toBeUndefined();
  });

  it('refuses, in words, shares whose one claim no node can hold, and a cluster whose driver published nothing', () => {
    expect(draGpuProblem(parseTrainingSpec({ script: 't.py', workers: 4, gpuShare: 0.5 }), nodes, "cluster 'skiff'")).toMatchObject({
      code: 'BAD_INPUT',
      message: "this job's 4 ranks × 0.5 of a GPU share one DRA claim of 2 GPUs, whose devices are all on one node, and no node of cluster 'skiff' has more than 1",
      hint: 'run fewer ranks (2 fit at --gpu-share 0.5), or ask whole GPUs with --gpus-per-worker 1',
    });
    expect(draGpuProblem(parseTrainingSpec({ script: 't.py', gpusPerWorker: 1 }), new Map(), "cluster 'skiff'")).toMatchObject({
      code: 'NO_GPU',
      hint: expect.stringContaining('skiff up'),
    });
  });

  it("makes the claim the job's, so deleting the job deletes it and a resubmit waits for that", () => {
    const owned: KubernetesObject = ownedBy(
      { apiVersion: 'resource.k8s.io/v1', kind: 'ResourceClaim', metadata: { name: 'j-gpu' } },
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', uid: 'u-1' } },
    );
    expect(owned.metadata?.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: 'u-1', controller: true, blockOwnerDeletion: true }]);
  });
});
