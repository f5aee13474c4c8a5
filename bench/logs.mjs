// Following a chatty job's logs: `skiff logs -f` against `kubectl logs -f` (the baseline), each
// attached to its own run of the same job (same image, script, node) before it prints, 10k and then
// 1M lines as fast as Python prints them. For each follower: wall time until it exits (the job's end),
// peak RSS (the kernel's count, via /usr/bin/time) and the lines it printed (none may be lost).
// Goals: Skiff's RSS grows < 30 MB from 10k to 1M lines; time <= 1.0x kubectl's.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, KUBECTL, median, round, run, skiff, writeResults } from './lib.mjs';

const CLUSTER = process.env.BENCH_CLUSTER ?? 'skiff-bench';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SIZES = (process.env.BENCH_LOG_LINES ?? '10000,1000000').split(',').map(Number);
const SCRIPT = 'bench/fixtures/chatty.py';
const kubectl = `${KUBECTL} --context kind-${CLUSTER} -n skiff`;

await skiff(['--cluster', CLUSTER, 'up', '--workers', '1']);
const results = {};
for (const lines of SIZES) {
  const rows = { skiff: [], kubectl: [] };
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? ['skiff', 'kubectl'] : ['kubectl', 'skiff'];
    for (const who of order) rows[who].push(await followOne(who, `bench-logs-${who}-${i}`, lines));
  }
  results[lines] = {
    skiff: summary(rows.skiff),
    kubectl: summary(rows.kubectl),
  };
  results[lines].timeRatio = round(results[lines].skiff.medianSeconds / results[lines].kubectl.medianSeconds, 2);
}
const [small, large] = SIZES;
const growth = (who) => round(results[large][who].medianPeakMB - results[small][who].medianPeakMB, 1);
writeResults('logs-follow', {
  what: `following a job that prints ${SIZES.join(' / ')} lines: seconds until the follower exits, its peak RSS, lines printed`,
  rounds: ROUNDS,
  skiff: { command: 'skiff logs -f JOB' },
  baseline: { command: 'kubectl logs -f job/JOB' },
  results,
  rssGrowthMB: { skiff: growth('skiff'), kubectl: growth('kubectl'), from: small, to: large },
  ratio: results[large].timeRatio,
  goal: 'skiff RSS growth < 30 MB; time ratio <= 1.0',
});

async function followOne(who, job, lines) {
  await skiff(['--cluster', CLUSTER, 'run', SCRIPT, '--workers', '1', '--name', job, '--detach', '--', String(lines)]);
  await run('sh', ['-c', `${kubectl} wait --for=condition=Ready pod -l skiff.dev/job=${job} --timeout=180s`]);
  const rssFile = join(tmpdir(), `${job}.rss`);
  const follower = who === 'skiff' ? `${process.execPath} ${CLI} --cluster ${CLUSTER} logs -f ${job}` : `${kubectl} logs -f job/${job}`;
  const started = performance.now();
  // Lines counted by wc, so the follower's own memory is all that /usr/bin/time measures.
  const counted = await run('sh', ['-c', `/usr/bin/time -f %M -o ${rssFile} ${follower} | grep -c '^\\(\\[rank 0\\] \\)\\?step [0-9]* loss' || true`]);
  const seconds = (performance.now() - started) / 1000;
  const peakMB = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)) / 1024;
  rmSync(rssFile, { force: true });
  await skiff(['--cluster', CLUSTER, 'cancel', job]).catch(() => {});
  return { seconds: round(seconds), peakMB: round(peakMB, 1), lines: Number(counted.trim()), expected: lines };
}

function summary(rows) {
  return {
    seconds: rows.map((r) => r.seconds),
    peakMB: rows.map((r) => r.peakMB),
    linesLost: rows.map((r) => r.expected - r.lines),
    medianSeconds: round(median(rows.map((r) => r.seconds))),
    medianPeakMB: round(median(rows.map((r) => r.peakMB)), 1),
  };
}
