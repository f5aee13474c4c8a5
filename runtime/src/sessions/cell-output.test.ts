import { describe, expect, it } from 'vitest';
import { CellOutcome, CellPresenter, RankTagger, takeMetricLines } from './cell-output.js';

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

describe('CellPresenter', () => {
  const now = new Date('2026-12-02T10:00:00Z');

  it('shows rank 0 plainly, tags the others, keeps rich output of rank 0 only and names failing ranks', () => {
    const p = new CellPresenter(2);
    expect(p.present({ type: 'stream', name: 'stdout', text: 'hello\n', rank: 0 }, now)).toEqual([{ type: 'stream', name: 'stdout', text: 'hello\n', rank: 0 }]);
    expect(p.present({ type: 'stream', name: 'stderr', text: 'warn\n', rank: 1 }, now)).toEqual([{ type: 'stream', name: 'stderr', text: '[rank 1] warn\n', rank: 1 }]);
    expect(p.present({ type: 'result', data: { 'text/plain': '42' }, count: 3, rank: 0 }, now)).toEqual([{ type: 'rich', data: { 'text/plain': '42' }, count: 3 }]);
    expect(p.present({ type: 'result', data: { 'text/plain': '42' }, count: 3, rank: 1 }, now)).toEqual([]);
    expect(p.present({ type: 'display', data: { 'text/html': '<b>x</b>' }, rank: 0 }, now)).toEqual([{ type: 'rich', data: { 'text/html': '<b>x</b>' } }]);
    expect(p.present({ type: 'error', ename: 'ValueError', evalue: 'bad', traceback: 'Traceback…\nValueError: bad\n', rank: 1 }, now)).toEqual([
      { type: 'error', rank: 1, ename: 'rank 1: ValueError', evalue: 'bad', traceback: '[rank 1] Traceback…\n[rank 1] ValueError: bad\n' },
    ]);
    p.present({ type: 'done', status: 'ok', count: 3, rank: 0 }, now);
    p.present({ type: 'done', status: 'error', count: 3, rank: 1 }, now);
    expect(p.outcome.summary()).toBe('cell 3 failed on rank 1 of 2');
  });

  it('turns skiff.log lines into chart samples, or into their values for a terminal', () => {
    const line = { type: 'stream', name: 'stdout', text: 'epoch 1\nSKIFF_METRIC {"step":1,"loss":0.5}\n', rank: 0 } as const;
    expect(new CellPresenter(1).present(line, now)).toEqual([
      { type: 'metrics', samples: [{ type: 'training', metric: { rank: 0, time: now.toISOString(), values: { step: 1, loss: 0.5 } } }] },
      { type: 'stream', name: 'stdout', text: 'epoch 1\n', rank: 0 },
    ]);
    expect(new CellPresenter(1, { charts: false }).present(line, now)).toEqual([{ ...line, text: 'epoch 1\nmetrics step=1 loss=0.5\n' }]);
  });

  it('leaves out the text of other ranks when asked, never their errors or losses', () => {
    const p = new CellPresenter(2, { allRanks: false });
    expect(p.present({ type: 'stream', name: 'stdout', text: 'noise\n', rank: 1 }, now)).toEqual([]);
    expect(p.present({ type: 'lost', message: 'rank 1 (pod x) was deleted', rank: 1 }, now)).toEqual([
      { type: 'stream', name: 'stderr', text: 'skiff: rank 1 (pod x) was deleted\n', rank: 1 },
    ]);
    expect(p.outcome.status).toBe('lost');
  });
});
