import { describe, expect, it } from 'vitest';
import type { V1Job } from '@kubernetes/client-node';
import { runRange } from './job-metrics.js';

describe('the time range of a run', () => {
  const created = new Date('2026-12-06T10:00:00Z');
  const now = Date.parse('2026-12-06T12:00:00Z');

  it('runs from the creation of the job to now while it runs', () => {
    const job: V1Job = { metadata: { creationTimestamp: created } };
    expect(runRange(job, now)).toEqual({ start: created.getTime() / 1000, end: now / 1000 });
  });

  it('ends a little after it completed or failed, so the last scrape is in', () => {
    for (const type of ['Complete', 'Failed']) {
      const job: V1Job = { metadata: { creationTimestamp: created }, status: { conditions: [{ type, status: 'True', lastTransitionTime: new Date('2026-12-06T10:05:00Z') }] } };
      expect(runRange(job, now)).toEqual({ start: created.getTime() / 1000, end: Date.parse('2026-12-06T10:05:04Z') / 1000 });
    }
  });
});
