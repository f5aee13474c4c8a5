// Jobs: submitting, listing and describing them, their outputs, following them (status, logs,
// metrics) and calling a serving one. All but submit and outputs serve promoted jobs too (`remote`).
import path from 'node:path';
import type { z } from 'zod';
import type { CodeSource } from '../../session.js';
import { parseJobSpec, type JobSpec } from '../../spec/job-spec.js';
import { callbackStream } from '../../k8s/streams.js';
import { runFiles } from '../../workspace/runs.js';
import { OUTPUTS_COPY_DIR, routes } from '../contract.js';
import type { Handlers } from '../dispatch.js';
import { parseRequest } from '../fields.js';

export const jobHandlers = {
  listJobs: async ({ query }, { backend }) => backend.listJobs(query.namespace),

  submitJob: async ({ query, body }, { backend, confine }) => {
    const { spec, code, from } = submission(body, query.namespace ?? backend.namespace);
    if (code.codeRoot) code.codeRoot = await confine('codeRoot', code.codeRoot);
    const notices: string[] = [];
    const status = await backend.submit(spec, code, { from, onProgress: (line) => notices.push(line) });
    return { ...status, notices };
  },

  jobOutputs: async ({ params, query }, { backend }) => {
    const run = await backend.outputs(params.name, query.namespace);
    return { dir: run.dir, record: run.record, ...(await runFiles(run)) };
  },

  copyJobOutputs: async ({ params, query, body }, { backend, confine }) => {
    const to = path.join(await confine('codeRoot', body.codeRoot), OUTPUTS_COPY_DIR, params.name);
    const run = await backend.copyOutputs(params.name, to, query.namespace);
    return { dir: run.dir, to };
  },

  watchJobs: async ({ query }, { backend, items }) => items('jobs', (signal) => backend.watchJobs({ signal, namespace: query.namespace })),

  describeJob: async ({ params, query }, { backend }) => backend.describeJob(params.name, query.namespace),

  cancelJob: async ({ params, query }, { backend }) => {
    await backend.cancelJob(params.name, query.namespace);
    return { name: params.name, cancelled: true };
  },

  waitForJob: async ({ params, query }, { backend, items }) =>
    items('status', (signal) => callbackStream((onStatus) => backend.waitForJob(params.name, query.until, { signal, onStatus, namespace: query.namespace }))),

  jobLogs: async ({ params, query }, { backend, items }) =>
    items('log', (signal) => backend.logs(params.name, { follow: query.follow, sinceTime: query.since, signal, namespace: query.namespace })),

  jobMetrics: async ({ params, query }, { backend, items }) =>
    items('metrics', (signal) => backend.metrics(params.name, { follow: query.follow, intervalMs: query.intervalMs, signal, namespace: query.namespace })),

  callJob: async ({ params, query, body }, { backend, untilClientGoes }) =>
    backend.call(params.name, {
      ...body,
      namespace: query.namespace,
      // A caller that gave up (a closed tab, a Ctrl-C) stops the wait for a replica and the request.
      signal: untilClientGoes(),
    }),
} satisfies Partial<Handlers>;

type SubmitBody = z.output<typeof routes.submitJob.body>;

/** A submission's spec (the job spec's checks and defaults, in `namespace` unless it names one) and code. */
function submission(body: SubmitBody, namespace: string): { spec: JobSpec; code: CodeSource; from?: string } {
  // notebookPath is the JupyterLab proxy's to read, not a spec field.
  const { code, codeRoot, from, notebookPath, ...fields } = body;
  const spec = parseJobSpec({ namespace, ...fields });
  const source: CodeSource = {};
  if (code) source.files = code.files.map((file) => ({ path: file.path, content: Buffer.from(file.content, 'base64') }));
  if (codeRoot) source.codeRoot = codeRoot;
  return from ? { spec, code: source, from } : { spec, code: source };
}

/** POST /api/jobs's body as the route takes it: checked by the contract, then as a job spec. */
export function submitRequest(input: unknown, namespace: string): { spec: JobSpec; code: CodeSource; from?: string } {
  return submission(parseRequest(routes.submitJob.body, input), namespace);
}
