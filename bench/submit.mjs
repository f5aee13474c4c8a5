// Submit -> first log line: `skiff run` against raw `kubectl apply` + `kubectl logs -f` of the very
// same objects (rendered by `skiff run --dry-run`), alternating, on one cluster. Goal: ratio <= 1.1.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECTL, CLI, median, round, secondsUntilLine, skiff, writeResults } from './lib.mjs';

const CLUSTER = process.env.BENCH_CLUSTER ?? 'skiff-bench';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SCRIPT = 'bench/fixtures/hello.py';
const FIRST_LINE = /bench first line/;
const context = ['--context', `kind-${CLUSTER}`];

await skiff(['--cluster', CLUSTER, 'up', '--workers', '1']);
// One untimed run of each so both paths start warm (image on the node, API server caches).
const timings = { skiff: [], kubectl: [] };
for (let i = 0; i <= ROUNDS; i++) {
  const order = i % 2 === 0 ? ['skiff', 'kubectl'] : ['kubectl', 'skiff'];
  for (const path of order) {
    const seconds = path === 'skiff' ? await viaSkiff(`bench-skiff-${i}`) : await viaKubectl(`bench-raw-${i}`);
    if (i > 0) timings[path].push(seconds);
  }
  await Promise.all([cancel(`bench-skiff-${i}`), cancel(`bench-raw-${i}`)]);
}

const skiffMedian = median(timings.skiff);
const kubectlMedian = median(timings.kubectl);
writeResults('submit-first-log', {
  what: 'seconds from submitting a 1-worker job to its first log line on the host',
  rounds: ROUNDS,
  skiff: { command: 'skiff run hello.py', seconds: timings.skiff.map((s) => round(s)), median: round(skiffMedian) },
  baseline: { command: 'kubectl apply -f <same objects> && kubectl logs -f job/<name>', seconds: timings.kubectl.map((s) => round(s)), median: round(kubectlMedian) },
  ratio: round(skiffMedian / kubectlMedian, 2),
  goal: '<= 1.1',
});

async function viaSkiff(name) {
  return secondsUntilLine(process.execPath, [CLI, '--cluster', CLUSTER, 'run', SCRIPT, '--workers', '1', '--name', name], FIRST_LINE);
}

async function viaKubectl(name) {
  const manifest = join(tmpdir(), `${name}.yaml`);
  const yaml = await skiff(['--cluster', CLUSTER, 'run', SCRIPT, '--workers', '1', '--name', name, '--dry-run']);
  writeFileSync(manifest, yaml);
  // The same work by hand: the run folder the objects mount, with the code copied in.
  const workDir = /skiff\.dev\/work-dir: (\S+)/.exec(yaml)[1];
  const k = `${KUBECTL} ${context.join(' ')} -n skiff`;
  // What one types by hand: logs -f fails while the container is being created, so retry it.
  const follow = `until ${k} logs -f job/${name} 2>/dev/null; do sleep 0.2; done`;
  return secondsUntilLine('sh', ['-c', `mkdir -p ${workDir} && cp ${SCRIPT} ${workDir}/ && ${k} apply -f ${manifest} >/dev/null 2>&1 && ${follow}`], FIRST_LINE);
}

function cancel(name) {
  return skiff(['--cluster', CLUSTER, 'cancel', name]).catch(() => {});
}
