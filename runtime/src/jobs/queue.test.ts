import { describe, expect, it } from 'vitest';
import { plainKueueMessage, queuedReason, type Workload } from './queue.js';
import { clusterQueue, localQueue, queuedJob, QUEUE_LABEL, quotaOf, withDraGpuCounting } from '../manifests/kueue.js';
import { parse } from 'yaml';
import { jobPhase } from './reasons.js';

describe('queued jobs', () => {
  it("say what Kueue waits for in the user's words", () => {
    expect(plainKueueMessage("couldn't assign flavors to pod set main: insufficient unused quota for nvidia.com/gpu in flavor skiff-nodes, 2 more needed")).toBe(
      'needs 2 more nvidia.com/gpu than the queue has free now; it starts when running jobs finish',
    );
    expect(
      plainKueueMessage(
        "couldn't assign flavors to pod set main: insufficient quota for nvidia.com/gpu in flavor skiff-nodes, previously considered podsets requests (0) + current podset request (4) > maximum capacity (2)",
      ),
    ).toBe('asks for 4 nvidia.com/gpu, more than the queue can ever give (2): it cannot start; cancel it and ask for less');
    expect(plainKueueMessage('something new')).toBe('something new');
  });

  it('are created suspended with the queue label, and read Queued until Kueue admits them; a suspended job without the label is Cancelled', () => {
    const job = queuedJob({ metadata: { name: 'j', labels: { a: 'b' } }, spec: { template: {} } });
    expect(job.metadata?.labels).toEqual({ a: 'b', [QUEUE_LABEL]: 'skiff' });
    expect(job.spec?.suspend).toBe(true);
    expect(jobPhase(job, [])).toBe('Queued');
    expect(jobPhase({ ...job, spec: { ...job.spec!, suspend: false } }, [])).toBe('Pending');
    expect(jobPhase({ metadata: { name: 'j' }, spec: { template: {}, suspend: true } }, [])).toBe('Cancelled');
  });

  it("go through one first-come-first-served ClusterQueue holding the workers' capacity, and a LocalQueue per namespace", () => {
    const [flavor, cq] = clusterQueue({ cpu: '8', memory: '16Gi', gpus: 2 });
    expect(flavor.kind).toBe('ResourceFlavor');
    expect(cq.spec).toMatchObject({
      queueingStrategy: 'StrictFIFO',
      resourceGroups: [
        { coveredResources: ['cpu', 'memory', 'nvidia.com/gpu'], flavors: [{ resources: [{ nominalQuota: '8' }, { nominalQuota: '16Gi' }, { nominalQuota: '2' }] }] },
      ],
    });
    expect(localQueue('team')).toMatchObject({ kind: 'LocalQueue', metadata: { name: 'skiff', namespace: 'team' }, spec: { clusterQueue: 'skiff' } });
  });

  it("count GPUs claimed through DRA as nvidia.com/gpu: Kueue's DRA support switched on and Skiff's DeviceClass mapped to the one GPU quota", () => {
    const manifests = [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'kueue-manager-config' },
        data: { 'controller_manager_config.yaml': 'kind: Configuration\nwebhook:\n  port: 9443\n' },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'kueue-controller-manager' },
        spec: { selector: {}, template: { spec: { containers: [{ name: 'manager', args: ['--config=/controller_manager_config.yaml'] }] } } },
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'other' } },
    ];
    const [config, deployment, other] = withDraGpuCounting(manifests) as [
      { data: Record<string, string> },
      { spec: { template: { spec: { containers: { args: string[] }[] } } } },
      unknown,
    ];
    expect(parse(config.data['controller_manager_config.yaml'])).toEqual({
      kind: 'Configuration',
      webhook: { port: 9443 },
      resources: { deviceClassMappings: [{ name: 'nvidia.com/gpu', deviceClassNames: ['gpu.skiff.dev'] }] },
    });
    expect(deployment.spec.template.spec.containers[0].args).toEqual(['--config=/controller_manager_config.yaml', '--feature-gates=DynamicResourceAllocation=true']);
    expect(other).toBe(manifests[2]);
    // The manifests as read stay as they were.
    expect(manifests[1].spec!.template.spec.containers[0].args).toHaveLength(1);
  });

  it('read back the quota they hold, so `up` re-sizes a queue only when the nodes changed', () => {
    const quota = { cpu: '8000m', memory: '17179869184', gpus: 4 };
    // As the API server hands it back: through JSON, quantities as written.
    expect(quotaOf(JSON.parse(JSON.stringify(clusterQueue(quota)[1])))).toEqual(quota);
    expect(quotaOf({ apiVersion: 'kueue.x-k8s.io/v1beta2', kind: 'ClusterQueue', spec: { resourceGroups: [] } })).toBeUndefined();
  });

  it('say their place among the waiting workloads, oldest first, with Kueue\'s word at the head and "the jobs ahead" behind it', () => {
    const workload = (uid: string, created: string, conditions: Workload['status'] = {}): Workload => ({
      metadata: { name: `job-${uid}`, labels: { 'kueue.x-k8s.io/job-uid': uid }, creationTimestamp: created },
      status: conditions,
    });
    const admitted = workload('a', '2026-12-06T00:00:01Z', { conditions: [{ type: 'QuotaReserved', status: 'True' }] });
    const head = workload('b', '2026-12-06T00:00:02Z', {
      conditions: [
        { type: 'QuotaReserved', status: 'False', message: "couldn't assign flavors to pod set main: insufficient unused quota for nvidia.com/gpu in flavor f, 2 more needed" },
      ],
    });
    const behind = workload('c', '2026-12-06T00:00:03Z');
    const all = [behind, admitted, head];
    const job = (uid: string) => ({ metadata: { uid, labels: { [QUEUE_LABEL]: 'skiff' } } });
    expect(queuedReason(job('b'), all)).toBe('waiting in queue skiff, 1st of 2: needs 2 more nvidia.com/gpu than the queue has free now; it starts when running jobs finish');
    expect(queuedReason(job('c'), all)).toBe('waiting in queue skiff, 2nd of 2: the jobs ahead of it go first');
    // Its Workload not made yet (or unreadable): the queue alone.
    expect(queuedReason(job('d'), [])).toBe('waiting in queue skiff until the cluster can take every rank at once');
  });
});
