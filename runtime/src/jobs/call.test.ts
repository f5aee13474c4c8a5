import { replyJson, serveStandInApi, type StandInApi } from '../testing/stand-in-api.js';
import { afterEach, describe, expect, it } from 'vitest';
import { callService, serviceProxyPath } from './call.js';

describe('serviceProxyPath', () => {
  it('goes through the named http port and keeps the query', () => {
    expect(serviceProxyPath('skiff', 'web', '/predict?x=1')).toBe('/api/v1/namespaces/skiff/services/web:http/proxy/predict?x=1');
    expect(serviceProxyPath('skiff', 'web', 'health')).toBe('/api/v1/namespaces/skiff/services/web:http/proxy/health');
    expect(serviceProxyPath('skiff', 'web')).toBe('/api/v1/namespaces/skiff/services/web:http/proxy/');
    expect(serviceProxyPath('skiff', 'web', '/files/a..b?next=../x')).toBe('/api/v1/namespaces/skiff/services/web:http/proxy/files/a..b?next=../x');
  });

  it("refuses paths that would climb out of the job's proxy, however they are encoded", () => {
    for (const path of ['/../../../../api/v1/secrets', '/%2e%2e/%2E%2E/api/v1/secrets', '/%252e%252e/api', '/a/./b', '/..', '\\..\\api', '/%2e%2e%2fapi']) {
      expect(() => serviceProxyPath('skiff', 'web', path), path).toThrow("the call path must not contain '.' or '..' segments");
    }
  });
});

let server: StandInApi | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

type Owner = 'deployment' | 'job' | 'inferenceService' | 'none';

/** An API server with one job named web, as a Deployment, a Job or an InferenceService; ready after some reads. */
async function fakeApi(readyAfterReads: number, owner: Owner = 'deployment') {
  let reads = 0;
  const proxied: { method?: string; url?: string; body: string; contentType?: string }[] = [];
  const seen: string[] = [];
  const meta = { name: 'web', namespace: 'skiff', labels: { 'skiff.dev/job': 'web' }, uid: 'u1' };
  server = await serveStandInApi(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const json = (body: unknown, status = 200) => replyJson(res, body, status);
    const list = (items: unknown[]) => json({ metadata: { resourceVersion: '1' }, items });
    const url = new URL(req.url ?? '', 'http://x');
    seen.push(url.pathname);
    const ready = () => ++reads > readyAfterReads;
    switch (url.pathname) {
      case '/apis/apps/v1/namespaces/skiff/deployments':
        return list(owner === 'deployment' ? [{ metadata: meta, spec: { replicas: 1 }, status: { readyReplicas: ready() ? 1 : 0 } }] : []);
      case '/apis/batch/v1/namespaces/skiff/jobs':
        return list(owner === 'job' ? [{ metadata: meta, spec: { completions: 1 } }] : []);
      case '/api/v1/namespaces/skiff/pods':
        return list([]);
      case '/apis/serving.kserve.io/v1beta1/namespaces/skiff/inferenceservices': {
        const conditions = [{ type: 'Ready', status: ready() ? 'True' : 'False' }];
        return owner === 'inferenceService'
          ? list([{ apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: meta, spec: { predictor: { minReplicas: 1 } }, status: { conditions } }])
          : json({ kind: 'Status', code: 404 }, 404);
      }
    }
    if (/^\/api\/v1\/namespaces\/skiff\/services\/web(-predictor)?:http\/proxy\//.test(url.pathname)) {
      proxied.push({ method: req.method, url: req.url, body, contentType: req.headers['content-type'] });
      res.writeHead(201, { 'Content-Type': 'text/plain' });
      return res.end(`got ${body}`);
    }
    json({ kind: 'Status', code: 404 }, 404);
  });
  return { kc: server.kc, proxied, seen };
}

describe('callService', () => {
  it("sends nothing outside the job's service proxy for a path that tries to", async () => {
    const { kc, proxied, seen } = await fakeApi(0);
    await expect(callService(kc, 'skiff', 'web', { path: '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/api/v1/namespaces/kube-system/secrets' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    expect(proxied).toEqual([]);
    expect(
      seen.filter((u) => !/^\/apis?\/[^?]*\/namespaces\/skiff\/(deployments|jobs|pods|inferenceservices|pytorchjobs)/.test(u) && !u.includes('/services/web:http/proxy/')),
    ).toEqual([]);
  });

  it('waits for a ready replica, then POSTs JSON through the service proxy', async () => {
    const { kc, proxied } = await fakeApi(1);
    const result = await callService(kc, 'skiff', 'web', { path: '/predict', data: '{"x":1}' });
    expect(result).toEqual({ status: 201, body: 'got {"x":1}' });
    expect(proxied).toEqual([{ method: 'POST', url: '/api/v1/namespaces/skiff/services/web:http/proxy/predict', body: '{"x":1}', contentType: 'application/json' }]);
  });

  it('calls an InferenceService through the Service KServe made for its predictor, once KServe says it is ready', async () => {
    const { kc, proxied } = await fakeApi(1, 'inferenceService');
    const result = await callService(kc, 'skiff', 'web', { path: '/', data: '[1]' });
    expect(result.status).toBe(201);
    expect(proxied.map((p) => p.url)).toEqual(['/api/v1/namespaces/skiff/services/web-predictor:http/proxy/']);
  });

  it('tells training jobs and unknown jobs apart', async () => {
    const { kc } = await fakeApi(0, 'job');
    await expect(callService(kc, 'skiff', 'web')).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await server!.stop();
    const missing = await fakeApi(0, 'none');
    await expect(callService(missing.kc, 'skiff', 'web')).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
  });

  it('times out when no replica becomes ready', async () => {
    const { kc } = await fakeApi(1000);
    await expect(callService(kc, 'skiff', 'web', { readyTimeoutMs: 10 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
});
