// `skiff session run`: a cell's events on a terminal. Output goes where the rank wrote it (stdout
// or stderr), other ranks tagged; results and displays as their text; the outcome line last.
import type { CellEvent } from '../types.js';
import { CellPresenter, plainText } from '../sessions/cell-output.js';
import { EXIT_JOB_FAILED, EXIT_OK } from '../errors.js';
import { EXIT_INTERRUPTED, type Output } from './follow.js';

export interface CellPrintOptions {
  /** Show ranks other than 0 (default true); their errors and losses show regardless. */
  allRanks?: boolean;
  json?: boolean;
}

/** Prints a cell's events as they come; resolves with the exit code of its outcome. */
export async function printCell(events: AsyncIterable<CellEvent>, workers: number, io: Output, opts: CellPrintOptions = {}): Promise<number> {
  // No chart on a terminal: skiff.log lines print as their values.
  const presenter = new CellPresenter(workers, { allRanks: opts.allRanks, charts: false });
  for await (const event of events) {
    if (opts.json) {
      presenter.outcome.add(event);
      await io.out(JSON.stringify(event) + '\n');
      continue;
    }
    for (const output of presenter.present(event)) {
      switch (output.type) {
        case 'stream':
          await (output.name === 'stdout' ? io.out(output.text) : io.err(output.text));
          break;
        case 'rich':
          await io.out(plainText(output.data) + '\n');
          break;
        case 'error':
          io.err(output.traceback.endsWith('\n') ? output.traceback : output.traceback + '\n');
          break;
        case 'metrics':
          break;
      }
    }
  }
  const outcome = presenter.outcome;
  if (!opts.json) io.err(`skiff: ${outcome.summary()}\n`);
  return outcome.status === 'ok' ? EXIT_OK : outcome.status === 'interrupted' ? EXIT_INTERRUPTED : EXIT_JOB_FAILED;
}
