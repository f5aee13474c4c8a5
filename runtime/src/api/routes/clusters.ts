// The API's health and the local clusters.
import { API_VERSION, RUNTIME_VERSION } from '../../version.js';
import type { Handlers } from '../dispatch.js';

export const clusterHandlers = {
  health: async (_request, { backend }) => ({ ok: true, version: RUNTIME_VERSION, apiVersion: API_VERSION, cluster: backend.clusterName, namespace: backend.namespace }),

  listClusters: async (_request, { backend }) => backend.listClusters(),

  clusterUp: async ({ body }, { backend, wantsStream, stream }) => {
    if (!wantsStream) return backend.up(body);
    return stream(async (send) => {
      send('result', await backend.up(body, (message) => send('progress', { message })));
    });
  },

  clusterDown: async ({ body }, { backend }) => {
    const name = body.name ?? backend.clusterName;
    return { name, deleted: await backend.down(name) };
  },
} satisfies Partial<Handlers>;
