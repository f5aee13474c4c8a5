import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, KubeConfig, RequestContext, Watch } from '@kubernetes/client-node';
import { ApiCallAgent, explainKubeError, kubeRequest, withPooledConnections } from './client.js';
import { replyJson, serveStandInApi } from '../testing/stand-in-api.js';
import { SkiffError } from '../errors.js';

const kubeConfig = (proxyUrl?: string) => {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: true, ...(proxyUrl ? { proxyUrl } : {}) }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
};

const authenticate = async (kc: KubeConfig) => {
  const context = new RequestContext('https://127.0.0.1:6443/api/v1/namespaces', 'GET' as never);
  await kc.applySecurityAuthentication(context);
  return context;
};

describe('withPooledConnections', () => {
  it('gives every request of one KubeConfig the same keep-alive agent, with its TLS settings', async () => {
    const kc = kubeConfig();
    const [a, b] = await Promise.all([authenticate(withPooledConnections(kc)), authenticate(withPooledConnections(kc))]);
    const agent = a.getAgent() as https.Agent;
    expect(agent).toBe(b.getAgent());
    expect((agent as https.Agent & { keepAlive: boolean }).keepAlive).toBe(true); // set by Node, not in its types
    // Idle sockets go before the API server would close them under a new request.
    expect(agent.options.timeout).toBeLessThan(90_000);
    expect(agent.options.rejectUnauthorized).toBe(false);
    // Authentication itself is untouched.
    expect(a.getHeaders().Authorization).toBe('Bearer secret-token');
  });

  it('keeps KubeConfigs apart, and leaves the original and proxy agents as client-node makes them', async () => {
    const kc = kubeConfig();
    const pooled = (await authenticate(withPooledConnections(kc))).getAgent();
    expect((await authenticate(withPooledConnections(kubeConfig()))).getAgent()).not.toBe(pooled);
    expect((await authenticate(kc)).getAgent()).not.toBe(pooled);
    const viaProxy = (await authenticate(withPooledConnections(kubeConfig('socks5://127.0.0.1:1080')))).getAgent();
    expect(viaProxy?.constructor).not.toBe(https.Agent);
  });
});

describe('withPooledConnections for watches, logs and raw requests', () => {
  it('hands fetch and HTTPS options the same pooled agent as the API clients', async () => {
    const kc = kubeConfig();
    const pooled = withPooledConnections(kc);
    const httpsOptions: https.RequestOptions = {};
    const [fetchOptions, context] = await Promise.all([pooled.applyToFetchOptions({}), authenticate(pooled), pooled.applyToHTTPSOptions(httpsOptions)]);
    expect(fetchOptions.agent).toBe(context.getAgent());
    expect(httpsOptions.agent).toBe(context.getAgent());
    // node-fetch's Headers (client-node's fetch), not the DOM's.
    expect((fetchOptions.headers as { get(name: string): string | null }).get('Authorization')).toBe('Bearer secret-token');
  });
});

describe('a plain API call to an API server that never answers', () => {
  // A real HTTPS server that takes each request and sends nothing back, as a hung API server does
  // (a watch gets its headers, then no event).
  let server: https.Server;
  let url: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-tls-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
      if (req.url?.includes('watch=true')) res.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
    });
    rmSync(dir, { recursive: true, force: true });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const hungCluster = async (timeoutMs: number) => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
    const pooled = withPooledConnections(kc);
    const agent = (await authenticate(pooled)).getAgent() as ApiCallAgent;
    expect(agent).toBeInstanceOf(ApiCallAgent);
    agent.callTimeoutMs = timeoutMs;
    return pooled;
  };

  it('fails after the call limit, in words that say the API server did not answer', async () => {
    const pooled = await hungCluster(300);
    const started = Date.now();
    const err = await pooled
      .makeApiClient(CoreV1Api)
      .listNamespace()
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    const explained = explainKubeError(err, { cluster: 'skiff' }) as SkiffError;
    expect(explained.code).toBe('CLUSTER_GONE');
    expect(explained.message).toMatch(/cannot reach the API server of cluster 'skiff': .*no answer to GET \/api\/v1\/namespaces within 0.3 s/);
    expect(explained.hint).toContain('skiff up --name skiff');
    // Another context (where a job was promoted) is no cluster of Skiff's to recreate.
    const remote = explainKubeError(err, { context: 'prod' }) as SkiffError;
    expect(remote.message).toMatch(/^cannot reach the API server of context 'prod'/);
    expect(remote.hint).toBe('is that cluster up, and are its credentials current? check with `kubectl --context prod cluster-info`');
  });

  it('leaves a watch open past that limit: watches wait by design', async () => {
    const pooled = await hungCluster(200);
    let ended: unknown = 'open';
    const controller = await new Watch(pooled).watch(
      '/api/v1/namespaces',
      {},
      () => {},
      (err) => (ended = err ?? 'ended'),
    );
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(ended).toBe('open');
    controller.abort();
  });
});

describe('kubeRequest', () => {
  it('sends the credentials of the kubeconfig and hands back the answer', async () => {
    const api = await serveStandInApi(
      (req, res) => (req.headers.authorization === 'Bearer secret' ? replyJson(res, { metadata: { name: 'train-0-aaaaa' }, path: req.url }) : replyJson(res, { code: 401 }, 401)),
      { token: 'secret' },
    );
    try {
      const res = await kubeRequest(api.kc, { path: '/api/v1/namespaces/skiff/pods/train-0-aaaaa' });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body.toString())).toEqual({ metadata: { name: 'train-0-aaaaa' }, path: '/api/v1/namespaces/skiff/pods/train-0-aaaaa' });
    } finally {
      await api.stop();
    }
  });
});
