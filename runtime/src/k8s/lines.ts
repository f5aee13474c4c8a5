// Splitting a byte stream into lines, for log streams (Node only: streams.ts stays browser-safe).
import { StringDecoder } from 'node:string_decoder';

/**
 * A byte stream's lines, split on '\n' only (a trailing '\r' of "\r\n" dropped). readline would
 * also split on a lone '\r', which progress bars (tqdm) write between frames: each frame would then
 * be a line of its own, without the kubelet's timestamp, so a reconnect could not tell it was seen.
 */
export async function* newlineSeparated(input: AsyncIterable<Buffer | string>, opts: { unterminatedTail?: boolean } = {}): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of input) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let newline: number;
    while ((newline = pending.indexOf('\n')) !== -1) {
      yield pending.slice(0, newline).replace(/\r$/, '');
      pending = pending.slice(newline + 1);
    }
  }
  pending += decoder.end();
  // A stream cut mid-line leaves a fragment: a log's last line is kept, a protocol's is not a line.
  if (pending && opts.unterminatedTail !== false) yield pending.replace(/\r$/, '');
}
