import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../types.js';
import { cellStatusText, jobSizeText, podLines } from './status-text.js';

const job = (over: Partial<JobStatus> = {}): JobStatus => ({
  name: 'train-ab12c',
  namespace: 'skiff',
  kind: 'training',
  phase: 'Running',
  workers: 2,
  script: 'train.py',
  pods: [],
  ...over,
});
const pods = [
  { name: 'a', rank: 0, node: 'w1', phase: 'Succeeded' },
  { name: 'b', rank: 1, node: 'w2', phase: 'Failed', exitCode: 1 },
];

describe('cellStatusText', () => {
  it('ends with the outcome and reason, naming the nodes the ranks ran on', () => {
    expect(cellStatusText(job({ phase: 'Succeeded', pods }))).toBe('✓ job train-ab12c: Succeeded (2 workers on w1, w2)');
    expect(cellStatusText(job({ phase: 'Failed', reason: 'OOMKilled: raise --memory' }))).toBe('✗ job train-ab12c: Failed (2 workers) — OOMKilled: raise --memory');
  });

  it('counts serving replicas as replicas', () => {
    expect(jobSizeText({ kind: 'serving', workers: 1 })).toBe('1 replica');
    expect(cellStatusText(job({ kind: 'serving', workers: 3, phase: 'Pending' }))).toBe('… job train-ab12c: Pending (3 replicas)');
  });
});

describe('podLines', () => {
  it('gives each rank its phase, node and exit code', () => {
    expect(podLines(job({ pods }))).toEqual(['rank 0: Succeeded on w1', 'rank 1: Failed on w2, exit 1']);
    expect(podLines(job({ kind: 'serving', pods: [{ name: 'c', rank: 0, phase: 'Running' }] }))).toEqual(['replica 0: Running']);
  });
});
