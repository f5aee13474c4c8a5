// The `skiff` command. Handlers parse flags, call the library and print; nothing else lives here.
import { Argument, Command, CommanderError, Option } from 'commander';
import { SkiffError, describeError, exitCodeFor, EXIT_JOB_FAILED, EXIT_OK } from '../errors.js';
import { Clusters, DEFAULT_CLUSTER } from '../cluster/cluster.js';
import { cacheDir } from '../exec/tools.js';
import { resolve as pathResolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dataDir } from '../workspace/layout.js';
import { clearPackages, listPackageSets, packagesRoot } from '../packages/install.js';
import { buildImages, clearCache, type ImageSet } from '../images/images.js';
import { DEFAULT_NAMESPACE, DEFAULT_SESSION_IDLE_MINUTES } from '../spec/job-spec.js';
import { printCell } from './notebook-session.js';
import { notebookFileSession } from '../sessions/notebook-file.js';
import { notebookCellSources } from '../sessions/notebook.js';
import { SkiffSession } from '../session.js';
import { startApiServer } from '../api/server.js';
import { RUNTIME_VERSION } from '../version.js';
import { clusterText, describeText, jobsTable, logLineText, manifestsYaml, metricsSampleText, upText } from './format.js';
import { EXIT_INTERRUPTED, runAndFollow, serveAndWait, streamOutput } from './follow.js';
import { promote, terminalAsk, type PromoteFlags } from './promote.js';
import { parseHeaders, servingSpecFromFlags, trainingSpecFromFlags, upRequestFromFlags, type RunFlags, type ServeFlags, type UpFlags } from './specs.js';
import { ADDONS, CLUSTER_PROFILES } from '../types.js';
import { MLFLOW_UI_PORT } from '../addons/mlflow.js';
import { sessionGpus, sessionSizeText } from '../front/cells.js';

export interface CliDeps {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  clusters?: Clusters;
  cwd?: string;
  /** Stops following commands and `skiff api`; when absent, SIGINT/SIGTERM do (only while they run). */
  signal?: AbortSignal;
  /** Answers confirmation prompts (`skiff promote`); a terminal prompt when absent and stdin is a TTY. */
  ask?: (question: string) => Promise<string>;
  /** What `skiff api --stop-with-stdin` watches (default: process.stdin). */
  stdin?: NodeJS.ReadableStream;
}

interface GlobalFlags {
  cluster: string;
  namespace: string;
  context?: string;
}

type OutputFlag = { output: 'text' | 'json' };
type SessionStartFlags = { name?: string; workers: string; gpus: string; gpuShare?: string; cpu?: string; memory?: string; pip?: string[]; idleMinutes: string };
type SubmitFlags = { detach?: boolean; dryRun?: boolean; from?: string; yes?: boolean; includeHidden?: boolean };

const IMAGE_SETS: ImageSet[] = ['all', 'binaries', 'node', 'job', 'kueue', 'prometheus'];

