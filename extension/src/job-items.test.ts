import { describe, expect, it } from 'vitest';
import type { ClusterInfo, JobStatus } from '@skiff/runtime';
import { clusterItem, jobItem, statusBarText, targetItem } from './job-items.js';

const job = (over: Partial<JobStatus> = {}): JobStatus => ({
  name: 'train-ab12c',
  namespace: 'skiff',
  kind: 'training',
  phase: 'Running',
  workers: 2,
  script: 'cell.py',
  pods: [],
  ...over,
});
const cluster: ClusterInfo = {
  name: 'skiff',
  context: 'kind-skiff',
  profile: 'fake-gpu',
  nodes: [
    { name: 'skiff-control-plane', role: 'control-plane', ready: true, gpus: 0 },
    { name: 'skiff-worker', role: 'worker', ready: true, gpus: 1 },
    { name: 'skiff-worker2', role: 'worker', ready: false, gpus: 1 },
  ],
};

describe('promoted jobs', () => {
  const gke = { context: 'gke', namespace: 'prod' };

  it('are told apart from local ones by id and context value (no promote menu), and name their operator kind', () => {
    const item = jobItem(job({ namespace: 'prod', workload: 'PyTorchJob' }), gke);
    expect(item).toMatchObject({ id: 'job/gke/prod/train-ab12c', contextValue: 'job.training.remote' });
    expect(item.tooltip.split('\n')[0]).toBe('train-ab12c — training job (a PyTorchJob), 2 workers, cell.py');
    expect(jobItem(job({ workload: 'Job' })).tooltip.split('\n')[0]).toBe('train-ab12c — training job, 2 workers, cell.py');
  });

  it('sit under a heading per target that counts them, or says why they cannot be read', () => {
    expect(targetItem(gke, [job(), job({ phase: 'Succeeded' })])).toMatchObject({ label: 'gke · prod', description: 'promoted · 2 job(s), 1 running', contextValue: 'target' });
    const broken = targetItem(gke, [], 'connect ECONNREFUSED 127.0.0.1:1');
    expect(broken.description).toBe('cannot be read: connect ECONNREFUSED 127.0.0.1:1');
    expect(broken.icon.color).toBe('charts.yellow');
  });
});

describe('jobItem', () => {
  it('shows phase and size, a spinning icon while running, and a context value per kind for the menus', () => {
    const item = jobItem(job());
    expect(item).toMatchObject({ id: 'job/skiff/train-ab12c', label: 'train-ab12c', description: 'Running · 2 workers', contextValue: 'job.training' });
    expect(item.icon.id).toBe('sync~spin');
    expect(jobItem(job({ kind: 'serving', workers: 1 })).contextValue).toBe('job.serving');
    expect(jobItem(job({ kind: 'serving', workers: 1 })).description).toBe('Running · 1 replica');
  });

  it('puts the plain-words reason of a failed job in its description and tooltip, with each rank', () => {
    const item = jobItem(
      job({ phase: 'Failed', reason: 'rank 1: script exited 1 — last lines: ValueError', pods: [{ name: 'p1', rank: 1, node: 'skiff-worker', phase: 'Failed', exitCode: 1 }] }),
    );
    expect(item.icon).toEqual({ id: 'error', color: 'testing.iconFailed' });
    expect(item.description).toContain('script exited 1');
    expect(item.tooltip).toContain('rank 1: Failed on skiff-worker, exit 1');
  });
});

describe('clusterItem and statusBarText', () => {
  it('counts Ready nodes and GPUs, warning when a node is not Ready', () => {
    const item = clusterItem(cluster);
    expect(item.description).toBe('fake-gpu · 2/3 nodes Ready · 2 GPUs');
    expect(item.icon.id).toBe('warning');
    expect(item.tooltip).toContain('skiff-worker2 (worker) not Ready, 1 GPUs');
  });

  it('says when there is no cluster, and how many jobs run', () => {
    expect(statusBarText(undefined, []).text).toContain('no cluster');
    const s = statusBarText(cluster, [job(), job({ phase: 'Pending' }), job({ phase: 'Succeeded' })]);
    expect(s.text).toBe('$(server-environment) skiff · $(sync~spin) 2 running');
    expect(s.tooltip).toContain('2/3 nodes Ready');
  });
});
