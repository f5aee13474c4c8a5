// @vitest-environment jsdom
// A cell run against the runtime's real API server (a scripted session behind it) into JupyterLab's
// real output model: the status line, the chart's samples and every rank's lines, in that order.
import './testing/jsdom-shims';
import { OutputAreaModel } from '@jupyterlab/outputarea';
import { afterEach, describe, expect, it } from 'vitest';
import { METRICS_MIME } from '@skiff/media';
import { SkiffError, startApiServer, type ApiServer } from '@skiff/runtime';
import { SkiffApiClient } from '@skiff/runtime/front';
import { runInCell, type CellTarget } from './cell-run';
import { scriptedBackend, TOKEN } from './testing/backend';

let server: ApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setUp(opts: Parameters<typeof scriptedBackend>[0] = {}) {
  const backend = scriptedBackend(opts);
  server = await startApiServer({ token: TOKEN, backend });
  const outputs = new OutputAreaModel();
  const prompts: string[] = [];
  const cell: CellTarget = { model: { outputs }, setPrompt: (p: string) => void prompts.push(p) };
  return { backend, client: new SkiffApiClient({ baseUrl: server.url, token: TOKEN }), outputs, prompts, cell };
}

const texts = (outputs: OutputAreaModel) => Array.from({ length: outputs.length }, (_, i) => outputs.get(i).toJSON());
const job = (kind: 'training' | 'serving' = 'training') => ({
  spec: { kind, name: 'nb-abc12', script: kind === 'training' ? 'cell.py' : 'app.py', workers: 2 },
  source: 'print("hi")\n',
});

describe('runInCell', () => {
  it("submits the cell, then shows the outcome, the metrics and both ranks' lines in order", async () => {
    const { backend, client, outputs, prompts, cell } = await setUp();
    const final = await runInCell(client, cell, job(), { signal: new AbortController().signal, metricsIntervalMs: 100 });
    expect(final?.phase).toBe('Succeeded');
    expect(backend.submitted[0].files).toEqual([{ path: 'cell.py', content: 'print("hi")\n' }]);
    const [status, metrics, ...logs] = texts(outputs);
    expect(status).toMatchObject({ output_type: 'display_data', data: { 'text/plain': '✓ job nb-abc12: Succeeded (2 workers on w1, w2)' } });
    expect((metrics.data as Record<string, { samples: unknown[] }>)[METRICS_MIME].samples).toHaveLength(2);
    // Consecutive stdout merges into one stream output, as JupyterLab does for a kernel.
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ output_type: 'stream', name: 'stdout' });
    const lines = String(logs[0].text).trimEnd().split('\n');
    expect(lines.filter((l) => l.includes('rank 0/2 finished'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('rank 1/2 finished'))).toHaveLength(1);
    expect(lines.findIndex((l) => l.includes('step 1'))).toBeLessThan(lines.findIndex((l) => l.includes('rank 0/2 finished')));
    expect(prompts).toEqual(['*', '']);
  });

  it("says why a job could not be submitted, with the runtime's hint, and streams nothing", async () => {
    const { client, outputs, cell } = await setUp({ submitError: new SkiffError('NO_CLUSTER', "cluster 'skiff' does not exist", { hint: 'run `skiff up` first' }) });
    expect(await runInCell(client, cell, job(), { signal: new AbortController().signal, metricsIntervalMs: 100 })).toBeUndefined();
    expect(texts(outputs)[0]).toMatchObject({ data: { 'text/plain': "✗ cluster 'skiff' does not exist — run `skiff up` first" } });
  });

  it("shows a failed job's plain-words reason as the last status", async () => {
    const { client, outputs, cell } = await setUp({ finalPhase: 'Failed', reason: 'script exited 1 — last lines: ValueError: bad batch size' });
    const final = await runInCell(client, cell, job(), { signal: new AbortController().signal, metricsIntervalMs: 100 });
    expect(final?.phase).toBe('Failed');
    expect(texts(outputs)[0]).toMatchObject({ data: { 'text/plain': expect.stringMatching(/^✗ job nb-abc12: Failed .* — script exited 1 — last lines: ValueError/) } });
  });

  it('has no chart for a serving job, and stopping the follow leaves the job running, saying so', async () => {
    const { client, outputs, cell } = await setUp({ finalPhase: 'never' });
    const controller = new AbortController();
    const run = runInCell(client, cell, job('serving'), { signal: controller.signal, metricsIntervalMs: 100 });
    await expect.poll(() => texts(outputs).some((o) => o.output_type === 'stream')).toBe(true);
    controller.abort();
    expect(await run).toBeUndefined();
    const all = texts(outputs);
    expect(all.some((o) => METRICS_MIME in ((o.data as object) ?? {}))).toBe(false);
    expect(all[0]).toMatchObject({ data: { 'text/plain': expect.stringContaining('■ stopped following nb-abc12; it keeps running') } });
  });
});
