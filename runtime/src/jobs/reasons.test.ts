import { describe, expect, it } from 'vitest';
import type { V1ContainerStatus, V1Deployment, V1Job, V1Node, V1Pod } from '@kubernetes/client-node';
import { gpuShareAffinity } from '../manifests/gpu.js';
import { parseTrainingSpec } from '../spec/job-spec.js';
import { explainFailure, explainKeptFailure, explainPending, firstKeptFailure, jobPhase, primaryFailedPod, rankOf, servingPhase } from './reasons.js';
import type { KeptPod } from '../workspace/kept-logs.js';

type Requests = Record<string, string>;

function node(name: string, allocatable: Requests, extra: Partial<V1Node['spec']> = {}): V1Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: { ...extra },
    status: { allocatable, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

const controlPlane = node('kind-control-plane', { cpu: '8', memory: '16Gi' }, { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] });

function pod(
  name: string,
  opts: { requests?: Requests; limits?: Requests; nodeName?: string; phase?: string; kind?: string; statuses?: V1ContainerStatus[]; unschedulable?: string } = {},
): V1Pod {
  return {
    metadata: { name, namespace: 'skiff', uid: name, labels: { 'skiff.dev/job': 'train', 'skiff.dev/kind': opts.kind ?? 'training' } },
    spec: {
      nodeName: opts.nodeName,
      containers: [{ name: 'worker', image: 'skiff.local/job-python:trixie-2', resources: { requests: opts.requests, limits: opts.limits } }],
    },
    status: {
      phase: opts.phase ?? 'Pending',
      containerStatuses: opts.statuses,
      conditions: opts.unschedulable !== undefined ? [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: opts.unschedulable }] : [],
    },
  };
}

const waiting = (reason: string, message?: string): V1ContainerStatus => ({
  name: 'worker',
  image: 'skiff.local/job-python:trixie-2',
  imageID: '',
  ready: false,
  restartCount: 0,
  state: { waiting: { reason, message } },
});

const terminated = (exitCode: number, reason = 'Error', finishedAt?: string): V1ContainerStatus => ({
  name: 'worker',
  image: 'img',
  imageID: '',
  ready: false,
  restartCount: 0,
  state: { terminated: { exitCode, reason, finishedAt: finishedAt as unknown as Date } },
});

