// How a session cell's events read, for every surface (CLI, VS Code, the JupyterLab kernel): rank 0
// speaks plainly, other ranks' lines carry a tag, and the cell ends with one outcome line.
// Browser-safe: the editors reach it through `@skiff/runtime/front`, the API through its cells route.
import type { CellEvent, CellStatus, MetricsSample, MimeBundle } from '../types.js';
import { METRIC_PREFIX, metricValuesText, parseMetricLine } from '../logs/parse.js';

export const rankTag = (rank: number) => `[rank ${rank}] `;

/** Tags the other ranks' text at each line start; a progress bar's '\r' frames keep their tag. */
export class RankTagger {
  private readonly midLine = new Set<number>();

  tag(rank: number, text: string): string {
    if (rank === 0 || text === '') return text;
    const tag = rankTag(rank);
    let out = this.midLine.has(rank) ? '' : tag;
    out += text.replace(/(\r\n|\n|\r)(?=[^\n])/g, `$1${tag}`);
    if (/[\n]$/.test(text)) this.midLine.delete(rank);
    else this.midLine.add(rank);
    return out;
  }
}

/** What each rank ended with; ranks not heard from yet are absent. */
export class CellOutcome {
  private readonly ends = new Map<number, { status: CellStatus; message?: string }>();
  private count?: number;

  constructor(readonly workers: number) {}

  add(event: CellEvent): void {
    if (event.type === 'done') {
      this.ends.set(event.rank, { status: event.status });
      if (event.rank === 0) this.count = event.count;
    } else if (event.type === 'lost') {
      this.ends.set(event.rank, { status: 'lost', message: event.message });
    }
  }

  /** lost beats error beats interrupted beats ok: the worst rank is the cell's outcome. */
  get status(): CellStatus {
    const order: CellStatus[] = ['lost', 'error', 'interrupted', 'ok'];
    const seen = [...this.ends.values()].map((e) => e.status);
    if (seen.length < this.workers) return 'lost';
    return order.find((s) => seen.includes(s)) ?? 'ok';
  }

  /** One line, e.g. "cell 3 failed on rank 1 of 2" or "cell 2 ok on 2 ranks". */
  summary(): string {
    const cell = this.count !== undefined ? `cell ${this.count}` : 'cell';
    const ranksWith = (status: CellStatus) =>
      [...this.ends]
        .filter(([, e]) => e.status === status)
        .map(([r]) => r)
        .sort((a, b) => a - b);
    const of = ` of ${this.workers}`;
    switch (this.status) {
      case 'ok':
        return `${cell} ok on ${this.workers === 1 ? '1 rank' : `${this.workers} ranks`}`;
      case 'error':
        return `${cell} failed on ${plural('rank', ranksWith('error'))}${of}`;
      case 'interrupted':
        return `${cell} interrupted`;
      case 'lost': {
        const lost = ranksWith('lost');
        return lost.length ? `${cell} lost ${plural('rank', lost)}${of}: restart the session` : `${cell} did not finish on every rank`;
      }
    }
  }
}

function plural(word: string, ranks: number[]): string {
  return `${word}${ranks.length === 1 ? '' : 's'} ${ranks.join(', ')}`;
}

/** The text/plain of a MIME bundle, for surfaces that show text only. */
export function plainText(data: Record<string, unknown>): string {
  const text = data['text/plain'];
  return typeof text === 'string' ? text : Array.isArray(text) ? text.join('') : '';
}

/**
 * A rank's text with its `skiff.log` lines taken out, as chart samples: in a cell the metrics are
 * drawn, not printed. Text arrives in whole lines (the agent line-buffers), so a metric line is never split.
 */
export function takeMetricLines(rank: number, text: string, now = new Date()): { text: string; samples: MetricsSample[] } {
  if (!text.includes('SKIFF_METRIC')) return { text, samples: [] };
  const samples: MetricsSample[] = [];
  const kept = text.split(/(?<=\n)/).filter((line) => {
    const values = parseMetricLine(line.replace(/\r?\n$/, ''));
    if (values) samples.push({ type: 'training', metric: { rank, time: now.toISOString(), values } });
    return !values;
  });
  return { text: kept.join(''), samples };
}

/**
 * What a surface shows for a cell, already decided: rank 0's rich output only, other ranks' text
 * tagged (or left out), their errors named by rank, `skiff.log` lines as chart samples.
 */
export type CellOutput =
  | { type: 'stream'; name: 'stdout' | 'stderr'; text: string; rank: number }
  /** Rank 0's display() or last-expression value; `count` only on a value (Jupyter's execute_result). */
  | { type: 'rich'; data: MimeBundle; count?: number }
  /** `ename` as shown: "rank 1: ValueError" for a rank other than 0, whose traceback lines carry its tag too. */
  | { type: 'error'; rank: number; ename: string; evalue: string; traceback: string }
  /** Samples new since the last metrics output: surfaces keep them and redraw the chart. */
  | { type: 'metrics'; samples: MetricsSample[] };

export interface CellPresenterOptions {
  /** Show the text of ranks other than 0 (default true); their errors and losses show regardless. */
  allRanks?: boolean;
  /** Take `skiff.log` lines out of the text as chart samples (default true); a terminal shows them as "metrics step=3 loss=0.12", as `skiff logs` does. */
  charts?: boolean;
}

/** Turns a cell's events, as they arrive, into outputs; `outcome` says how the cell ended. */
export class CellPresenter {
  readonly outcome: CellOutcome;
  private readonly tagger = new RankTagger();

  constructor(
    workers: number,
    private readonly opts: CellPresenterOptions = {},
  ) {
    this.outcome = new CellOutcome(workers);
  }

  present(event: CellEvent, now = new Date()): CellOutput[] {
    this.outcome.add(event);
    switch (event.type) {
      case 'stream': {
        if (event.rank !== 0 && this.opts.allRanks === false) return [];
        const out: CellOutput[] = [];
        let text = event.text;
        if (this.opts.charts !== false) {
          const taken = takeMetricLines(event.rank, text, now);
          if (taken.samples.length) out.push({ type: 'metrics', samples: taken.samples });
          text = taken.text;
        } else if (text.includes(METRIC_PREFIX)) {
          text = text.replace(new RegExp(`^${METRIC_PREFIX}.*$`, 'gm'), (line) => {
            const values = parseMetricLine(line);
            return values ? `metrics ${metricValuesText(values)}` : line;
          });
        }
        if (text) out.push({ type: 'stream', name: event.name, text: this.tagger.tag(event.rank, text), rank: event.rank });
        return out;
      }
      case 'display':
        return event.rank === 0 ? [{ type: 'rich', data: event.data }] : [];
      case 'result':
        return event.rank === 0 ? [{ type: 'rich', data: event.data, count: event.count }] : [];
      case 'error':
        if (event.rank === 0) return [{ type: 'error', rank: 0, ename: event.ename, evalue: event.evalue, traceback: event.traceback }];
        return [
          {
            type: 'error',
            rank: event.rank,
            ename: `rank ${event.rank}: ${event.ename}`,
            evalue: event.evalue,
            traceback: event.traceback.replace(/^(?=.)/gm, rankTag(event.rank)),
          },
        ];
      case 'lost':
        return [{ type: 'stream', name: 'stderr', text: `skiff: ${event.message}\n`, rank: event.rank }];
      case 'done':
        return [];
    }
  }
}
