// ChangeWatch against a stand-in API server (plain HTTP, real client-node watch requests): what each
// way a watch can go (an event, 410 Gone, a forbidden watch, a dropped connection) comes out as.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { ChangeWatch, type WatchTarget } from './watch.js';

type Answer = (res: ServerResponse) => void;

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function apiAnswering(answer: Answer, seen: string[] = []): Promise<KubeConfig> {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.url ?? '');
    answer(res);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
    currentContext: 'fake',
  });
  return kc;
}

const pods: WatchTarget = { path: '/api/v1/namespaces/skiff/pods', labelSelector: 'skiff.dev/job=train', resourceVersion: '41' };
const event = (type: string, object: unknown) => JSON.stringify({ type, object }) + '\n';
const streaming =
  (body: string, hold = true): Answer =>
  (res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(body);
    if (!hold) res.end();
  };

describe('ChangeWatch', () => {
  it('an event on the watched objects is a change, and the watch asks from the given version', async () => {
    const seen: string[] = [];
    const kc = await apiAnswering(streaming(event('MODIFIED', { kind: 'Pod', metadata: { name: 'p', resourceVersion: '42' } })), seen);
    expect(await new ChangeWatch(kc).next([pods], { maxWaitMs: 5000 })).toBe('changed');
    const query = new URL(seen[0], 'http://x').searchParams;
    expect([query.get('watch'), query.get('resourceVersion'), query.get('labelSelector')]).toEqual(['true', '41', 'skiff.dev/job=train']);
  });

  it('410 Gone (the version is too old) comes as an ERROR event: dropped, so the caller re-reads', async () => {
    const gone = { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: 'too old resource version: 41 (97)' };
    const kc = await apiAnswering(streaming(event('ERROR', gone)));
    expect(await new ChangeWatch(kc).next([pods], { maxWaitMs: 5000 })).toBe('dropped');
  });

  it('a forbidden watch is dropped at once, not waited out, and the paced form pauses before the re-read', async () => {
    const kc = await apiAnswering((res) => {
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'pods is forbidden' }));
    });
    const watch = new ChangeWatch(kc);
    let started = Date.now();
    expect(await watch.next([pods], { maxWaitMs: 5000 })).toBe('dropped');
    expect(Date.now() - started).toBeLessThan(1000);
    started = Date.now();
    expect(await watch.nextPaced([pods], { maxWaitMs: 5000 })).toBe('dropped');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // a loop on a refused watch cannot spin
  });

  it('a watch the server ends without an event is dropped; bookmarks alone are not changes', async () => {
    const kc = await apiAnswering(streaming(event('BOOKMARK', { kind: 'Pod', metadata: { resourceVersion: '50' } }), false));
    expect(await new ChangeWatch(kc).next([pods], { maxWaitMs: 5000 })).toBe('dropped');
  });

  it('nothing within maxWaitMs is a timeout, and an abort ends the wait', async () => {
    const kc = await apiAnswering(streaming(''));
    expect(await new ChangeWatch(kc).next([pods], { maxWaitMs: 200 })).toBe('timeout');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    expect(await new ChangeWatch(kc).next([pods], { maxWaitMs: 5000, signal: controller.signal })).toBe('aborted');
  });
});
