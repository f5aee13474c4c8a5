// Notebook sessions, side by side with their baselines in one run:
// - warm: a trivial cell on a warm 2-rank session, seconds to its first output (goal < 0.3 s, and
//   <= 3x a plain local Jupyter kernel doing the same);
// - cold: the first cell of a new session (start + cell) against `skiff run` of the same code to
//   its first log line, both 2 workers.
// The session is driven in-process through the runtime, as VS Code does, and through the Skiff
// kernel (jupyter_client, as JupyterLab drives it) against that same local kernel.
import { delimiter, join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CACHE, CLI, REPO, median, round, run, secondsUntilLine, skiff, writeResults } from './lib.mjs';
import { SkiffSession } from '../runtime/dist/index.js';

const CLUSTER = process.env.BENCH_CLUSTER ?? 'skiff-bench';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const COLD_ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 3);
const JUPYTER_PYTHON = process.env.BENCH_JUPYTER_PYTHON ?? join(CACHE, 'venv-jupyterlab-py3.11/bin/python');
const CELL = 'print("hi", flush=True)';

await skiff(['--cluster', CLUSTER, 'up', '--workers', '2']);
const session = new SkiffSession({ clusterName: CLUSTER });
const folder = mkdtempSync(join(tmpdir(), 'skiff-bench-session-'));
writeFileSync(join(folder, 'bench.ipynb'), JSON.stringify({ cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 }));
const notebook = { notebook: 'bench.ipynb', codeRoot: folder, workers: 2 };

async function firstOutput(name, code) {
  const started = performance.now();
  let first;
  for await (const event of session.runCell(name, code)) {
    if (event.type === 'stream' && event.rank === 0 && first === undefined) first = (performance.now() - started) / 1000;
  }
  return first;
}

// Warm: one session, a cell to warm it, then the rounds.
await session.startNotebookSession({ name: 'bench-warm', ...notebook });
await firstOutput('bench-warm', CELL);
const warm = [];
for (let i = 0; i < ROUNDS; i++) warm.push(await firstOutput('bench-warm', CELL));
await session.cancelJob('bench-warm');
const jupyter = JSON.parse(await run(JUPYTER_PYTHON, [join('bench/fixtures/jupyter_latency.py'), String(ROUNDS)]));
// The Skiff kernel of the JupyterLab package: its own API child, on the bench's cluster, in the notebook's folder.
// This checkout's kernel (as it is this checkout's runtime), not the copy last installed in the venv.
const kernelEnv = {
  ...process.env,
  SKIFF_COMMAND: `${process.execPath} ${CLI} --cluster ${CLUSTER}`,
  JPY_SESSION_NAME: join(folder, 'kernel.ipynb'),
  PYTHONPATH: [join(REPO, 'jupyterlab-ext'), process.env.PYTHONPATH].filter(Boolean).join(delimiter),
};
// In the notebook's folder, as Jupyter starts a kernel: its API serves the code found there.
const kernel = JSON.parse(await run(JUPYTER_PYTHON, [join(REPO, 'bench/fixtures/jupyter_latency.py'), String(ROUNDS), 'skiff-2'], { env: kernelEnv, cwd: folder }));

// Cold: alternating, a new session's first cell against a job of the same code.
writeFileSync(join(folder, 'cell.py'), CELL + '\n');
const cold = [];
const job = [];
for (let i = 0; i <= COLD_ROUNDS; i++) {
  const name = `bench-cold-${i}`;
  const started = performance.now();
  await session.startNotebookSession({ name, ...notebook });
  await firstOutput(name, CELL);
  const coldSeconds = (performance.now() - started) / 1000;
  await session.cancelJob(name);
  const jobSeconds = await secondsUntilLine(process.execPath, [CLI, '--cluster', CLUSTER, 'run', join(folder, 'cell.py'), '--workers', '2', '--name', `bench-job-${i}`], /\bhi$/);
  await skiff(['--cluster', CLUSTER, 'cancel', `bench-job-${i}`]).catch(() => {});
  if (i === 0) continue; // round 0 warms the node image and API server caches
  cold.push(coldSeconds);
  job.push(jobSeconds);
}
rmSync(folder, { recursive: true, force: true });

// Warm cells take a few milliseconds: to 0.1 ms, so that their ratios are not an artefact of rounding.
const series = (xs, digits = 3) => ({ seconds: xs.map((s) => round(s, digits)), median: round(median(xs), digits) });
const warmSeries = (xs) => series(xs, 4);
writeResults('sessions', {
  what: "notebook sessions: a trivial cell on a warm 2-rank session vs a warm local Jupyter kernel (first output); a cold session's first cell vs `skiff run` of the same code (first line), 2 workers",
  rounds: { warm: ROUNDS, cold: COLD_ROUNDS },
  warm: {
    skiff: warmSeries(warm),
    kernel: warmSeries(kernel),
    jupyter: warmSeries(jupyter),
    ratio: round(median(warm) / median(jupyter), 2),
    kernelRatio: round(median(kernel) / median(jupyter), 2),
    goal: 'skiff < 0.3 s and ratio <= 3',
  },
  cold: { session: series(cold), job: series(job), ratio: round(median(cold) / median(job), 2) },
});
if (!process.env.SKIFF_BENCH_KEEP) await skiff(['--cluster', CLUSTER, 'down']);
