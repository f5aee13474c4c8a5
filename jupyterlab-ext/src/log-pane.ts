// A job's live log in the sidebar: lines appended as they come, filtered by rank, and bounded. A
// training job can print millions of lines; the pane keeps the last MAX_LINES (trimming in batches,
// so each line costs O(1) on average) and says where the rest is.
import { displayLogLine, type LogLine } from '@skiff/runtime/front';
import { h } from './dom';

export const MAX_LINES = 5000;
/** Lines dropped at once when the pane is full: a redraw per batch, not per line. */
const TRIM_BATCH = 500;

export class LogPane {
  readonly rankFilter = h('select', { className: 'skiff-rank-filter', title: 'show one rank only' }, h('option', { value: '', textContent: 'all ranks' }));
  readonly notice = h('div', { className: 'skiff-logs-notice', hidden: true });
  readonly pre = h('pre', { className: 'skiff-logs' });
  private readonly lines: LogLine[] = [];
  private readonly ranks = new Set<number>();
  private dropped = 0;
  private shownAny = false;

  constructor(private readonly job: string) {
    this.rankFilter.onchange = () => this.redraw();
  }

  add(line: LogLine): void {
    this.lines.push(line);
    if (!this.ranks.has(line.rank)) {
      this.ranks.add(line.rank);
      this.rankFilter.append(h('option', { value: String(line.rank), textContent: `rank ${line.rank}` }));
    }
    if (this.lines.length > MAX_LINES + TRIM_BATCH) {
      const extra = this.lines.length - MAX_LINES;
      this.lines.splice(0, extra);
      this.dropped += extra;
      this.redraw();
    } else if (this.visible(line)) {
      this.pre.append((this.shownAny ? '\n' : '') + displayLogLine(line));
      this.shownAny = true;
    }
    this.pre.scrollTop = this.pre.scrollHeight;
  }

  private visible(line: LogLine): boolean {
    return this.rankFilter.value === '' || String(line.rank) === this.rankFilter.value;
  }

  private redraw(): void {
    const shown = this.lines.filter((l) => this.visible(l)).map(displayLogLine);
    this.pre.textContent = shown.join('\n');
    this.shownAny = shown.length > 0;
    this.notice.hidden = this.dropped === 0;
    this.notice.textContent = `showing the last ${this.lines.length} lines; all of them: skiff logs ${this.job}`;
  }
}
