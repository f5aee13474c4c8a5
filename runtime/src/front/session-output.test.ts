import { describe, expect, it } from 'vitest';
import { CellOutcome, RankTagger, takeMetricLines } from './session-output.js';

describe('RankTagger', () => {
  it('leaves rank 0 alone and tags each line of the others, across writes that split lines', () => {
    const t = new RankTagger();
    expect(t.tag(0, 'a\nb\n')).toBe('a\nb\n');
    expect(t.tag(1, 'x\ny')).toBe('[rank 1] x\n[rank 1] y');
    expect(t.tag(1, 'z\n')).toBe('z\n');
    expect(t.tag(1, '10%\r20%')).toBe('[rank 1] 10%\r[rank 1] 20%');
  });
});

describe('CellOutcome', () => {
  it('is ok when every rank is done ok, and names the failing and lost ranks', () => {
    const ok = new CellOutcome(2);
    ok.add({ type: 'done', status: 'ok', count: 3, rank: 0 });
    expect(ok.status).toBe('lost'); // rank 1 not heard from yet
    ok.add({ type: 'done', status: 'ok', count: 3, rank: 1 });
    expect([ok.status, ok.summary()]).toEqual(['ok', 'cell 3 ok on 2 ranks']);

    const failed = new CellOutcome(2);
    failed.add({ type: 'done', status: 'ok', count: 4, rank: 0 });
    failed.add({ type: 'done', status: 'error', count: 4, rank: 1 });
    expect(failed.summary()).toBe('cell 4 failed on rank 1 of 2');

    const lost = new CellOutcome(2);
    lost.add({ type: 'done', status: 'interrupted', count: 5, rank: 0 });
    lost.add({ type: 'lost', message: 'rank 1 is gone', rank: 1 });
    expect([lost.status, lost.summary()]).toEqual(['lost', 'cell 5 lost rank 1 of 2: restart the session']);
  });
});

describe('takeMetricLines', () => {
  it('takes skiff.log lines out of the text as samples of that rank', () => {
    const now = new Date('2026-12-02T10:00:00Z');
    const { text, samples } = takeMetricLines(0, 'epoch 1\nSKIFF_METRIC {"step":1,"loss":0.5}\ndone\n', now);
    expect(text).toBe('epoch 1\ndone\n');
    expect(samples).toEqual([{ type: 'training', metric: { rank: 0, time: now.toISOString(), values: { step: 1, loss: 0.5 } } }]);
    expect(takeMetricLines(1, 'plain\n')).toEqual({ text: 'plain\n', samples: [] });
  });
});
