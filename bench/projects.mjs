// Real projects on the local cluster, side by side in one run on one cluster, alternating:
// - submit -> first log line with a 100 MB code folder against a 10 KB one (goal: within 10 %);
// - a job with three packages: first submit (empty package cache) and cached submit, against the
//   same job without packages (goal: cached <= 1.2x).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, median, round, secondsUntilLine, skiff, writeResults } from './lib.mjs';

const CLUSTER = process.env.BENCH_CLUSTER ?? 'skiff-bench';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FIRST_LINE = /bench first line/;
const PACKAGES = ['flask', 'tqdm', 'requests'];
const DATA = process.env.SKIFF_DATA_DIR ?? join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local/share'), 'skiff');

const script = 'import time\nprint("bench first line", flush=True)\n';
const small = folder('skiff-bench-small-', 10 * 1024);
const big = folder('skiff-bench-big-', 100 * 1024 * 1024);

await skiff(['--cluster', CLUSTER, 'up', '--workers', '1']);
const timings = { small: [], big: [], none: [], first: [], cached: [] };
for (let i = 0; i <= ROUNDS; i++) {
  // Round 0 warms every path up (image on the node, API server caches) and is not counted.
  const order = i % 2 === 0 ? ['small', 'big'] : ['big', 'small'];
  for (const which of order) record(which, i, await submit(`bench-${which}-${i}`, which === 'small' ? small : big));
  rmSync(join(DATA, 'packages'), { recursive: true, force: true });
  record('none', i, await submit(`bench-none-${i}`, small));
  record('first', i, await submit(`bench-first-${i}`, small, PACKAGES));
  record('cached', i, await submit(`bench-cached-${i}`, small, PACKAGES));
  await Promise.all(['small', 'big', 'none', 'first', 'cached'].map((w) => cancel(`bench-${w}-${i}`)));
}
for (const dir of [small, big]) rmSync(dir, { recursive: true, force: true });

const m = Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, median(v)]));
const series = (k) => ({ seconds: timings[k].map((s) => round(s)), median: round(m[k]) });
writeResults('projects', {
  what: 'seconds from `skiff run` to the first log line on the host, 1 worker, by code folder size and packages',
  rounds: ROUNDS,
  codeFolder: { small: { bytes: 10 * 1024, ...series('small') }, big: { bytes: 100 * 1024 * 1024, ...series('big') }, ratio: round(m.big / m.small, 2), goal: '<= 1.1' },
  packages: {
    packages: PACKAGES,
    none: series('none'),
    firstSubmit: series('first'),
    cachedSubmit: series('cached'),
    firstRatio: round(m.first / m.none, 2),
    cachedRatio: round(m.cached / m.none, 2),
    goal: 'cached <= 1.2',
  },
});

function record(which, round, seconds) {
  if (round > 0) timings[which].push(seconds);
}

function folder(prefix, bytes) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'job.py'), script);
  mkdirSync(join(dir, 'data'));
  const shard = 4 * 1024 * 1024;
  for (let left = bytes - script.length, n = 0; left > 0; left -= shard, n++) writeFileSync(join(dir, 'data', `part-${n}.bin`), randomBytes(Math.min(shard, left)));
  return dir;
}

function submit(name, dir, packages = []) {
  const pip = packages.flatMap((p) => ['--pip', p]);
  return secondsUntilLine(process.execPath, [CLI, '--cluster', CLUSTER, 'run', join(dir, 'job.py'), '--workers', '1', '--name', name, ...pip], FIRST_LINE);
}

function cancel(name) {
  return skiff(['--cluster', CLUSTER, 'cancel', name])
    .then(() => skiff(['--cluster', CLUSTER, 'outputs', name, '--remove']))
    .catch(() => {});
}