describe('explainPending', () => {
  it('names GPU shortfalls per node, counting running pods', () => {
    const nodes = [
      controlPlane,
      node('kind-worker', { cpu: '8', memory: '16Gi', 'nvidia.com/gpu': '2' }),
      node('kind-worker2', { cpu: '8', memory: '16Gi', 'nvidia.com/gpu': '1' }),
    ];
    const running = [
      pod('other-0', { limits: { 'nvidia.com/gpu': '1' }, nodeName: 'kind-worker', phase: 'Running' }),
      pod('other-1', { limits: { 'nvidia.com/gpu': '1' }, nodeName: 'kind-worker2', phase: 'Running' }),
      pod('done', { limits: { 'nvidia.com/gpu': '1' }, nodeName: 'kind-worker', phase: 'Succeeded' }),
    ];
    const p = pod('train-0-abcde', { limits: { 'nvidia.com/gpu': '2' }, unschedulable: '0/3 nodes are available: 2 Insufficient nvidia.com/gpu.' });
    expect(explainPending(p, nodes, running)).toBe('needs 2 nvidia.com/gpu per worker, but no node has that many free (node kind-worker: 1 free, kind-worker2: 0 free)');
  });

  it('says when a pod asking a share of a GPU finds no GPU shared that way (promoted, or the sharing changed)', () => {
    const p = pod('train-0-abcde', { limits: { 'nvidia.com/gpu': '1' }, unschedulable: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector." });
    p.spec!.affinity = gpuShareAffinity(parseTrainingSpec({ script: 't.py', gpuShare: 0.5 })).affinity;
    expect(explainPending(p, [controlPlane, node('kind-worker', { cpu: '4', memory: '8Gi', 'nvidia.com/gpu': '1' })], [])).toBe(
      "asks for a time-slice of a GPU shared 2 ways, but this cluster's GPUs are shared 1 way(s): `skiff up --gpu-sharing 2` shares them (a fake-gpu cluster in place)",
    );
  });

  it("says when a rank's DRA claim for GPUs cannot be allocated on any node", () => {
    const p = pod('train-0-abcde', {
      unschedulable: '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 cannot allocate all claims.',
    });
    p.spec!.resourceClaims = [{ name: 'gpu', resourceClaimTemplateName: 'train-gpu' }];
    expect(explainPending(p, [controlPlane, node('kind-worker', { cpu: '4', memory: '8Gi' })], [])).toBe(
      "waits for GPUs to claim: no node has as many free as this worker's claim asks for (other jobs hold them, or no node has that many; `skiff status` lists each node's GPUs)",
    );
  });

  it('says when the cluster has no GPUs at all', () => {
    const p = pod('train-0-abcde', { limits: { 'nvidia.com/gpu': '1' }, unschedulable: 'Insufficient nvidia.com/gpu' });
    expect(explainPending(p, [controlPlane, node('kind-worker', { cpu: '4', memory: '8Gi' })], [])).toBe(
      'needs 1 GPU per worker, but this cluster has no GPUs: create it with --profile fake-gpu or gpu',
    );
  });

  it('reports the most free CPU on a schedulable node', () => {
    const nodes = [controlPlane, node('kind-worker', { cpu: '2', memory: '8Gi' }), node('kind-worker2', { cpu: '4', memory: '8Gi' }, { unschedulable: true })];
    const running = [pod('x', { requests: { cpu: '500m' }, nodeName: 'kind-worker', phase: 'Running' })];
    const p = pod('train-1-abcde', { requests: { cpu: '4' }, unschedulable: 'Insufficient cpu' });
    expect(explainPending(p, nodes, running)).toBe('needs 4 CPU per worker, most free on a node is 1.5');
  });

  it('reports memory in binary units', () => {
    const nodes = [node('kind-worker', { cpu: '8', memory: '4Gi' })];
    const running = [pod('x', { requests: { memory: '819Mi' }, nodeName: 'kind-worker', phase: 'Running' })];
    const p = pod('api-1', { kind: 'serving', requests: { memory: '8Gi' }, unschedulable: 'Insufficient memory' });
    expect(explainPending(p, nodes, running)).toBe('needs 8Gi memory per replica, most free on a node is 3.2Gi');
  });

  it('explains images that cannot be pulled', () => {
    for (const reason of ['ImagePullBackOff', 'ErrImagePull', 'ErrImageNeverPull']) {
      const p = pod('train-0-abcde', { nodeName: 'kind-worker', statuses: [waiting(reason, 'pull failed')] });
      expect(explainPending(p, [], [])).toBe(
        'image skiff.local/job-python:trixie-2 is not in the cluster and cannot be pulled: run `skiff images load skiff.local/job-python:trixie-2` or pass --image',
      );
    }
  });

  it('passes container config errors through', () => {
    const p = pod('train-0-abcde', { nodeName: 'kind-worker', statuses: [waiting('CreateContainerConfigError', 'configmap "train-code" not found')] });
    expect(explainPending(p, [], [])).toBe('configmap "train-code" not found');
  });

  it('explains topology spread and falls back to the scheduler message', () => {
    const nodes = [node('kind-worker', { cpu: '8', memory: '8Gi' })];
    const spread = pod('train-2-abcde', { requests: { cpu: '1' }, unschedulable: "0/2 nodes are available: 1 node(s) didn't match pod topology spread constraints." });
    expect(explainPending(spread, nodes, [])).toMatch(/^cannot place this worker while keeping workers evenly spread across nodes/);
    const other = pod('train-2-abcde', { unschedulable: '0/2 nodes are available: 2 node(s) had volume node affinity conflict.' });
    expect(explainPending(other, nodes, [])).toBe('cannot be scheduled: 0/2 nodes are available: 2 node(s) had volume node affinity conflict.');
  });

  it('is silent for a pod that is simply starting', () => {
    expect(explainPending(pod('train-0-abcde', { nodeName: 'kind-worker', statuses: [waiting('ContainerCreating')] }), [], [])).toBeUndefined();
    expect(explainPending(pod('train-0-abcde'), [], [])).toBeUndefined();
  });
});

describe('explainFailure', () => {
  it('explains OOM kills with the memory limit', () => {
    const p = pod('train-0-abcde', { phase: 'Failed', limits: { memory: '4Gi' }, statuses: [terminated(137, 'OOMKilled')] });
    expect(explainFailure(p, ['epoch 1'])).toBe('OOMKilled: the worker used more than its memory limit (4Gi); raise --memory');
  });

  it('shows the last ten log lines for a script error', () => {
    const lines = Array.from({ length: 15 }, (_, i) => `line ${i}`);
    const p = pod('train-1-abcde', { phase: 'Failed', statuses: [terminated(1)] });
    expect(explainFailure(p, [...lines, ''])).toBe(`script exited 1 — last lines:\n${lines.slice(5).join('\n')}`);
    expect(explainFailure(p, [])).toBe('script exited 1 without printing anything');
  });

  it('says first when the working directory ran out of disk', () => {
    const p = pod('train-0-abcde', { phase: 'Failed', statuses: [terminated(1)] });
    expect(explainFailure(p, ['saving', "OSError: [Errno 28] No space left on device: 'snapshot.pt'"])).toMatch(
      /^the disk holding its working directory is full \(free space on this machine, e\.g\. `skiff outputs JOB --remove` of old runs\); script exited 1 — last lines:\nsaving\nOSError: \[Errno 28\]/,
    );
  });

  it('says first that a script using CUDA has no GPU, from its pod’s GPUs and its last lines', () => {
    const cuda = ["AttributeError: module 'torch._C' has no attribute '_cuda_setDevice'"];
    const onCpu = pod('train-0-abcde', { phase: 'Failed', statuses: [terminated(1)] });
    expect(explainFailure(onCpu, cuda)).toMatch(/^the script uses CUDA but the job has no GPU: .*; script exited 1 — last lines:\nAttributeError/);
    const withGpu = pod('train-0-abcde', { phase: 'Failed', limits: { 'nvidia.com/gpu': '1' }, statuses: [terminated(1)] });
    expect(explainFailure(withGpu, cuda)).toMatch(/^the job has 1 GPU per worker but its torch is a CPU build/);
  });

  it('names the signal for killed scripts', () => {
    const p = pod('train-1-abcde', { phase: 'Failed', statuses: [terminated(139)] });
    expect(explainFailure(p, ['x'])).toBe('script exited 139 (killed by SIGSEGV) — last lines:\nx');
  });

  it('looks at the previous run of a crash-looping server', () => {
    const status: V1ContainerStatus = { ...waiting('CrashLoopBackOff'), restartCount: 3, lastState: { terminated: { exitCode: 2, reason: 'Error' } } };
    expect(explainFailure(pod('api-x', { kind: 'serving', phase: 'Running', statuses: [status] }), ['skiff: script not found: /skiff/code/s.py'])).toBe(
      'script exited 2 — last lines:\nskiff: script not found: /skiff/code/s.py',
    );
  });

  it('explains evictions and image problems, and ignores successes', () => {
    const evicted = pod('train-0-abcde', { phase: 'Failed', nodeName: 'kind-worker' });
    evicted.status!.reason = 'Evicted';
    evicted.status!.message = 'The node was low on resource: memory.';
    expect(explainFailure(evicted, [])).toBe('the worker was evicted from node kind-worker: The node was low on resource: memory.');
    expect(explainFailure(pod('a', { statuses: [waiting('ErrImageNeverPull')] }), [])).toMatch(/^image .* is not in the cluster/);
    expect(explainFailure(pod('ok', { phase: 'Succeeded', statuses: [terminated(0, 'Completed')] }), [])).toBeUndefined();
  });
});

describe('primaryFailedPod', () => {
  it('prefers the rank that crashed over the ranks the Job controller killed', () => {
    const killed = pod('train-0-aaaaa', { phase: 'Failed', statuses: [terminated(143, 'Error', '2026-01-01T00:00:01Z')] });
    const crashed = pod('train-1-bbbbb', { phase: 'Failed', statuses: [terminated(1, 'Error', '2026-01-01T00:00:02Z')] });
    const fine = pod('train-2-ccccc', { phase: 'Running' });
    expect(primaryFailedPod([killed, fine, crashed])?.metadata?.name).toBe('train-1-bbbbb');
    expect(primaryFailedPod([fine])).toBeUndefined();
  });
});

describe('what the pods kept on the host', () => {
  const kept = (p: string, rank: number, extra: Partial<KeptPod> = {}): KeptPod => ({ pod: p, uid: p, rank, startedAt: '2026-01-01T00:00:00Z', logFile: `/l/${p}.log`, ...extra });
  const stopped = (at: string) => ({ stoppedBy: { signal: 'SIGTERM', at }, ended: { exitCode: 143, at, signal: 'SIGTERM' } });

  it('names the rank stopped from outside first, not the rank that failed because it lost its peer', () => {
    // Rank 1's pod was deleted; rank 0's all-reduce then failed (exit 1); both pods are gone.
    const ranks = [kept('train-0-aaaaa', 0, { ended: { exitCode: 1, at: '2026-01-01T00:00:05.5Z' } }), kept('train-1-bbbbb', 1, stopped('2026-01-01T00:00:05.1Z'))];
    const first = firstKeptFailure(ranks, [])!;
    expect([first.pod.rank, first.how]).toEqual([1, 'stopped']);
    expect(explainKeptFailure(first, [])).toBe(
      'stopped from outside by SIGTERM at 00:00:05 UTC while it ran (its pod was deleted or evicted, or its node shut down); a DDP job ends when it loses a rank, so the other ranks were stopped too',
    );
  });

  it('names the rank that exited on its own first, with its last lines, when the others were stopped after it', () => {
    const ranks = [kept('train-0-aaaaa', 0, stopped('2026-01-01T00:00:07Z')), kept('train-1-bbbbb', 1, { ended: { exitCode: 2, at: '2026-01-01T00:00:06Z' } })];
    const first = firstKeptFailure(ranks, [])!;
    expect([first.pod.rank, first.how]).toEqual([1, 'exited']);
    expect(explainKeptFailure(first, ['Traceback', 'ValueError: bad'])).toBe('script exited 2 — last lines:\nTraceback\nValueError: bad');
  });

  it('names the rank that went silent when its node stopped, not the rank that then lost its connection to it', () => {
    // Rank 1's node container was stopped: nothing reached its launcher, so it recorded no end.
    const silent = kept('train-1-bbbbb', 1, { node: 'skiff-worker2' });
    const other = kept('train-2-ccccc', 2);
    const failedRank = kept('train-0-aaaaa', 0, { ended: { exitCode: 1, at: '2026-01-01T00:00:09Z' } });
    const tail = ['RuntimeError: [./gloo/transport/tcp/pair.cc:598] Connection closed by peer [10.244.1.4]:31112'];
    const inCluster = [pod('train-1-bbbbb', { phase: 'Running' }), pod('train-2-ccccc', { phase: 'Running' })];
    inCluster[0].status!.podIP = '10.244.1.4';
    inCluster[1].status!.podIP = '10.244.2.9';
    const first = firstKeptFailure([failedRank, other, silent], inCluster, (k) => (k === failedRank ? tail : []))!;
    expect([first.pod.rank, first.how, first.peer?.rank]).toEqual([1, 'vanished', 0]);
    expect(explainKeptFailure(first, [])).toBe(
      'stopped answering while it ran, and no exit was recorded: its node skiff-worker2 may have stopped or lost its network; rank 0 then lost its connection to it and failed',
    );
    // A plain crash is that rank's own failure.
    expect(firstKeptFailure([failedRank, silent], inCluster, () => ['ValueError: bad'])!.how).toBe('exited');
  });

  it('says a pod went away without a word when nothing was recorded and the cluster no longer has it', () => {
    const lost = kept('train-1-bbbbb', 1, { node: 'skiff-worker2' });
    const running = kept('train-0-aaaaa', 0);
    expect(firstKeptFailure([running, lost], [pod('train-0-aaaaa', { phase: 'Running' })])).toEqual({ pod: lost, how: 'vanished' });
    expect(explainKeptFailure({ pod: lost, how: 'vanished' }, [])).toContain('no exit was recorded on node skiff-worker2): its node may have gone down');
    expect(firstKeptFailure([running], [pod('train-0-aaaaa', { phase: 'Running' })])).toBeUndefined();
    expect(firstKeptFailure([kept('train-0-aaaaa', 0, { ended: { exitCode: 0, at: '2026-01-01T00:00:01Z' } })], [])).toBeUndefined();
  });
});

describe('jobPhase', () => {
  const job = (status: V1Job['status'] = {}, spec: Partial<V1Job['spec']> = {}): V1Job => ({
    metadata: { name: 'train' },
    spec: { completions: 2, backoffLimit: 0, template: {}, ...spec },
    status,
  });

  it('follows Job conditions', () => {
    expect(jobPhase(undefined, [])).toBe('Unknown');
    expect(jobPhase(job({ conditions: [{ type: 'Complete', status: 'True' }] }), [])).toBe('Succeeded');
    expect(jobPhase(job({ conditions: [{ type: 'Failed', status: 'True' }] }), [])).toBe('Failed');
    expect(jobPhase(job({ conditions: [{ type: 'FailureTarget', status: 'True' }] }), [])).toBe('Failed');
    expect(jobPhase(job({}, { suspend: true }), [])).toBe('Cancelled');
  });

  it('is Pending until every live worker runs', () => {
    expect(jobPhase(job(), [])).toBe('Pending');
    expect(jobPhase(job(), [pod('train-0-a', { phase: 'Running' }), pod('train-1-b', { phase: 'Pending' })])).toBe('Pending');
    expect(jobPhase(job(), [pod('train-0-a', { phase: 'Running' }), pod('train-1-b', { phase: 'Running' })])).toBe('Running');
    expect(jobPhase(job(), [pod('train-0-a', { phase: 'Succeeded' }), pod('train-1-b', { phase: 'Running' })])).toBe('Running');
  });

  it('is Failed as soon as failures exceed the backoff limit', () => {
    expect(jobPhase(job(), [pod('train-0-a', { phase: 'Failed' }), pod('train-1-b', { phase: 'Running' })])).toBe('Failed');
    expect(jobPhase(job({}, { backoffLimit: 1 }), [pod('train-0-a', { phase: 'Failed' }), pod('train-1-b', { phase: 'Running' })])).toBe('Running');
  });

  it('is Succeeded when all completions are done', () => {
    expect(jobPhase(job({ succeeded: 2 }), [pod('train-0-a', { phase: 'Succeeded' }), pod('train-1-b', { phase: 'Succeeded' })])).toBe('Succeeded');
  });

  it("is Succeeded once every rank's pod has, before the Job controller counts them", () => {
    expect(jobPhase(job(), [pod('train-0-a', { phase: 'Succeeded' }), pod('train-1-b', { phase: 'Succeeded' })])).toBe('Succeeded');
  });

  it('stays Running, not Pending, while finished ranks wait for the others to be (re)created', () => {
    expect(jobPhase(job(), [pod('train-0-a', { phase: 'Succeeded' })])).toBe('Running');
    // Two pods of one rank (a retry) are one rank done, not two.
    expect(jobPhase(job({}, { backoffLimit: 1 }), [pod('train-0-aaaaa', { phase: 'Succeeded' }), pod('train-0-bbbbb', { phase: 'Succeeded' })])).toBe('Running');
  });
});

describe('servingPhase', () => {
  const deploy = (replicas = 2, status: V1Deployment['status'] = {}): V1Deployment => ({
    metadata: { name: 'api' },
    spec: { replicas, selector: {}, template: {} },
    status,
  });
  const ready = (name: string) => {
    const p = pod(name, { kind: 'serving', phase: 'Running' });
    p.status!.conditions = [{ type: 'Ready', status: 'True' }];
    return p;
  };

  it('maps replicas to a phase', () => {
    expect(servingPhase(undefined, [])).toBe('Unknown');
    expect(servingPhase(deploy(0), [])).toBe('Cancelled');
    expect(servingPhase(deploy(), [pod('api-a', { kind: 'serving' })])).toBe('Pending');
    expect(servingPhase(deploy(), [ready('api-a'), pod('api-b', { kind: 'serving' })])).toBe('Running');
    const crashing = pod('api-a', { kind: 'serving', phase: 'Running', statuses: [{ ...waiting('CrashLoopBackOff'), restartCount: 2 }] });
    expect(servingPhase(deploy(), [crashing])).toBe('Failed');
    expect(servingPhase(deploy(2, { conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] }), [])).toBe('Failed');
  });
});

describe('rankOf', () => {
  it('reads the completion index, then the label, then the name', () => {
    const withAnnotation = pod('train-0-abcde');
    withAnnotation.metadata!.annotations = { 'batch.kubernetes.io/job-completion-index': '3' };
    expect(rankOf(withAnnotation)).toBe(3);
    const withLabel = pod('train-0-abcde');
    withLabel.metadata!.labels!['batch.kubernetes.io/job-completion-index'] = '5';
    expect(rankOf(withLabel)).toBe(5);
    expect(rankOf(pod('my-train-12-x7k2p'))).toBe(12);
  });

  it('orders serving pods by name', () => {
    const pods = ['api-7d9f-zzz', 'api-7d9f-aaa', 'api-7d9f-mmm'].map((n) => pod(n, { kind: 'serving' }));
    expect(pods.map((p) => rankOf(p, pods))).toEqual([2, 0, 1]);
    expect(rankOf(pods[0])).toBe(0);
  });
});
