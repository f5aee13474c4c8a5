// @vitest-environment jsdom
import './testing/jsdom-shims';
import { describe, expect, it } from 'vitest';
import type { LogLine } from '@skiff/runtime/front';
import { LogPane, MAX_LINES } from './log-pane';

const line = (i: number, rank = i % 2): LogLine => ({ pod: `p${rank}`, rank, time: `t${i}`, text: `line ${i}` });
const shownLines = (pane: LogPane) => (pane.pre.textContent ? pane.pre.textContent.split('\n') : []);

describe('LogPane', () => {
  it('shows every line while few, tagged by rank, and filters by rank', () => {
    const pane = new LogPane('train');
    for (let i = 0; i < 4; i++) pane.add(line(i));
    expect(shownLines(pane)).toHaveLength(4);
    expect(shownLines(pane)[1]).toContain('line 1');
    expect(pane.notice.hidden).toBe(true);
    pane.rankFilter.value = '1';
    pane.rankFilter.dispatchEvent(new Event('change'));
    expect(shownLines(pane).map((l) => l.replace(/^.*line /, ''))).toEqual(['1', '3']);
    pane.add(line(4));
    pane.add(line(5));
    expect(shownLines(pane).map((l) => l.replace(/^.*line /, ''))).toEqual(['1', '3', '5']);
  });

  it('keeps the last lines of a long log and says where the rest is', () => {
    const pane = new LogPane('train');
    const total = 4 * MAX_LINES;
    for (let i = 0; i < total; i++) pane.add(line(i));
    const shown = shownLines(pane);
    expect(shown.length).toBeGreaterThanOrEqual(MAX_LINES);
    expect(shown.length).toBeLessThanOrEqual(MAX_LINES + 500);
    expect(shown.at(-1)).toContain(`line ${total - 1}`);
    expect(pane.notice.hidden).toBe(false);
    expect(pane.notice.textContent).toMatch(/showing the last \d+ lines; all of them: skiff logs train/);
  });
});
