// Cluster creation: `skiff up` against the same steps done by hand with raw kind and kubectl (same
// node image, same kind config, the pod network Skiff's offline image needs, Ready nodes, the job
// image loaded), then `skiff up` on the running cluster. Goals: ratio <= 1.1, warm < 1 s.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHE, KUBECTL, median, round, run, seconds, skiff, writeResults } from './lib.mjs';
import { kindClusterConfigYaml } from '../runtime/dist/manifests/kind-config.js';
import { CNI_CONFLIST_PATH, nodeAddresses, podNetworkPlan } from '../runtime/dist/manifests/pod-network.js';
import { OFFLINE_NODE_IMAGE } from '../runtime/dist/exec/tools.js';
import { JOB_IMAGE } from '../runtime/dist/images/images.js';

const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const KIND = process.env.KIND ?? join(CACHE, 'bin/kind-v0.30.0/kind');
const RAW = 'bench-raw';
const SKIFF = 'bench-skiff';

const timings = { skiff: [], raw: [] };
for (let i = 0; i < ROUNDS; i++) {
  for (const path of i % 2 === 0 ? ['raw', 'skiff'] : ['skiff', 'raw']) {
    await deleteBoth();
    timings[path].push(path === 'raw' ? await rawUp() : await seconds(() => skiff(['--cluster', SKIFF, 'up', '--workers', String(WORKERS)])));
  }
}
// The last round may have deleted Skiff's cluster to make room for the baseline's.
await skiff(['--cluster', SKIFF, 'up', '--workers', String(WORKERS)]);
const warm = [];
for (let i = 0; i < 5; i++) warm.push(await seconds(() => skiff(['--cluster', SKIFF, 'up', '--workers', String(WORKERS)])));
await deleteBoth();

writeResults('up', {
  what: `seconds to a Ready cluster of 1 control plane + ${WORKERS} worker(s) with the job image loaded, node image ${OFFLINE_NODE_IMAGE}`,
  note: 'skiff saves the job image once per version as an archive in its cache (before kind starts) and loads it onto the nodes that run jobs (the workers) once they are Ready; the baseline loads it with `kind load docker-image` onto every node once they are Ready',
  rounds: ROUNDS,
  skiff: { command: 'skiff up', seconds: timings.skiff.map((s) => round(s, 1)), median: round(median(timings.skiff), 1) },
  baseline: {
    command: 'kind create cluster --config <same> --image <same>; pod network by docker exec; kubectl wait nodes Ready; kind load docker-image',
    seconds: timings.raw.map((s) => round(s, 1)),
    median: round(median(timings.raw), 1),
  },
  ratio: round(median(timings.skiff) / median(timings.raw), 2),
  goal: '<= 1.1',
  warm: { command: 'skiff up (cluster already running)', seconds: warm.map((s) => round(s)), median: round(median(warm)), goal: '< 1' },
});

async function rawUp() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-up-'));
  const config = join(dir, 'kind.yaml');
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(config, kindClusterConfigYaml({ name: RAW, profile: 'cpu', workers: WORKERS, gpusPerNode: 0 }));
  return seconds(async () => {
    await run(KIND, ['create', 'cluster', '--name', RAW, '--config', config, '--image', OFFLINE_NODE_IMAGE, '--wait', '0s', '--kubeconfig', kubeconfig]);
    const kubectl = (...args) => run(KUBECTL, ['--kubeconfig', kubeconfig, ...args]);
    let nodes;
    while (!(nodes = nodeAddresses(JSON.parse(await kubectl('get', 'nodes', '-o', 'json'))))) await new Promise((r) => setTimeout(r, 1000));
    for (const plan of podNetworkPlan(nodes)) {
      await run('docker', ['exec', '-i', plan.node, 'sh', '-c', `mkdir -p /etc/cni/net.d && cat > ${CNI_CONFLIST_PATH}`], { input: plan.conflist });
      for (const route of plan.routes) await run('docker', ['exec', plan.node, 'ip', 'route', 'replace', route.cidr, 'via', route.via]);
    }
    await kubectl('wait', '--for=condition=Ready', 'node', '--all', '--timeout=15m');
    await run(KIND, ['load', 'docker-image', JOB_IMAGE, '--name', RAW]);
  });
}

async function deleteBoth() {
  await run(KIND, ['delete', 'cluster', '--name', RAW]).catch(() => {});
  await skiff(['--cluster', SKIFF, 'down']).catch(() => {});
}
