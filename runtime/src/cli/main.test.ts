import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { ClusterInfo } from '../types.js';
import type { Clusters } from '../cluster/cluster.js';
import { SkiffError } from '../errors.js';
import { RUNTIME_VERSION } from '../version.js';
import { main } from './main.js';

function capture() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  return { stdout, stderr, out: () => out, err: () => err };
}

/** A Clusters stand-in; any method not given fails the test if called. */
function fakeClusters(methods: Partial<Record<keyof Clusters, (...args: never[]) => unknown>> = {}): Clusters {
  return new Proxy(methods, {
    get: (target, key) => target[key as keyof Clusters] ?? (() => Promise.reject(new Error(`unexpected call: ${String(key)}`))),
  }) as unknown as Clusters;
}

const cluster: ClusterInfo = { name: 'skiff', context: 'kind-skiff', profile: 'cpu', nodes: [{ name: 'skiff-control-plane', role: 'control-plane', ready: true, gpus: 0 }] };

describe('skiff CLI', () => {
  it('prints help for the program and for commands', async () => {
    const io = capture();
    expect(await main(['--help'], io)).toBe(0);
    for (const cmd of ['up', 'run', 'serve', 'call', 'jobs', 'logs', 'metrics', 'describe', 'cancel', 'images', 'api']) expect(io.out()).toContain(cmd);
    const run = capture();
    expect(await main(['run', '--help'], run)).toBe(0);
    expect(run.out()).toContain('--gpus-per-worker');
    expect(run.out()).not.toContain('--gpus <g>');
    const version = capture();
    expect(await main(['--version'], version)).toBe(0);
    expect(version.out()).toBe(`${RUNTIME_VERSION}\n`);
  });

  it('prints a job as YAML with --dry-run, with the run folder it would make, and touches no cluster', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-dry-'));
    writeFileSync(join(dir, 'train.py'), 'print("hi")\n');
    const shared = { data: join(dir, 'data') };
    const clusters = fakeClusters({ sharedFolders: async () => shared });
    const io = capture();
    expect(await main(['run', 'train.py', '--workers', '2', '--name', 'dry', '--dry-run'], { ...io, cwd: dir, clusters })).toBe(0);
    const docs = parseAllDocuments(io.out()).map(
      (d) =>
        d.toJS() as {
          kind: string;
          metadata: { name: string; annotations?: Record<string, string> };
          spec?: { completions?: number; template?: { spec?: { volumes?: { hostPath?: { path: string } }[] } } };
        },
    );
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['ConfigMap/dry-lib', 'Service/dry', 'Job/dry']);
    expect(docs[2].spec?.completions).toBe(2);
    expect(docs[2].metadata.annotations?.['skiff.dev/work-dir']).toMatch(new RegExp(`^${join(dir, 'data', 'runs', 'skiff', 'skiff', 'dry')}/\\d{8}-`));
    expect(docs[2].spec?.template?.spec?.volumes?.[0].hostPath?.path).toMatch(/^\/skiff\/host\/runs\/skiff\/skiff\/dry\//);
    expect(existsSync(join(dir, 'data', 'runs'))).toBe(false);
    // On another context the code goes in a ConfigMap.
    const remote = capture();
    expect(await main(['--context', 'elsewhere', 'run', 'train.py', '--name', 'dry', '--dry-run'], { ...remote, cwd: dir, clusters })).toBe(0);
    expect(parseAllDocuments(remote.out()).map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name)).toEqual(['dry-code', 'dry-lib', 'dry', 'dry']);
    // Hidden files stay home unless asked for, and the submit says so either way.
    writeFileSync(join(dir, '.env'), 'TOKEN=secret\n');
    const codeKeys = (out: string) => Object.keys((parseAllDocuments(out)[0].toJS() as { data?: Record<string, string> }).data ?? {});
    const withoutHidden = capture();
    expect(await main(['--context', 'elsewhere', 'run', 'train.py', '--name', 'dry', '--dry-run'], { ...withoutHidden, cwd: dir, clusters })).toBe(0);
    expect(codeKeys(withoutHidden.out()).join(' ')).not.toContain('env');
    expect(withoutHidden.err()).toContain('left out: .env (hidden: --include-hidden sends them)');
    const withHidden = capture();
    expect(await main(['--context', 'elsewhere', 'run', 'train.py', '--name', 'dry', '--include-hidden', '--dry-run'], { ...withHidden, cwd: dir, clusters })).toBe(0);
    expect(codeKeys(withHidden.out()).join(' ')).toContain('env');
    expect(withHidden.err()).not.toContain('left out');
    // The same refusal as submit there: packages need the local cluster, never dropped from the plan.
    const withPackages = capture();
    expect(await main(['--context', 'elsewhere', 'run', 'train.py', '--name', 'dry', '--pip', 'flask', '--dry-run'], { ...withPackages, cwd: dir, clusters })).toBe(2);
    expect(withPackages.err()).toContain('--pip packages need a local cluster');
    const missing = capture();
    expect(await main(['serve', 'nope.py', '--dry-run'], { ...missing, cwd: dir, clusters })).toBe(2);
    expect(missing.err()).toContain('script not found');
  });

  it('asks before writing to a context other than the local cluster, and writes nothing without a yes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-remote-'));
    writeFileSync(join(dir, 'train.py'), 'print("hi")\n');
    const clusters = fakeClusters();
    const noTerminal = capture();
    expect(await main(['--context', 'shared-gpu', 'cancel', 'train'], { ...noTerminal, clusters })).toBe(2);
    expect(noTerminal.err()).toContain("not going to cancel job train on context 'shared-gpu' without a confirmation");
    const asked: string[] = [];
    const declined = capture();
    const ask = async (q: string) => (asked.push(q), 'n');
    expect(await main(['--context', 'shared-gpu', 'run', 'train.py', '--name', 'train'], { ...declined, cwd: dir, clusters, ask })).toBe(2);
    expect(asked).toEqual(["submit training job train (replacing one of that name) on context 'shared-gpu'? [y/N] "]);
    expect(declined.err()).toContain('not confirmed');
    // With --yes it goes on to the context (which does not exist here): past the question, nothing asked.
    const yes = capture();
    expect(await main(['--context', 'shared-gpu', 'cancel', 'train', '--yes'], { ...yes, clusters, ask })).not.toBe(0);
    expect(yes.err()).not.toContain('confirmation');
    expect(asked).toHaveLength(1);
  });

  it('rejects bad flags through the spec parser before touching a cluster', async () => {
    const io = capture();
    expect(await main(['run', 'train.py', '--workers', '0'], { ...io, clusters: fakeClusters() })).toBe(2);
    expect(io.err()).toMatch(/^error: --workers must be .*between 1 and 64/);
  });

  it('turns usage mistakes into BAD_INPUT with a hint', async () => {
    const io = capture();
    expect(await main(['frobnicate'], io)).toBe(2);
    expect(io.err()).toMatch(/^error: unknown command 'frobnicate'/);
    expect(io.err()).toContain('hint: see `skiff --help`');
    const missing = capture();
    expect(await main(['run'], missing)).toBe(2);
    expect(missing.err()).toContain("missing required argument 'script'");
    const choice = capture();
    expect(await main(['up', '--profile', 'tpu'], choice)).toBe(2);
  });

  it('prints cluster status as text or JSON', async () => {
    const calls: string[] = [];
    const clusters = fakeClusters({ status: (async (name: string) => (calls.push(name), cluster)) as never });
    const io = capture();
    expect(await main(['status', '-o', 'json', '--cluster', 'other'], { ...io, clusters })).toBe(0);
    expect(JSON.parse(io.out())).toEqual(cluster);
    expect(calls).toEqual(['other']);
    const text = capture();
    expect(await main(['status', '--name', 'skiff'], { ...text, clusters })).toBe(0);
    expect(text.out()).toContain("cluster 'skiff'");
  });

  it('prints errors with their hint and exits with the error’s code', async () => {
    const clusters = fakeClusters({ kubeConfig: (async () => Promise.reject(new SkiffError('NO_CLUSTER', "no cluster named 'skiff'", { hint: 'run `skiff up`' }))) as never });
    const io = capture();
    expect(await main(['jobs'], { ...io, clusters })).toBe(3);
    expect(io.err()).toBe("error: no cluster named 'skiff'\nhint: run `skiff up`\n");
  });

  it('`skiff api` takes its token from a file, never from argv, prints {url, token} and serves until stopped', async () => {
    const refused = capture();
    expect(await main(['api', '--token', 'tok'], { ...refused, clusters: fakeClusters() })).toBe(2);
    expect(refused.err()).toContain('--token would show the token to every user of this machine');
    const dir = mkdtempSync(join(tmpdir(), 'skiff-token-'));
    writeFileSync(join(dir, 'token'), 'tok\n', { mode: 0o600 });
    const io = capture();
    const stop = new AbortController();
    const running = main(['api', '--token-file', join(dir, 'token')], { ...io, clusters: fakeClusters(), signal: stop.signal });
    while (!io.out().includes('\n')) await new Promise((r) => setTimeout(r, 10));
    const { url, token } = JSON.parse(io.out());
    expect(token).toBe('tok');
    const res = await fetch(`${url}/api/health`, { headers: { Authorization: 'Bearer tok' } });
    expect(await res.json()).toMatchObject({ ok: true, cluster: 'skiff' });
    stop.abort();
    expect(await running).toBe(0);
  });

  it('`skiff api --stop-with-stdin` stops when its parent closes the pipe', async () => {
    const io = capture();
    const stdin = new PassThrough();
    const running = main(['api', '--stop-with-stdin'], { ...io, clusters: fakeClusters(), stdin });
    while (!io.out().includes('\n')) await new Promise((r) => setTimeout(r, 10));
    stdin.end();
    expect(await running).toBe(0);
  });
});
