// A stand-in API server for unit tests: any request handler on a free loopback port (plain HTTP),
// and a kubeconfig whose context reaches it, so client-node makes its real requests to it.
import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface StandInApi {
  kc: KubeConfig;
  /** Ends open streams (watches, follows) too, so the server closes at once. */
  stop(): Promise<void>;
}

/** `context` names the kubeconfig context (kind's are `kind-<cluster>`); `token`, a bearer token to send. */
export async function serveStandInApi(handle: RequestListener, opts: { context?: string; token?: string } = {}): Promise<StandInApi> {
  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const context = opts.context ?? 'kind-fake';
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', ...(opts.token ? { token: opts.token } : {}) }],
    contexts: [{ name: context, cluster: 'fake', user: 'u' }],
    currentContext: context,
  });
  return {
    kc,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers a stand-in request with a JSON body, as the API server does. */
export function replyJson(res: ServerResponse, body: unknown, status = 200): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}
