// Notebook sessions: what a kernel needs (the JupyterLab one is a client of these).
import path from 'node:path';
import { CellPresenter } from '../../sessions/cell-output.js';
import { notebookFileSession } from '../../sessions/notebook-file.js';
import { notebookSessionSpec } from '../../sessions/notebook.js';
import type { Handlers } from '../dispatch.js';
import { HttpProblem } from '../http.js';

export const sessionHandlers = {
  startSession: async ({ query, body: { notebook, attach, ...choices } }, { backend, confine, wantsStream, stream }) => {
    await confine('the notebook', path.dirname(path.resolve(notebook)));
    const namespace = query.namespace ?? backend.namespace;
    const request = await notebookFileSession(notebook, { ...choices, namespace });
    // The spec's own defaults and checks: a bad size is refused before anything starts.
    const wanted = notebookSessionSpec({ ...request, namespace });
    const start = async (onProgress?: (line: string) => void) => {
      if (attach) {
        const running = await backend.findNotebookSession(request.name, namespace);
        const sameSize = running && running.workers === wanted.workers && running.gpusPerWorker === wanted.gpusPerWorker && running.gpuShare === wanted.gpuShare;
        if (running?.phase === 'Running' && sameSize) return { ...running, attached: true };
      }
      return { ...(await backend.startNotebookSession(request, { onProgress })), attached: false };
    };
    if (!wantsStream) return start();
    return stream(async (send) => {
      send('result', await start((message) => send('progress', { message })));
    });
  },

  getSession: async ({ params, query }, { backend }) => {
    const info = await backend.findNotebookSession(params.name, query.namespace);
    if (!info) throw new HttpProblem(404, 'NOT_FOUND', `no notebook session '${params.name}'`, 'start one with POST /api/sessions');
    return info;
  },

  /** Attached before the stream opens, so that a session that is gone is a 410, not a stream. */
  runCell: async ({ params, query, body: { code, allRanks } }, { backend, stream }) => {
    const { info } = await backend.attachNotebookSession(params.name, query.namespace);
    const presenter = new CellPresenter(info.workers, { allRanks });
    return stream(async (send, signal) => {
      for await (const event of backend.runCell(params.name, code, { signal, namespace: query.namespace })) {
        for (const output of presenter.present(event)) await send('output', output);
      }
      send('outcome', { status: presenter.outcome.status, summary: presenter.outcome.summary() });
    });
  },

  interruptSession: async ({ params, query, body: { graceMs } }, { backend }) => backend.interruptNotebookSession(params.name, { graceMs, namespace: query.namespace }),

  stopSession: async ({ params, query }, { backend }) => {
    await backend.stopNotebookSession(params.name, query.namespace);
    return { name: params.name, stopped: true };
  },
} satisfies Partial<Handlers>;
