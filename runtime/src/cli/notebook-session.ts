// `skiff session run`: a cell's events on a terminal. Output goes where the rank wrote it (stdout
// or stderr), other ranks tagged; results and displays as their text; the outcome line last.
import type { CellEvent } from '../types.js';
import { CellOutcome, RankTagger, plainText } from '../front/session-output.js';
import { EXIT_JOB_FAILED, EXIT_OK } from '../errors.js';
import { EXIT_INTERRUPTED, type Output } from './follow.js';

export interface CellPrintOptions {
  /** Show ranks other than 0 (default true); their errors and losses show regardless. */
  allRanks?: boolean;
  json?: boolean;
}

/** Prints a cell's events as they come; resolves with the exit code of its outcome. */
export async function printCell(events: AsyncIterable<CellEvent>, workers: number, io: Output, opts: CellPrintOptions = {}): Promise<number> {
  const outcome = new CellOutcome(workers);
  const tagger = new RankTagger();
  const shown = (rank: number) => rank === 0 || opts.allRanks !== false;
  for await (const event of events) {
    outcome.add(event);
    if (opts.json) {
      io.out(JSON.stringify(event) + '\n');
      continue;
    }
    switch (event.type) {
      case 'stream':
        if (shown(event.rank)) (event.name === 'stdout' ? io.out : io.err)(tagger.tag(event.rank, event.text));
        break;
      case 'result':
      case 'display':
        if (event.rank === 0) io.out(plainText(event.data) + '\n');
        break;
      case 'error':
        io.err(tagger.tag(event.rank, event.traceback.endsWith('\n') ? event.traceback : event.traceback + '\n'));
        break;
      case 'lost':
        io.err(`skiff: ${event.message}\n`);
        break;
      case 'done':
        break;
    }
  }
  if (!opts.json) io.err(`skiff: ${outcome.summary()}\n`);
  return outcome.status === 'ok' ? EXIT_OK : outcome.status === 'interrupted' ? EXIT_INTERRUPTED : EXIT_JOB_FAILED;
}
