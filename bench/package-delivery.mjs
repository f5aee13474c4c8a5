// How resolved packages reach the nodes, measured both ways on one cluster: the shared folder Skiff
// uses (the set is already on every node through the folder `skiff up` shares; nothing to move)
// against a layer on the job image (docker build FROM the job image + COPY of the same site folder,
// then `kind load docker-image` onto the job nodes, as `skiff images load` would). Rounds alternate.
import { mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { JOB_IMAGE } from '../runtime/dist/images/images.js';
import { median, round, run, seconds, skiff, writeResults } from './lib.mjs';

const CLUSTER = process.env.BENCH_CLUSTER ?? 'skiff-bench';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DATA = process.env.SKIFF_DATA_DIR ?? join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local/share'), 'skiff');

await skiff(['--cluster', CLUSTER, 'up', '--workers', '1']);
const project = mkdtempSync(join(tmpdir(), 'skiff-delivery-'));
writeFileSync(join(project, 'job.py'), 'import flask, tqdm, requests\nprint("imported", flask.__version__, flush=True)\n');
// Resolve once (untimed): both ways deliver this very set.
await skiff(['--cluster', CLUSTER, 'run', join(project, 'job.py'), '--name', 'delivery-warm', '--pip', 'flask', '--pip', 'tqdm', '--pip', 'requests']);
const sets = JSON.parse(await skiff(['packages', '-o', 'json']));
const set = sets.find((s) => s.requirements.join(' ') === 'flask requests tqdm');
const site = join(DATA, 'packages', set.hash);

const timings = { folder: [], layer: [] };
for (let i = 0; i < ROUNDS; i++) {
  timings.folder.push(
    await seconds(() => skiff(['--cluster', CLUSTER, 'run', join(project, 'job.py'), '--name', `delivery-${i}`, '--pip', 'flask', '--pip', 'tqdm', '--pip', 'requests'])),
  );
  const context = mkdtempSync(join(tmpdir(), 'skiff-layer-'));
  cpSync(site, join(context, 'packages'), { recursive: true });
  writeFileSync(join(context, 'Dockerfile'), `FROM ${JOB_IMAGE}\nCOPY packages/ /skiff/packages/\nENV PYTHONPATH=/skiff/packages\n`);
  const tag = `skiff.local/bench-layer:${i}`;
  timings.layer.push(
    await seconds(async () => {
      await run('docker', ['build', '-q', '-t', tag, context]);
      await run('kind', ['load', 'docker-image', tag, '--name', CLUSTER, '--nodes', `${CLUSTER}-worker`], {
        env: { ...process.env, PATH: `${join(homedir(), '.cache/skiff/bin/kind-v0.30.0')}:${process.env.PATH}` },
      });
    }),
  );
  rmSync(context, { recursive: true, force: true });
  await run('docker', ['rmi', tag]).catch(() => {});
  await skiff(['--cluster', CLUSTER, 'cancel', `delivery-${i}`]).catch(() => {});
}
rmSync(project, { recursive: true, force: true });
writeResults('package-delivery', {
  what: 'seconds to get a resolved set of packages (flask, tqdm, requests) to the node: a whole `skiff run` through the shared folder, against only building and loading an image layer with the same files',
  rounds: ROUNDS,
  sharedFolder: {
    command: 'skiff run job.py --pip flask --pip tqdm --pip requests (cached set)',
    seconds: timings.folder.map((s) => round(s)),
    median: round(median(timings.folder)),
  },
  imageLayer: {
    command: 'docker build FROM the job image + COPY packages/ && kind load docker-image',
    seconds: timings.layer.map((s) => round(s)),
    median: round(median(timings.layer)),
  },
  ratio: round(median(timings.layer) / median(timings.folder), 2),
});
