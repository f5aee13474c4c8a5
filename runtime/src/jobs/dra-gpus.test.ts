import { describe, expect, it } from 'vitest';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { parseTrainingSpec } from '../spec/job-spec.js';
import { claimedGpus, draGpuProblem, ownedBy, podClaimNames, withClaimedGpus, type AllocatedClaim } from './dra-gpus.js';
import type { JobDescription } from './status.js';

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

describe('the GPUs a rank claimed', () => {
  const allocated = (name: string, ...devices: [driver: string, device: string][]): [string, AllocatedClaim] => [
    name,
    { metadata: { name }, status: { allocation: { devices: { results: devices.map(([driver, device]) => ({ driver, pool: 'w1', device })) } } } },
  ];
  const claims = new Map([allocated('job-0-x-gpu-abcde', ['gpu.skiff.dev', 'gpu-1'], ['other.example.com', 'nic-0']), allocated('job-gpu', ['gpu.skiff.dev', 'gpu-0'])]);
  // A rank with its own claim from the template (named in its status once made), and a rank of a job whose ranks share one claim.
  const own: V1Pod = {
    metadata: { name: 'job-0-x' },
    spec: { containers: [], resourceClaims: [{ name: 'gpu', resourceClaimTemplateName: 'job-gpu' }] },
    status: { resourceClaimStatuses: [{ name: 'gpu', resourceClaimName: 'job-0-x-gpu-abcde' }] },
  };
  const shared: V1Pod = { metadata: { name: 'job-1-y' }, spec: { containers: [], resourceClaims: [{ name: 'gpu', resourceClaimName: 'job-gpu' }] } };
  const waiting: V1Pod = { metadata: { name: 'job-2-z' }, spec: { containers: [], resourceClaims: [{ name: 'gpu', resourceClaimTemplateName: 'job-gpu' }] } };

  it("reads each pod's claims, and of their devices only those of Skiff's driver", () => {
    expect(podClaimNames(own)).toEqual(['job-0-x-gpu-abcde']);
    expect(podClaimNames(shared)).toEqual(['job-gpu']);
    expect(claimedGpus(own, claims)).toEqual(['gpu-1']);
    expect(claimedGpus(shared, claims)).toEqual(['gpu-0']);
    expect(claimedGpus(waiting, claims)).toEqual([]);
  });

  it('puts them beside the ranks of a description; a rank without any keeps none', () => {
    const row = { rank: 0, phase: 'Running', ready: true, restarts: 0 };
    const d = {
      pods: [
        { ...row, name: 'job-0-x' },
        { ...row, name: 'job-2-z', rank: 2 },
      ],
    } as unknown as JobDescription;
    const described = withClaimedGpus(d, [own, waiting], claims);
    expect(described.pods.map((p) => p.gpus)).toEqual([['gpu-1'], undefined]);
    expect(withClaimedGpus(d, [own], new Map())).toBe(d);
  });
});
