import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { callService, serviceProxyPath } from './call.js';

describe('serviceProxyPath', () => {
  it('goes through the named http port and keeps the query', () => {
    expect(serviceProxyPath('skiff', 'web', '/predict?x=1')).toBe('/api/v1/namespaces/skiff/services/web:http/proxy/predict?x=1');
    expect(serviceProxyPath('skiff', 'web', 'health')).toBe('/api/v1/namespaces/skiff/services/web:http/proxy/health');
    expect(serviceProxyPath('skiff', 'web')).toBe('/api/v1/namespaces/skiff/services/web:http/proxy/');
  });
});

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function fakeApi(readyAfterReads: number, kinds: { deployment: boolean; job: boolean } = { deployment: true, job: false }) {
  let reads = 0;
  const proxied: { method?: string; url?: string; body: string; contentType?: string }[] = [];
  server = createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const json = (b: unknown, status = 200) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(b));
    };
    const url = req.url ?? '';
    if (url.startsWith('/apis/apps/v1/namespaces/skiff/deployments/web')) {
      if (!kinds.deployment) return json({ kind: 'Status', code: 404 }, 404);
      reads += 1;
      return json({ metadata: { name: 'web' }, status: { readyReplicas: reads > readyAfterReads ? 1 : 0 } });
    }
    if (url.startsWith('/apis/batch/v1/namespaces/skiff/jobs/web')) return kinds.job ? json({ metadata: { name: 'web' } }) : json({ kind: 'Status', code: 404 }, 404);
    if (url.startsWith('/api/v1/namespaces/skiff/services/web:http/proxy/')) {
      proxied.push({ method: req.method, url, body, contentType: req.headers['content-type'] });
      res.writeHead(201, { 'Content-Type': 'text/plain' });
      return res.end(`got ${body}`);
    }
    json({ kind: 'Status', code: 404 }, 404);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'kind-fake', cluster: 'fake', user: 'u' }],
    currentContext: 'kind-fake',
  });
  return { kc, proxied };
}

describe('callService', () => {
  it('waits for a ready replica, then POSTs JSON through the service proxy', async () => {
    const { kc, proxied } = await fakeApi(1);
    const result = await callService(kc, 'skiff', 'web', { path: '/predict', data: '{"x":1}' });
    expect(result).toEqual({ status: 201, body: 'got {"x":1}' });
    expect(proxied).toEqual([{ method: 'POST', url: '/api/v1/namespaces/skiff/services/web:http/proxy/predict', body: '{"x":1}', contentType: 'application/json' }]);
  });

  it('tells training jobs and unknown jobs apart', async () => {
    const { kc } = await fakeApi(0, { deployment: false, job: true });
    await expect(callService(kc, 'skiff', 'web')).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await new Promise<void>((r) => server!.close(() => r()));
    const missing = await fakeApi(0, { deployment: false, job: false });
    await expect(callService(missing.kc, 'skiff', 'web')).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
  });

  it('times out when no replica becomes ready', async () => {
    const { kc } = await fakeApi(1000);
    await expect(callService(kc, 'skiff', 'web', { readyTimeoutMs: 10 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
});
