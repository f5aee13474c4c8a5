// A notebook session on a real kind cluster: 2 ranks that keep their Python state between cells, a
// DDP model built once and trained in a later cell, interrupt, a %pip install while it runs, an
// exception on one rank, restart, and a rank whose pod is deleted, each told in plain words.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { CLUSTER, REPO, skiff, skiffJson, spawnSkiff } from './skiff-cli.js';

const NOTEBOOK = join(REPO, 'test/cluster/fixtures/session/train.ipynb');
const SESSION = 'nb-e2e';
const cells = (JSON.parse(readFileSync(NOTEBOOK, 'utf8')) as { cells: { source: string }[] }).cells.map((c) => c.source);
const run = (code: string) => skiff(['session', 'run', SESSION, '--code', code]);

interface SessionInfo {
  name: string;
  workers: number;
  workDir?: string;
  phase: string;
}

describe('notebook sessions keep their state', () => {
  beforeAll(async () => {
    const up = await skiff(['up', '--workers', '2'], 25 * 60_000);
    if (up.code !== 0) throw new Error(`skiff up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
  });
  afterAll(async () => {
    await skiff(['session', 'stop', SESSION]);
    if (!process.env.SKIFF_E2E_KEEP) await skiff(['down']);
  });

  it('runs a 4-cell DDP notebook top to bottom on 2 ranks: cells share variables, the model trains, its file comes back', async () => {
    const start = await skiff(['session', 'start', NOTEBOOK, '--name', SESSION, '--workers', '2']);
    expect(start.code, start.stderr).toBe(0);
    expect(start.stderr).toMatch(/session nb-e2e ready: 2 ranks, cells run in \/\S+nb-e2e\//);

    const joined = await run(cells[0]);
    expect(joined.code, joined.stderr).toBe(0);
    expect(joined.stdout).toContain('rank 0 of 2 joined\n');
    expect(joined.stdout).toContain('[rank 1] rank 1 of 2 joined\n');
    expect(joined.stderr).toContain('cell 1 ok on 2 ranks');

    const data = await run(cells[1]);
    expect(data.code, data.stderr).toBe(0);
    expect(data.stdout).toContain('rank 0 has 128 rows');
    expect(data.stdout).toMatch(/^128$/m); // the last expression's value, from rank 0

    const model = await run(cells[2]);
    expect(model.code, model.stderr).toBe(0);
    expect(model.stdout).toMatch(/^5$/m);

    const train = await run(cells[3]);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stdout).toMatch(/^metrics step=29 loss=[0-9.e-]+$/m); // skiff.log lines, as a terminal shows them
    const losses = [...train.stdout.matchAll(/^metrics step=\d+ loss=([0-9.e-]+)$/gm)].map((m) => Number(m[1]));
    expect(losses.at(-1)!).toBeLessThan(losses[0]);
    // DDP kept both ranks' weights equal: their final losses differ only by their own data.
    expect(train.stdout).toMatch(/\[rank 1\] rank 1 final loss/);

    // A variable of cell 1, read in a later cell; the process group is still up.
    const later = await run('world, dist.is_initialized()');
    expect(later.stdout).toContain('(2, True)');
    const info = await skiffJson<SessionInfo>(['session', 'status', SESSION]);
    expect(info).toMatchObject({ name: SESSION, workers: 2, phase: 'Running' });
    expect(existsSync(join(info.workDir!, 'model.pt'))).toBe(true);
    expect(existsSync(join(info.workDir!, 'shards.py'))).toBe(true);
  });

  it("shows a notebook's matplotlib figures in its cells, as Jupyter does, with the image's torch and numpy still working together", async () => {
    // Written for Jupyter: `%pip install matplotlib`, a figure as a cell's last line, plt.show().
    const notebook = join(REPO, 'test/cluster/fixtures/session/plot.ipynb');
    const start = await skiff(['session', 'start', notebook, '--name', 'nb-plot', '--workers', '1'], 10 * 60_000);
    expect(start.code, start.stderr).toBe(0);
    // matplotlib wants a newer numpy than the image's, whose torch is built against it: it stays.
    expect(start.stderr).toMatch(/packages (resolved|from the cache): .*matplotlib/);
    expect(start.stderr).not.toContain("replaces the image's numpy");
    try {
      const ran = await skiff(['session', 'run', 'nb-plot', notebook, '-o', 'json'], 5 * 60_000);
      expect(ran.code, ran.stderr).toBe(0);
      const events = ran.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { type: string; count?: number; text?: string; data?: Record<string, string> });
      const figures = events.filter((e) => e.type === 'display' && e.data?.['image/png']);
      expect(figures).toHaveLength(2);
      for (const f of figures) {
        expect(Buffer.from(f.data!['image/png'], 'base64').subarray(0, 8)).toEqual(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'));
        expect(f.data!['text/plain']).toMatch(/^<Figure size \d+x\d+ with 1 Axes>$/);
      }
      // The figure of cell 3 (its last line) comes at the cell's end; plt.show() in cell 4 shows it there.
      const at = (pred: (e: (typeof events)[number]) => boolean) => events.findIndex(pred);
      expect(at((e) => e === figures[1])).toBeLessThan(at((e) => e.type === 'stream' && e.text === 'after show\n'));
      // Shown figures are closed, as Jupyter's inline backend closes them.
      expect(events.filter((e) => e.type === 'result').at(-1)?.data?.['text/plain']).toBe('0');
    } finally {
      await skiff(['session', 'stop', 'nb-plot']);
    }
  });

  it('interrupts a cell in an endless loop on every rank, and the next cell runs with the state intact', async () => {
    const looping = spawnSkiff(['session', 'run', SESSION, '--code', 'import time\nprint("looping", flush=True)\nwhile True:\n    time.sleep(0.1)']);
    let out = '';
    let err = '';
    looping.stdout.on('data', (c) => (out += c));
    looping.stderr.on('data', (c) => (err += c));
    const exited = new Promise<number>((resolve) => looping.on('close', (code) => resolve(code ?? -1)));
    await expect.poll(() => out, { timeout: 60_000 }).toContain('[rank 1] looping');
    const interrupt = await skiff(['session', 'interrupt', SESSION]);
    expect(interrupt.code, interrupt.stderr).toBe(0);
    expect(interrupt.stderr).toContain('interrupted ranks 0, 1');
    expect(await exited).toBe(130);
    expect(err).toContain('KeyboardInterrupt');
    expect(err).toContain('interrupted');
    expect((await run('rank + world')).stdout).toMatch(/^2$/m);
  });

  it('installs a package a later cell asks for with %pip while the session runs: no restart, the variables stay', async () => {
    // tabulate is not in the image, and the session started without it.
    const before = await run('import importlib.util\nimportlib.util.find_spec("tabulate") is None');
    expect(before.stdout).toMatch(/^True$/m);
    const added = await run('%pip install tabulate\nfrom tabulate import tabulate\nprint(tabulate([[rank, world]], headers=["rank", "world"]))');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toContain('skiff: installing tabulate into the running session');
    expect(added.stderr).toMatch(/packages (resolved|from the cache): tabulate \d/);
    expect(added.stdout).toMatch(/^\s*0\s+2\s*$/m); // rank 0's table row: the variables of cell 1 are still there
    expect(added.stdout).toMatch(/^\[rank 1\]\s+1\s+2\s*$/m);
    // The next cell has it without asking again, and a subprocess of a cell sees it too.
    const again = await run(
      '%pip install tabulate\nimport subprocess, sys\nprint(subprocess.run([sys.executable, "-c", "import tabulate; print(tabulate.__name__)"], capture_output=True, text=True).stdout.strip())',
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('installing');
    expect(again.stdout).toMatch(/^tabulate$/m);
  });

  it("an exception on one rank shows that rank's traceback and fails the cell; the session lives on", async () => {
    const failed = await run('if rank == 1:\n    raise ValueError("bad shard on rank 1")\n"rank 0 fine"');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('[rank 1] Traceback (most recent call last):');
    expect(failed.stderr).toContain('[rank 1] ValueError: bad shard on rank 1');
    expect(failed.stderr).toMatch(/cell \d+ failed on rank 1 of 2/);
    expect(failed.stdout).toContain("'rank 0 fine'");
    expect((await run('"still here"')).code).toBe(0);
  });

  it('restart gives fresh ranks with fresh state', async () => {
    const restart = await skiff(['session', 'start', NOTEBOOK, '--name', SESSION, '--workers', '2']);
    expect(restart.code, restart.stderr).toBe(0);
    const gone = await run('world');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("NameError: name 'world' is not defined");
  });

  it('a deleted rank pod is reported in plain words, and a cell is refused until a restart', async () => {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    kc.setCurrentContext(`kind-${CLUSTER}`);
    const core = kc.makeApiClient(CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: 'skiff', labelSelector: `skiff.dev/job=${SESSION}` });
    const rank1 = pods.items.find((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'] === '1')!;
    await core.deleteNamespacedPod({ name: rank1.metadata!.name!, namespace: 'skiff' });
    const lost = await run('1 + 1');
    expect(lost.code).toBe(1);
    expect(lost.stderr).toMatch(/the notebook session 'nb-e2e' lost .*rank 1 \(its pod (\S+ is being deleted|\S+ is Failed|was deleted)/);
    expect(lost.stderr).toMatch(/hint: (restart the session|run the cell again)/);
  });

  it('refuses bad input plainly: a missing session, no code, a notebook that is not one', async () => {
    const missing = await skiff(['session', 'run', 'nb-nope', '--code', '1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no notebook session 'nb-nope'");
    const noCode = await skiff(['session', 'run', SESSION]);
    expect(noCode.code).toBe(2);
    const dir = mkdtempSync(join(tmpdir(), 'skiff-nb-'));
    writeFileSync(join(dir, 'broken.ipynb'), 'not json');
    const notNotebook = await skiff(['session', 'start', join(dir, 'broken.ipynb')]);
    rmSync(dir, { recursive: true, force: true });
    expect(notNotebook.code).toBe(2);
    expect(notNotebook.stderr).toContain('broken.ipynb is not a notebook');
  });
});
