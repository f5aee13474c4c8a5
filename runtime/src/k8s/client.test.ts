import https from 'node:https';
import { describe, expect, it } from 'vitest';
import { KubeConfig, RequestContext } from '@kubernetes/client-node';
import { withPooledConnections } from './client.js';

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
    expect(agent.keepAlive).toBe(true);
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
    expect((fetchOptions.headers as Headers).get('Authorization')).toBe('Bearer secret-token');
  });
});
