import { describe, expect, it } from 'vitest';
import type { CoreV1Event, V1Deployment, V1Job, V1Pod } from '@kubernetes/client-node';
import { parseServingSpec, parseTrainingSpec } from '../spec/job-spec.js';
import { jobDescriptionOf, jobEvents, jobStatusOf, ownedPods, podsByJob, type JobObjects } from './status.js';

const trainingSpec = parseTrainingSpec({ name: 'train', script: 'train.py', workers: 2 });
const created = new Date('2026-01-01T00:00:00Z');

const job: V1Job = {
  metadata: { name: 'train', namespace: 'skiff', uid: 'job-uid', creationTimestamp: created, annotations: { 'skiff.dev/spec': JSON.stringify(trainingSpec) } },
  spec: { completions: 2, backoffLimit: 0, template: { spec: { containers: [] } } },
  status: {},
};

function pod(index: number, phase: string, extra: Partial<V1Pod['status']> = {}, ownerUid = 'job-uid'): V1Pod {
  return {
    metadata: {
      name: `train-${index}-abcde`,
      uid: `pod-${index}-${ownerUid}`,
      labels: { 'skiff.dev/job': 'train', 'skiff.dev/kind': 'training' },
      annotations: { 'batch.kubernetes.io/job-completion-index': String(index) },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'train', uid: ownerUid }],
    },
    spec: { nodeName: `node-${index}`, containers: [{ name: 'worker', image: 'img:1' }] },
    status: { phase, ...extra },
  };
}

describe('jobStatusOf', () => {
  it('recovers kind, workers, script and ranks from labels and the spec annotation', () => {
    const objects: JobObjects = { kind: 'training', owner: job, pods: [pod(1, 'Running'), pod(0, 'Running')] };
    expect(jobStatusOf(objects)).toEqual({
      name: 'train',
      workload: 'Job',
      namespace: 'skiff',
      kind: 'training',
      phase: 'Running',
      workers: 2,
      script: 'train.py',
      createdAt: '2026-01-01T00:00:00.000Z',
      pods: [
        { name: 'train-0-abcde', rank: 0, node: 'node-0', phase: 'Running' },
        { name: 'train-1-abcde', rank: 1, node: 'node-1', phase: 'Running' },
      ],
    });
  });

  it('reports exit codes and Kubernetes reasons per pod, and carries the given reason', () => {
    const failed = pod(0, 'Failed', {
      containerStatuses: [{ name: 'worker', image: 'img:1', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 3, reason: 'Error' } } }],
    });
    const status = jobStatusOf({ kind: 'training', owner: { ...job, status: { conditions: [{ type: 'Failed', status: 'True' }] } }, pods: [failed] }, 'script exited 3');
    expect(status.phase).toBe('Failed');
    expect(status.reason).toBe('script exited 3');
    expect(status.pods[0]).toMatchObject({ exitCode: 3, reason: 'Error' });
  });

  it('numbers serving replicas and reads replicas from the spec', () => {
    const spec = parseServingSpec({ name: 'web', script: 'serve.py', replicas: 2 });
    const deployment: V1Deployment = {
      metadata: { name: 'web', namespace: 'skiff', annotations: { 'skiff.dev/spec': JSON.stringify(spec) } },
      spec: { replicas: 2, selector: {}, template: {} },
      status: { readyReplicas: 1 },
    };
    const replica = (name: string): V1Pod => ({
      metadata: { name, labels: { 'skiff.dev/job': 'web', 'skiff.dev/kind': 'serving' } },
      spec: { containers: [] },
      status: { phase: 'Running' },
    });
    const status = jobStatusOf({ kind: 'serving', owner: deployment, pods: [replica('web-6d4cf56db6-zzzzz'), replica('web-6d4cf56db6-aaaaa')] });
    expect(status).toMatchObject({ kind: 'serving', phase: 'Running', workers: 2, script: 'serve.py' });
    expect(status.pods.map((p) => [p.rank, p.name])).toEqual([
      [0, 'web-6d4cf56db6-aaaaa'],
      [1, 'web-6d4cf56db6-zzzzz'],
    ]);
  });
});

describe('ownedPods', () => {
  it('leaves out pods of a replaced Job with the same name', () => {
    const stale = pod(0, 'Running', {}, 'old-uid');
    expect(ownedPods({ kind: 'training', owner: job }, [stale, pod(0, 'Pending')]).map((p) => p.metadata?.uid)).toEqual(['pod-0-job-uid']);
  });
});

describe('podsByJob', () => {
  it('groups by the job label and skips unlabelled pods', () => {
    const grouped = podsByJob([pod(0, 'Running'), { metadata: { name: 'x' } }]);
    expect([...grouped.keys()]).toEqual(['train']);
  });
});

describe('jobEvents and jobDescriptionOf', () => {
  const event = (kind: string, name: string, reason: string, at: string): CoreV1Event => ({
    metadata: {},
    involvedObject: { kind, name },
    reason,
    message: `${reason} happened`,
    type: 'Normal',
    lastTimestamp: new Date(at),
  });
  const events = [
    event('Pod', 'train-0-abcde', 'Started', '2026-01-01T00:00:05Z'),
    event('Job', 'train', 'SuccessfulCreate', '2026-01-01T00:00:01Z'),
    event('Pod', 'train-9-zzzzz', 'Killing', '2026-01-01T00:00:03Z'),
    event('Pod', 'training-other-0-abcde', 'Started', '2026-01-01T00:00:02Z'),
    event('Job', 'train-two', 'SuccessfulCreate', '2026-01-01T00:00:02Z'),
  ];

  it('keeps events of the job, its pods (also ones already gone), oldest first', () => {
    const objects: JobObjects = { kind: 'training', owner: job, pods: [pod(0, 'Running')] };
    expect(jobEvents(objects, events).map((e) => `${e.object} ${e.reason}`)).toEqual(['Job/train SuccessfulCreate', 'Pod/train-9-zzzzz Killing', 'Pod/train-0-abcde Started']);
  });

  it('describes pods with restarts and readiness, plus the spec', () => {
    const running = pod(0, 'Running', {
      containerStatuses: [{ name: 'worker', image: 'img:1', imageID: '', ready: true, restartCount: 2, state: { running: { startedAt: new Date('2026-01-01T00:00:04Z') } } }],
    });
    const d = jobDescriptionOf({ kind: 'training', owner: job, pods: [running] }, events);
    expect(d.spec).toEqual(trainingSpec);
    expect(d.pods[0]).toMatchObject({ rank: 0, ready: true, restarts: 2, image: 'img:1', startedAt: '2026-01-01T00:00:04.000Z' });
    expect(d.events).toHaveLength(3);
  });
});
