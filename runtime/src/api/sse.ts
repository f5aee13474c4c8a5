// Server-sent events: `event: <name>\ndata: <json>\n\n`. JSON.stringify never emits a raw newline,
// so every payload fits on one data line.
import type { ServerResponse } from 'node:http';

export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data ?? null)}\n\n`;
}

/** Comment lines keep proxies and idle timers from closing a quiet stream. */
export const SSE_KEEPALIVE = ': keepalive\n\n';
const KEEPALIVE_MS = 15_000;

/** An event stream on a response; `signal` aborts when the client goes away. */
export class SseStream {
  private readonly controller = new AbortController();
  private readonly keepalive: NodeJS.Timeout;
  private readonly headersLater: NodeJS.Immediate;

  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    // The headers go out with the first event, or one turn of the event loop after the stream
    // opened, whichever comes first: what the producer sends on its way first (a cell's requests to
    // its ranks, on the path to the cell's first output) is not queued behind them.
    this.headersLater = setImmediate(() => {
      if (!res.writableEnded && !res.destroyed) res.flushHeaders();
    });
    res.on('close', () => {
      clearImmediate(this.headersLater);
      clearInterval(this.keepalive);
      this.controller.abort();
    });
    this.keepalive = setInterval(() => void this.write(SSE_KEEPALIVE), KEEPALIVE_MS);
    this.keepalive.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Resolves once the client can take more: a producer that awaits it (a log of a million lines)
   * runs at the client's pace instead of queueing the whole stream in memory. Resolves at once
   * when the client has gone (see `signal`).
   */
  send(event: string, data: unknown): Promise<void> {
    return this.write(sseFrame(event, data));
  }

  /** Nothing is written once the client has gone. */
  private write(text: string): Promise<void> {
    if (this.res.writableEnded || this.signal.aborted || this.res.write(text)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.signal.removeEventListener('abort', done);
        resolve();
      };
      this.res.once('drain', done);
      this.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Sends `event: end` and closes the response, in one write. */
  end(data: unknown = {}): void {
    clearInterval(this.keepalive);
    if (this.res.writableEnded) return;
    if (this.signal.aborted) this.res.end();
    else this.res.end(sseFrame('end', data));
  }
}
