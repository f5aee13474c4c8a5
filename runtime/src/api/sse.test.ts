import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SseStream } from './sse.js';

let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? (server.closeAllConnections(), server.close(() => resolve())) : resolve())));

describe('SseStream', () => {
  it("keeps a producer at the client's pace: one that stops reading holds it back, one that goes away ends it", async () => {
    const line = 'x'.repeat(1024);
    let sent = 0;
    let finished: (() => void) | undefined;
    const producerDone = new Promise<void>((resolve) => (finished = resolve));
    server = http.createServer(async (_req, res) => {
      const stream = new SseStream(res);
      // A million 1 KiB log lines: a gigabyte, were they queued without waiting for the client.
      for (; sent < 1_000_000 && !stream.signal.aborted; sent++) await stream.send('log', { text: line });
      finished!();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const req = http.get({ host: '127.0.0.1', port, path: '/' });
    const res = await new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve));
    res.pause(); // a client that stops reading
    await new Promise((resolve) => setTimeout(resolve, 700));
    const whilePaused = sent;
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Only what the socket buffers hold went out (a few MB), and the producer waits.
    expect(whilePaused).toBeLessThan(50_000);
    expect(sent).toBe(whilePaused);
    req.destroy();
    await producerDone;
    expect(sent).toBeLessThan(1_000_000);
  });

  it('opens a quiet stream at once: its headers do not wait for the first event', async () => {
    let stream: SseStream | undefined;
    server = http.createServer((_req, res) => {
      stream = new SseStream(res);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const req = http.get({ host: '127.0.0.1', port, path: '/' });
    const res = await new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve));
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    let body = '';
    res.on('data', (chunk: Buffer) => (body += chunk));
    const ended = new Promise((resolve) => res.on('end', resolve));
    stream!.end();
    await ended;
    expect(body).toBe('event: end\ndata: {}\n\n');
  });
});