/** Runs the CLI on user arguments (no node/script prefix) and resolves with the exit code. */
export async function main(argv: string[], deps: CliDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  const io = streamOutput(stdout, stderr);
  let exitCode = EXIT_OK;
  let clusters: Clusters | undefined;
  const getClusters = () => (clusters ??= deps.clusters ?? new Clusters());
  const cwd = deps.cwd ?? process.cwd();

  const program = new Command('skiff')
    .description('From a notebook or a script to a distributed PyTorch job on a local kind cluster, without YAML or image builds.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: () => {} })
    .version(RUNTIME_VERSION, '-V, --version')
    .option('--cluster <name>', 'kind cluster to use', DEFAULT_CLUSTER)
    .option('-n, --namespace <namespace>', 'namespace of the jobs', DEFAULT_NAMESPACE)
    .option('--context <context>', 'a kubeconfig context to use instead of the kind cluster (e.g. where a job was promoted)')
    .showSuggestionAfterError();

  const globals = (cmd: Command) => cmd.optsWithGlobals() as GlobalFlags;
  const session = (cmd: Command) => {
    const g = globals(cmd);
    return new SkiffSession({ clusters: getClusters(), clusterName: g.cluster, namespace: g.namespace, context: g.context });
  };
  const outputOption = () => new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text');
  const json = (value: unknown) => io.out(JSON.stringify(value, null, 2) + '\n');
  /**
   * Writes to a context other than the local cluster (`--context`) need a yes: --yes, or "y" at a
   * prompt. A shell history line should not be able to replace or delete jobs on a shared cluster.
   */
  const confirmRemoteWrite = async (cmd: Command, what: string, yes: boolean | undefined) => {
    const context = globals(cmd).context;
    if (!context || yes) return;
    const ask = deps.ask ?? terminalAsk();
    if (!ask) {
      throw new SkiffError('BAD_INPUT', `not going to ${what} on context '${context}' without a confirmation`, { hint: 'run again with --yes (or from a terminal to be asked)' });
    }
    const answer = (await ask(`${what} on context '${context}'? [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new SkiffError('BAD_INPUT', `did not ${what} on context '${context}': not confirmed`);
  };
  /** Wraps an action: its number becomes the exit code. */
  const act =
    <A extends unknown[]>(fn: (...args: A) => Promise<number | void>) =>
    async (...args: A) => {
      exitCode = (await fn(...args)) ?? EXIT_OK;
    };

  // ---- clusters ----
  program
    .command('up')
    .description('create (or reuse) the local kind cluster')
    .addOption(new Option('--profile <profile>', 'cpu, gpu (NVIDIA passthrough) or fake-gpu (GPUs from a fake device plugin)').choices(CLUSTER_PROFILES))
    .option('--workers <n>', 'worker nodes besides the control plane')
    .option('--gpus-per-node <g>', 'GPUs per worker node (gpu and fake-gpu profiles)')
    .option('--gpu-sharing <n>', 'share each GPU n ways by time-slicing, so n jobs or ranks fit on it (default 1: not shared)')
    .option(
      '--dra',
      "fake-gpu: hand out the GPUs as DRA devices (Kubernetes' DRA test driver) that jobs claim, instead of a device plugin's; changes a running fake-gpu cluster in place",
    )
    .option('--no-dra', "fake-gpu: hand out the GPUs through Skiff's device plugin again")
    .option('--name <name>', 'cluster name (default: --cluster)')
    .option('--image <node-image>', 'kind node image')
    .option('--recreate', 'delete the cluster and make it anew when it exists but is unhealthy')
    .option('--with <addons>', `add-ons to install, comma-separated (${ADDONS.join(', ')}); also adds them to a running cluster`)
    .addOption(outputOption())
    .action(
      act(async (flags: UpFlags & OutputFlag, cmd: Command) => {
        const request = upRequestFromFlags(flags, globals(cmd).cluster);
        const result = await getClusters().up(request, (msg) => io.err(`${msg}\n`));
        if (flags.output === 'json') json(result);
        else io.out(upText(result));
      }),
    );

  program
    .command('down')
    .description('delete the cluster')
    .option('--name <name>', 'cluster name (default: --cluster)')
    .action(
      act(async (flags: { name?: string }, cmd: Command) => {
        const name = flags.name ?? globals(cmd).cluster;
        const existed = await getClusters().down(name);
        io.err(existed ? `deleted cluster '${name}'\n` : `there was no cluster named '${name}'\n`);
      }),
    );

  program
    .command('status')
    .description('show the cluster and its nodes')
    .option('--name <name>', 'cluster name (default: --cluster)')
    .addOption(outputOption())
    .action(
      act(async (flags: { name?: string } & OutputFlag, cmd: Command) => {
        const info = await getClusters().status(flags.name ?? globals(cmd).cluster);
        if (flags.output === 'json') json(info);
        else io.out(clusterText(info));
      }),
    );

  // ---- jobs ----
  const resourceOptions = (cmd: Command) =>
    cmd
      .option('--gpus-per-worker <g>', 'GPUs per worker/replica')
      .addOption(new Option('--gpus <g>').hideHelp())
      .option('--gpu-share <fraction>', 'a share of one GPU per worker/replica, e.g. 0.5: a time-slice of a GPU the cluster shares (`skiff up --gpu-sharing 2`)')
      .option('--cpu <cpu>', 'CPU per worker/replica, e.g. 2 or 500m')
      .option('--memory <mem>', 'memory per worker/replica, e.g. 4Gi')
      .option('--image <image>', 'container image (default: Skiff’s Python + torch image)')
      .option('--env <K=V>', 'environment variable (repeatable)', collect)
      .option('--name <job>', 'job name (default: from the script name)')
      .option('--code-dir <dir>', 'folder shipped with the job (default: the script’s folder)')
      .option(
        '--pip <requirement>',
        'Python package to install for the job, e.g. flask==3.1 (repeatable; requirements.txt beside the script and PEP 723 metadata are read too)',
        collect,
      )
      .option('--data <dir[:path]>', 'host folder mounted read-only into every worker, at path (default: its name in the working directory) (repeatable)', collect)
      .option('--include-hidden', 'send the code folder’s hidden files and folders too (.env, .config/…: left out by default, as credentials live there)')
      .option('--from <job>', 'start in the newest run folder of an earlier job (its checkpoints), with the code copied over it')
      .option('-d, --detach', 'submit and return')
      .option('-y, --yes', 'with --context: submit without asking')
      .option('--dry-run', 'print the Kubernetes objects the job would be, as YAML, and submit nothing')
      .addOption(
        new Option('-o, --output <format>', 'text, or json: one event per line on stdout (submitted, status, log, metrics, notice, end); the human lines stay on stderr')
          .choices(['text', 'json'])
          .default('text'),
      );

  resourceOptions(
    program
      .command('run')
      .description('run a script as a distributed (DDP) training job and follow its logs')
      .argument('<script>', 'Python script')
      .argument('[args...]', 'script arguments (after --)')
      .option('--workers <n>', 'number of workers (one process each)')
      .option('--retries <n>', 'times failed workers are retried before the job fails (default 0)')
      .option('--master-port <port>', 'rendezvous port'),
  ).action(
    act(async (script: string, args: string[], flags: RunFlags & SubmitFlags & OutputFlag, cmd: Command) => {
      const { spec, codeRoot } = trainingSpecFromFlags(script, args, flags, { namespace: globals(cmd).namespace, cwd });
      if (flags.dryRun)
        return io.out(manifestsYaml(await session(cmd).render(spec, { codeRoot, includeHidden: flags.includeHidden }, { from: flags.from, onProgress: (l) => io.err(l + '\n') })));
      await confirmRemoteWrite(cmd, `submit training job ${spec.name} (replacing one of that name)`, flags.yes);
      return withInterrupt(deps, (signal) =>
        runAndFollow(session(cmd), spec, { codeRoot, includeHidden: flags.includeHidden }, io, { detach: flags.detach, signal, from: flags.from, json: flags.output === 'json' }),
      );
    }),
  );

  resourceOptions(
    program
      .command('serve')
      .description('serve a script (it must listen on $PORT) and wait until it is ready')
      .argument('<script>', 'Python script')
      .argument('[args...]', 'script arguments (after --)')
      .option('--port <port>', 'port the script listens on', '8000')
      .option('--replicas <r>', 'number of replicas'),
  ).action(
    act(async (script: string, args: string[], flags: ServeFlags & SubmitFlags & OutputFlag, cmd: Command) => {
      const { spec, codeRoot } = servingSpecFromFlags(script, args, flags, { namespace: globals(cmd).namespace, cwd });
      if (flags.dryRun)
        return io.out(manifestsYaml(await session(cmd).render(spec, { codeRoot, includeHidden: flags.includeHidden }, { from: flags.from, onProgress: (l) => io.err(l + '\n') })));
      await confirmRemoteWrite(cmd, `submit serving job ${spec.name} (replacing one of that name)`, flags.yes);
      return withInterrupt(deps, (signal) =>
        serveAndWait(session(cmd), spec, { codeRoot, includeHidden: flags.includeHidden }, io, { detach: flags.detach, signal, from: flags.from, json: flags.output === 'json' }),
      );
    }),
  );

  program
    .command('call')
    .description('send an HTTP request to a serving job and print the answer')
    .argument('<job>', 'serving job')
    .argument('[path]', 'path and query', '/')
    .option('--data <body>', 'request body (POST unless --method says otherwise)')
    .option('--method <method>', 'HTTP method')
    .option('-H, --header <header>', "'Name: value' (repeatable)", collect)
    .action(
      act(async (job: string, path: string, flags: { data?: string; method?: string; header?: string[] }, cmd: Command) => {
        const result = await session(cmd).call(job, { path, data: flags.data, method: flags.method, headers: parseHeaders(flags.header ?? []) });
        io.out(result.body.endsWith('\n') || result.body === '' ? result.body : result.body + '\n');
        if (result.status >= 200 && result.status < 300) return EXIT_OK;
        io.err(`HTTP ${result.status}\n`);
        return EXIT_JOB_FAILED;
      }),
    );

  program
    .command('ui')
    .description("an add-on's web UI on 127.0.0.1 until Ctrl-C")
    .addArgument(new Argument('<addon>', 'the add-on').choices(['mlflow']))
    .option('-p, --port <port>', 'local port', String(MLFLOW_UI_PORT))
    .action(
      act(async (_addon: string, flags: { port: string }, cmd: Command) => {
        const stop = new AbortController();
        const forward = await session(cmd).mlflowUi({ port: portFlag(flags.port), signal: stop.signal, onError: (err) => io.err(`ui: ${err.message}\n`) });
        io.out(`${forward.url}\n`);
        io.err(`MLflow's UI is at ${forward.url}; Ctrl-C stops\n`);
        await untilStopped();
        stop.abort();
        await forward.close();
        return EXIT_OK;
      }),
    );

  program
    .command('forward')
    .description('serve a serving job on a local port (127.0.0.1) until Ctrl-C, for curl, a browser or any client')
    .argument('<job>', 'serving job')
    .option('-p, --port <port>', 'local port (default: a free one)')
    .action(
      act(async (job: string, flags: { port?: string }, cmd: Command) => {
        const port = flags.port === undefined ? undefined : portFlag(flags.port);
        const stop = new AbortController();
        const forward = await session(cmd).forward(job, { port, signal: stop.signal, onError: (err) => io.err(`forward: ${err.message}\n`) });
        io.out(`${forward.url}\n`);
        io.err(`forwarding ${forward.url} to ${job} (port ${forward.targetPort}); Ctrl-C stops\n`);
        await untilStopped();
        stop.abort();
        await forward.close();
        return EXIT_OK;
      }),
    );

  program
    .command('jobs')
    .description('list jobs')
    .option('-w, --watch', 'print the list again whenever a job changes (JSON: one list per line)')
    .addOption(outputOption())
    .action(
      act(async (flags: { watch?: boolean } & OutputFlag, cmd: Command) => {
        if (!flags.watch) {
          const jobs = await session(cmd).listJobs();
          return flags.output === 'json' ? json(jobs) : io.out(jobsTable(jobs));
        }
        return withInterrupt(deps, async (signal) => {
          for await (const jobs of session(cmd).watchJobs({ signal })) {
            io.out(flags.output === 'json' ? JSON.stringify(jobs) + '\n' : `\n${jobsTable(jobs)}`);
          }
          return EXIT_INTERRUPTED;
        });
      }),
    );

  program
    .command('logs')
    .description('print the logs of every worker, tagged with its rank')
    .argument('<job>')
    .option('-f, --follow', 'keep streaming until the job ends')
    .option('--since <time>', 'only lines after this RFC 3339 time')
    .addOption(outputOption())
    .action(
      act(async (job: string, flags: { follow?: boolean; since?: string } & OutputFlag, cmd: Command) =>
        withInterrupt(deps, async (signal) => {
          const onNotice = (message: string) => io.err(`skiff: ${message}\n`);
          for await (const line of session(cmd).logs(job, { follow: !!flags.follow, sinceTime: flags.since, signal, onNotice })) {
            await io.out(flags.output === 'json' ? JSON.stringify(line) + '\n' : logLineText(line) + '\n');
          }
          return signal.aborted ? EXIT_INTERRUPTED : EXIT_OK;
        }),
      ),
    );

  program
    .command('metrics')
    .description('CPU, memory and GPU use per worker, plus the metrics the script logs with skiff.log()')
    .argument('<job>')
    .option('-f, --follow', 'keep sampling until the job ends')
    .option('--interval <seconds>', 'seconds between samples', '5')
    .addOption(outputOption())
    .action(
      act(async (job: string, flags: { follow?: boolean; interval: string } & OutputFlag, cmd: Command) =>
        withInterrupt(deps, async (signal) => {
          const intervalMs = Math.max(1, Number(flags.interval) || 5) * 1000;
          for await (const sample of session(cmd).metrics(job, { follow: !!flags.follow, intervalMs, signal })) {
            await io.out(flags.output === 'json' ? JSON.stringify(sample) + '\n' : metricsSampleText(sample));
          }
          return signal.aborted ? EXIT_INTERRUPTED : EXIT_OK;
        }),
      ),
    );

  program
    .command('describe')
    .description('status, pods, events and the reason a job is stuck or failed')
    .argument('<job>')
    .addOption(outputOption())
    .action(
      act(async (job: string, flags: OutputFlag, cmd: Command) => {
        const description = await session(cmd).describeJob(job);
        if (flags.output === 'json') json(description);
        else io.out(describeText(description));
      }),
    );

  program
    .command('outputs')
    .description("a job's working directory on this machine: what it wrote (kept after the job ends, until --remove)")
    .argument('[job]', 'job (default: list every job with outputs)')
    .option('--copy-to <dir>', 'copy the newest run folder there')
    .option('--remove', 'delete every run folder of the job (once the job itself is gone)')
    .option('--all', 'list every run of the job, not just the newest')
    .addOption(outputOption())
    .action(
      act(async (job: string | undefined, flags: { copyTo?: string; remove?: boolean; all?: boolean } & OutputFlag, cmd: Command) => {
        const s = session(cmd);
        if (!job) {
          const jobs = await s.listOutputs();
          if (flags.output === 'json') return json(jobs.map((j) => ({ job: j.job, runs: j.runs.map((r) => r.dir) })));
          if (jobs.length === 0) io.err('no job has outputs yet\n');
          for (const j of jobs) io.out(`${j.job}\t${j.runs.length} run${j.runs.length === 1 ? '' : 's'}\t${j.runs.at(-1)!.dir}\n`);
          return;
        }
        if (flags.remove) {
          const removed = await s.removeOutputs(job);
          io.err(`removed ${removed.length} run folder${removed.length === 1 ? '' : 's'} of ${job}\n`);
          return;
        }
        if (flags.copyTo) {
          const to = pathResolve(cwd, flags.copyTo);
          const run = await s.copyOutputs(job, to);
          io.err(`copied ${run.dir} to ${to}\n`);
          return;
        }
        const runs = flags.all ? await s.outputRuns(job) : [await s.outputs(job)];
        if (flags.output === 'json') return json(runs.map((r) => ({ dir: r.dir, ...r.record })));
        for (const r of runs) io.out(`${r.dir}\n`);
      }),
    );

  program
    .command('cancel')
    .description('stop a job and delete its objects on the cluster (its outputs stay: see `skiff outputs`)')
    .argument('<job>')
    .option('-y, --yes', 'with --context: cancel without asking')
    .action(
      act(async (job: string, flags: { yes?: boolean }, cmd: Command) => {
        await confirmRemoteWrite(cmd, `cancel job ${job}`, flags.yes);
        await session(cmd).cancelJob(job);
        io.err(`cancelled job ${job}\n`);
      }),
    );

  program
    .command('promote')
    .description("move a job to another cluster: a reviewed diff from the target's dry run, then image build, push and apply")
    .argument('<job>')
    .requiredOption('--to <context>', 'kubeconfig context of the target cluster')
    .option('--profile <name>', 'target profile (default: the context name) from skiff-targets.yaml or ~/.config/skiff/targets.yaml')
    .option('--targets <file>', 'a targets file to read the profile from')
    .option('--dry-run', 'show the plan and the diff, apply nothing')
    .option('-y, --yes', 'apply without asking')
    .addOption(outputOption())
    .action(act(async (job: string, flags: PromoteFlags, cmd: Command) => promote(session(cmd), job, flags, io, { cwd, ask: deps.ask ?? terminalAsk() })));

  // ---- notebook sessions ----
  const sessions = program.command('session').description("a notebook's live session: ranks that keep their Python state between cells");
  sessions
    .command('start')
    .description("start (or restart) the session of a notebook: one rank per worker in the notebook's folder, its %pip packages installed")
    .argument('<notebook>', 'the notebook (.ipynb), or any file of the folder the cells should run in')
    .option('--name <name>', 'session name (default: from the notebook path)')
    .option('--workers <n>', 'number of ranks (one pod each)', '1')
    .option('--gpus <n>', 'GPUs per rank', '0')
    .option('--gpu-share <fraction>', 'a share of one GPU per rank, e.g. 0.5: a time-slice of a GPU the cluster shares (`skiff up --gpu-sharing 2`)')
    .option('--cpu <cpu>', 'CPU per rank, e.g. 2 or 500m')
    .option('--memory <memory>', 'memory per rank, e.g. 4Gi')
    .option('--pip <requirement>', "Python package to install (repeatable; the notebook's %pip lines are read too)", collect)
    .option('--idle-minutes <m>', 'stop the ranks after this long without a cell (0: never)', String(DEFAULT_SESSION_IDLE_MINUTES))
    .addOption(outputOption())
    .action(
      act(async (notebook: string, flags: SessionStartFlags & OutputFlag, cmd: Command) => {
        const resources = { ...(flags.cpu ? { cpu: flags.cpu } : {}), ...(flags.memory ? { memory: flags.memory } : {}) };
        const request = await notebookFileSession(pathResolve(cwd, notebook), {
          name: flags.name,
          workers: Number(flags.workers),
          gpusPerWorker: Number(flags.gpus),
          gpuShare: flags.gpuShare === undefined ? undefined : Number(flags.gpuShare),
          resources,
          packages: flags.pip ?? [],
          idleMinutes: Number(flags.idleMinutes),
        });
        const info = await withInterrupt(deps, (signal) => session(cmd).startNotebookSession(request, { signal, onProgress: (l) => io.err(l + '\n') }));
        if (flags.output === 'json') return json(info);
        io.err(`session ${info.name} ready: ${sessionSizeText(info.workers, sessionGpus(info))}, cells run in ${info.workDir ?? 'the pods'}\n`);
        io.out(info.name + '\n');
      }),
    );
  sessions
    .command('run')
    .description('run a cell on every rank of a session (or every code cell of a notebook, top to bottom); rank 0 prints plainly, the others tagged')
    .argument('<session>')
    .argument('[file]', "a file with the cell's code ('-' for stdin), or an .ipynb whose code cells run in order until one fails")
    .option('-c, --code <code>', 'the cell’s code')
    .option('--rank0-only', "hide other ranks' output (their errors still show)")
    .addOption(outputOption())
    .action(
      act(async (name: string, file: string | undefined, flags: { code?: string; rank0Only?: boolean } & OutputFlag, cmd: Command) => {
        if ((flags.code === undefined) === (file === undefined)) throw new SkiffError('BAD_INPUT', 'give the cell as a file or as --code, one of the two');
        const text = flags.code ?? (file === '-' ? readFileSync(0, 'utf8') : await readFile(pathResolve(cwd, file!), 'utf8'));
        const cells = file?.endsWith('.ipynb') ? notebookCellSources(text, file).filter((c) => c.trim()) : [text];
        const s = session(cmd);
        const info = await s.findNotebookSession(name);
        if (!info) throw new SkiffError('SESSION_LOST', `no notebook session '${name}'`, { hint: 'start one with `skiff session start NOTEBOOK`' });
        return withInterrupt(deps, async (signal) => {
          // Ctrl-C interrupts the cell on every rank, as in a kernel; the stream then ends with it.
          signal.addEventListener('abort', () => void s.interruptNotebookSession(name).catch(() => {}), { once: true });
          for (const [i, code] of cells.entries()) {
            if (cells.length > 1 && flags.output !== 'json') io.err(`skiff: ── cell ${i + 1} of ${cells.length} ──\n`);
            const exit = await printCell(s.runCell(name, code), info.workers, io, { allRanks: !flags.rank0Only, json: flags.output === 'json' });
            if (exit !== EXIT_OK || signal.aborted) return exit; // like a kernel's Run All: stop at the first failing cell
          }
          return EXIT_OK;
        });
      }),
    );
  sessions
    .command('interrupt')
    .description('KeyboardInterrupt on every rank; a rank that ignores it is killed (the session then needs a restart)')
    .argument('<session>')
    .option('--grace <seconds>', 'how long ranks get before they are killed', '5')
    .action(
      act(async (name: string, flags: { grace: string }, cmd: Command) => {
        const { interrupted, killed } = await session(cmd).interruptNotebookSession(name, { graceMs: Number(flags.grace) * 1000 });
        io.err(interrupted.length ? `interrupted rank${interrupted.length === 1 ? '' : 's'} ${interrupted.join(', ')}\n` : 'no cell was running\n');
        if (killed.length)
          io.err(`rank${killed.length === 1 ? '' : 's'} ${killed.join(', ')} ignored the interrupt and ${killed.length === 1 ? 'was' : 'were'} killed; restart the session\n`);
        return killed.length ? EXIT_JOB_FAILED : EXIT_OK;
      }),
    );
  sessions
    .command('status')
    .description("a session's ranks and run folder")
    .argument('<session>')
    .addOption(outputOption())
    .action(
      act(async (name: string, flags: OutputFlag, cmd: Command) => {
        const info = await session(cmd).findNotebookSession(name);
        if (!info) throw new SkiffError('SESSION_LOST', `no notebook session '${name}'`, { hint: 'start one with `skiff session start NOTEBOOK`' });
        if (flags.output === 'json') return json(info);
        io.out(`${info.name}  ${info.phase}  ${sessionSizeText(info.workers, sessionGpus(info))}  ${info.workDir ?? ''}\n`);
      }),
    );
  sessions
    .command('stop')
    .description('shut a session down: its pods and their state go (its run folder stays)')
    .argument('<session>')
    .action(
      act(async (name: string, _flags: unknown, cmd: Command) => {
        await session(cmd).stopNotebookSession(name);
        io.err(`stopped session ${name}\n`);
      }),
    );

  // ---- images ----
  const images = program.command('images').description('build and load the images Skiff runs offline');
  images
    .command('build')
    .description('build the pinned kind binary, the node image and/or the job image')
    .addArgument(new Argument('[what]', 'what to build').choices(IMAGE_SETS).default('all'))
    .action(
      act(async (what: ImageSet) => {
        await buildImages(what, (msg) => io.err(`${msg}\n`));
        io.err(`built ${what}\n`);
      }),
    );
  images
    .command('load')
    .description('copy an image from the local Docker engine into the cluster nodes')
    .argument('<image>')
    .option('--name <name>', 'cluster name (default: --cluster)')
    .action(
      act(async (image: string, flags: { name?: string }, cmd: Command) => {
        const name = flags.name ?? globals(cmd).cluster;
        await getClusters().loadImage(name, image, (msg) => io.err(`${msg}\n`));
        io.err(`loaded ${image} into cluster '${name}'\n`);
      }),
    );
  images
    .command('clear-cache')
    .description("delete Skiff's build cache (images stay in Docker)")
    .action(
      act(async () => {
        await clearCache();
        await clearPackages(dataDir());
        io.err(`cleared ${cacheDir()} and the resolved packages in ${packagesRoot(dataDir())} (jobs' outputs are kept)\n`);
      }),
    );

  program
    .command('packages')
    .description('the Python package sets resolved for jobs (cached by image and requirements)')
    .option('--clear', 'delete them all (they are resolved again when a job needs them)')
    .addOption(outputOption())
    .action(
      act(async (flags: { clear?: boolean } & OutputFlag) => {
        const root = dataDir();
        if (flags.clear) {
          await clearPackages(root);
          io.err(`cleared ${packagesRoot(root)}\n`);
          return;
        }
        const sets = await listPackageSets(root);
        if (flags.output === 'json') return json(sets);
        if (sets.length === 0) io.err(`no package sets in ${packagesRoot(root)} yet\n`);
        for (const s of sets) io.out(`${s.hash}\t${(s.bytes / 2 ** 20).toFixed(1)} MiB\t${s.image}\t${s.requirements.join(' ')}\n`);
      }),
    );

  // ---- api ----
  program
    .command('api')
    .description('serve the HTTP API for editor extensions on 127.0.0.1 (prints {url, token})')
    .option('--port <port>', 'port (default: any free one)', '0')
    .option('--token-file <file>', 'read the bearer token from this file (default: $SKIFF_API_TOKEN, else random); never on the command line, where `ps` shows it to every user')
    .option('--stop-with-stdin', 'stop when stdin closes: for a program that starts the API as its child (a kernel), so it cannot outlive it')
    .option(
      '--code-root <dir>',
      'a folder requests may take code from and copy outputs into (repeatable; default: your home folder and the working directory)',
      (dir: string, dirs: string[] = []) => [...dirs, dir],
    )
    .addOption(new Option('--token <token>').hideHelp())
    .action(
      act(async (flags: { port: string; token?: string; tokenFile?: string; stopWithStdin?: boolean; codeRoot?: string[] }, cmd: Command) => {
        const g = globals(cmd);
        const port = Number(flags.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SkiffError('BAD_INPUT', `--port must be 0..65535 (got '${flags.port}')`);
        if (flags.token !== undefined) {
          throw new SkiffError('BAD_INPUT', '--token would show the token to every user of this machine (in `ps`)', {
            hint: 'pass it in $SKIFF_API_TOKEN or a file named by --token-file',
          });
        }
        const token = flags.tokenFile
          ? (
              await readFile(pathResolve(cwd, flags.tokenFile), 'utf8').catch((err: Error) => {
                throw new SkiffError('BAD_INPUT', `cannot read --token-file ${flags.tokenFile}: ${err.message}`);
              })
            ).trim()
          : process.env.SKIFF_API_TOKEN || undefined;
        return withInterrupt(deps, async (signal) => {
          const codeRoots = flags.codeRoot?.map((dir) => pathResolve(cwd, dir));
          const server = await startApiServer({ port, token, clusters: getClusters(), clusterName: g.cluster, namespace: g.namespace, ...(codeRoots ? { codeRoots } : {}) });
          io.out(JSON.stringify({ url: server.url, token: server.token }) + '\n');
          await new Promise<void>((resolve) => {
            if (signal.aborted) return resolve();
            signal.addEventListener('abort', () => resolve(), { once: true });
            if (flags.stopWithStdin)
              (deps.stdin ?? process.stdin)
                .on('close', () => resolve())
                .on('end', () => resolve())
                .resume();
          });
          await server.close();
          return EXIT_OK;
        });
      }),
    );

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
      if (err.code === 'commander.help' || err.code === 'commander.executeSubCommandAsync') return err.exitCode;
      err = new SkiffError('BAD_INPUT', err.message.replace(/^error: /, ''), { hint: 'see `skiff --help` or `skiff <command> --help`' });
    }
    io.err(describeError(err) + '\n');
    return exitCodeFor(err);
  }
}

/** Commander's collector for repeatable options. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Runs a command that can be stopped: with deps.signal, or else SIGINT/SIGTERM while it runs (other
 * commands keep Node's default, so Ctrl-C always works).
 */
async function withInterrupt<T = number>(deps: CliDeps, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (deps.signal) return fn(deps.signal);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** A --port value: a port number, else BAD_INPUT. */
function portFlag(value: string): number {
  const port = Number(value);
  if (!(Number.isInteger(port) && port > 0 && port < 65536)) throw new SkiffError('BAD_INPUT', `--port must be a port number (1-65535), not '${value}'`);
  return port;
}

/** Until Ctrl-C (or a TERM): what a forward waits for. */
function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
  });
}
