import { describe, expect, it } from 'vitest';
import type { LogLine, MetricsSample } from '../types.js';
import { collectTrainingMetrics, podUsageFromSummary, usageSamples, type KubeletSummary } from './metrics.js';
import type { JobPodSource, PodRef } from './log-merge.js';

const pods: PodRef[] = [
  { name: 'train-0-aaaaa', uid: 'u0', rank: 0, container: 'worker', node: 'n1' },
  { name: 'train-1-bbbbb', uid: 'u1', rank: 1, container: 'worker', node: 'n2' },
];

const summary = (entries: KubeletSummary['pods']): KubeletSummary => ({ pods: entries });

describe('podUsageFromSummary', () => {
  it('reads pod totals, and only the job’s pods in its namespace', () => {
    const s = summary([
      { podRef: { name: 'train-0-aaaaa', namespace: 'skiff' }, cpu: { usageNanoCores: 1_500_000_000 }, memory: { workingSetBytes: 1024 } },
      { podRef: { name: 'train-0-aaaaa', namespace: 'other' }, cpu: { usageNanoCores: 1 } },
      { podRef: { name: 'unrelated', namespace: 'skiff' }, cpu: { usageNanoCores: 1 } },
    ]);
    expect(podUsageFromSummary(s, pods, 'skiff')).toEqual([{ pod: 'train-0-aaaaa', rank: 0, cpuCores: 1.5, memoryBytes: 1024 }]);
  });

  it('takes the containers when the kubelet reports the pod itself at 0 (an unreadable pod cgroup, as in kind here)', () => {
    const s = summary([
      {
        podRef: { name: 'train-0-aaaaa', namespace: 'skiff' },
        cpu: { usageNanoCores: 0 },
        memory: { workingSetBytes: 0 },
        containers: [{ name: 'worker', cpu: { usageNanoCores: 20_000_000 }, memory: { workingSetBytes: 6_209_536 } }],
      },
    ]);
    expect(podUsageFromSummary(s, pods, 'skiff')).toEqual([{ pod: 'train-0-aaaaa', rank: 0, cpuCores: 0.02, memoryBytes: 6_209_536 }]);
  });

  it('sums containers when the pod totals are missing and averages GPU duty cycles', () => {
    const s = summary([
      {
        podRef: { name: 'train-1-bbbbb', namespace: 'skiff' },
        containers: [
          { name: 'worker', cpu: { usageNanoCores: 250_000_000 }, memory: { workingSetBytes: 100 }, accelerators: [{ dutyCycle: 40 }, { dutyCycle: 60 }] },
          { name: 'sidecar', cpu: { usageNanoCores: 250_000_000 }, memory: { workingSetBytes: 50 } },
        ],
      },
    ]);
    expect(podUsageFromSummary(s, pods, 'skiff')).toEqual([{ pod: 'train-1-bbbbb', rank: 1, cpuCores: 0.5, memoryBytes: 150, gpuUtilization: 50 }]);
  });
});

describe('collectTrainingMetrics', () => {
  it('keeps SKIFF_METRIC lines, in order, with rank and time', () => {
    const lines: LogLine[] = [
      { pod: 'p0', rank: 0, time: 't1', text: 'epoch 1' },
      { pod: 'p0', rank: 0, time: 't2', text: 'SKIFF_METRIC {"step":1,"loss":0.5}' },
      { pod: 'p1', rank: 1, time: 't3', text: 'SKIFF_METRIC not json' },
      { pod: 'p1', rank: 1, time: 't4', text: 'SKIFF_METRIC {"step":1,"loss":0.25,"tag":"x"}' },
    ];
    expect(collectTrainingMetrics(lines)).toEqual([
      { rank: 0, time: 't2', values: { step: 1, loss: 0.5 } },
      { rank: 1, time: 't4', values: { step: 1, loss: 0.25 } },
    ]);
  });
});

describe('usageSamples', () => {
  const source = (finishedAfter: number): JobPodSource => {
    let calls = 0;
    return { list: async () => ({ pods, finished: ++calls >= finishedAfter }) };
  };
  const summaries: Record<string, KubeletSummary> = {
    n1: summary([{ podRef: { name: 'train-0-aaaaa', namespace: 'skiff' }, cpu: { usageNanoCores: 1e9 }, memory: { workingSetBytes: 1 } }]),
  };
  const summaryOf = async (node: string) => {
    if (!summaries[node]) throw new Error('node proxy unavailable');
    return summaries[node];
  };

  it('samples every interval until the job is finished, leaving out nodes that fail', async () => {
    const samples: MetricsSample[] = [];
    for await (const s of usageSamples(source(3), { summaryOf }, 'skiff', { follow: true, intervalMs: 1 })) samples.push(s);
    expect(samples).toHaveLength(3);
    expect(samples[0]).toMatchObject({ type: 'usage', pods: [{ pod: 'train-0-aaaaa', rank: 0, cpuCores: 1, memoryBytes: 1 }] });
  });

  it("adds GPU pods' own readings, and stops asking a pod that had none", async () => {
    const gpuPods: PodRef[] = [
      { ...pods[0], node: 'n1', gpus: 1 },
      { name: 'train-1-bbbbb', uid: 'u1', rank: 1, container: 'worker', node: 'n1', gpus: 2 },
      { name: 'cpu-only', uid: 'u2', rank: 2, container: 'worker', node: 'n1' },
    ];
    const both: KubeletSummary = summary(gpuPods.map((p) => ({ podRef: { name: p.name, namespace: 'skiff' }, cpu: { usageNanoCores: 1e9 }, memory: { workingSetBytes: 1 } })));
    const asked: string[] = [];
    const gpuOf = async (pod: PodRef) => {
      asked.push(pod.name);
      return pod.rank === 0 ? 87.5 : undefined; // rank 1's image has no nvidia-smi
    };
    let calls = 0;
    const samples: MetricsSample[] = [];
    const source: JobPodSource = { list: async () => ({ pods: gpuPods, finished: ++calls >= 2 }) };
    for await (const s of usageSamples(source, { summaryOf: async () => both, gpuOf }, 'skiff', { follow: true, intervalMs: 1 })) samples.push(s);
    expect(samples[0]).toMatchObject({ pods: [{ rank: 0, gpuUtilization: 87.5 }, { rank: 1 }, { rank: 2 }] });
    expect(samples[0].type === 'usage' && samples[0].pods[1].gpuUtilization).toBeUndefined();
    expect(asked).toEqual(['train-0-aaaaa', 'train-1-bbbbb', 'train-0-aaaaa']);
  });

  it('takes one sample without follow, even an empty one', async () => {
    const samples: MetricsSample[] = [];
    for await (const s of usageSamples({ list: async () => ({ pods: [], finished: false }) }, { summaryOf }, 'skiff', { follow: false })) samples.push(s);
    expect(samples).toEqual([{ type: 'usage', time: expect.any(String), pods: [] }]);
  });
});
