// A notebook session on the cluster: a training job whose ranks run Skiff's agent. Nothing is kept
// in this process: the ranks are found again from the job's pods on every call, so an editor that
// reloads (or a second terminal) reaches the same pods and the same Python state.
import { PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { SkiffError } from '../errors.js';
import type { CellEvent, JobPodStatus, JobStatus, NotebookSessionInfo } from '../types.js';
import { kubeClients, deleteIfPresent } from '../k8s/client.js';
import { sleep } from '../k8s/streams.js';
import { Jobs } from '../jobs/jobs.js';
import { ANNOTATIONS, specAnnotation, specFromAnnotations } from '../manifests/labels.js';
import { VOLUMES } from '../manifests/code-bundle.js';
import type { TrainingJobSpec } from '../spec/job-spec.js';
import { agentHealth, AgentLostError, executeOnAgent, interruptAgent, podAgentLink, type AgentCell, type AgentLink } from './agent-client.js';

export interface SessionRank {
  rank: number;
  pod: string;
  link: AgentLink;
}

/** How long ranks get to stop after an interrupt before they are killed. */
export const INTERRUPT_GRACE_MS = 5_000;
const READY_TIMEOUT_MS = 5 * 60_000;
const POLL_MS = 250;

/** Builds links to a rank's agent; tests pass one that reaches agents started on this machine. */
export type LinkFactory = (namespace: string, pod: string) => AgentLink;

export class NotebookSessions {
  private readonly jobs: Jobs;
  private readonly link: LinkFactory;

  constructor(
    private readonly kc: KubeConfig,
    readonly namespace: string,
    link?: LinkFactory,
  ) {
    this.jobs = new Jobs(kc, namespace);
    this.link = link ?? ((ns, pod) => podAgentLink(kc, ns, pod));
  }

  /** The session's status, or undefined when there is none by that name. */
  async find(name: string): Promise<NotebookSessionInfo | undefined> {
    const status = await this.jobs.get(name).catch((err: unknown) => {
      if (err instanceof SkiffError && err.code === 'JOB_NOT_FOUND') return undefined;
      throw err;
    });
    if (!status) return undefined;
    const job = await kubeClients(this.kc)
      .batch.readNamespacedJob({ name, namespace: this.namespace })
      .catch(() => undefined);
    const spec = specFromAnnotations(job?.metadata?.annotations);
    const live = (job?.spec?.template.spec?.volumes ?? []).some((v) => v.name === VOLUMES.packageSets);
    return spec?.kind === 'training' ? infoOf(status, spec, live) : undefined;
  }

  /**
   * Records on the session's job the packages added while it runs, so that whoever attaches next
   * (another editor, the next `skiff session run`) knows its ranks have them.
   */
  async recordPackages(name: string, packages: string[]): Promise<void> {
    const { batch } = kubeClients(this.kc);
    const spec = specFromAnnotations((await batch.readNamespacedJob({ name, namespace: this.namespace })).metadata?.annotations);
    if (spec?.kind !== 'training') return;
    const body = { metadata: { annotations: { [ANNOTATIONS.spec]: specAnnotation({ ...spec, packages }) } } };
    await batch.patchNamespacedJob({ name, namespace: this.namespace, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  }

  /** Every rank, each running and answering; a plain-words SESSION_LOST error when one is not. */
  async ranks(name: string): Promise<SessionRank[]> {
    const status = await this.status(name);
    return this.ranksOf(status);
  }

  private async status(name: string): Promise<JobStatus> {
    try {
      return await this.jobs.get(name);
    } catch (err) {
      if (err instanceof SkiffError && err.code === 'JOB_NOT_FOUND') {
        throw new SkiffError('SESSION_LOST', `the notebook session '${name}' is gone (shut down, stopped after its idle minutes, or its cluster was recreated)`, {
          hint: 'run the cell again to start a new session; variables from before are lost',
        });
      }
      throw err;
    }
  }

  private ranksOf(status: JobStatus): SessionRank[] {
    const missing = lostRanks(status);
    if (missing.length > 0) {
      throw new SkiffError('SESSION_LOST', `the notebook session '${status.name}' lost ${missing.join('; ')}`, {
        hint: 'restart the session: its Python state went with that rank',
      });
    }
    return status.pods
      .filter(isUp)
      .sort((a, b) => a.rank - b.rank)
      .map((p) => ({ rank: p.rank, pod: p.name, link: this.link(status.namespace, p.name) }));
  }

  /** Waits until every rank's pod runs and its agent answers; fails with the job's reason when it cannot start. */
  async waitReady(name: string, opts: { signal?: AbortSignal; timeoutMs?: number; onProgress?: (line: string) => void } = {}): Promise<SessionRank[]> {
    const deadline = Date.now() + (opts.timeoutMs ?? READY_TIMEOUT_MS);
    let said = '';
    const say = (line: string) => {
      if (line !== said) opts.onProgress?.((said = line));
    };
    for (;;) {
      opts.signal?.throwIfAborted();
      const status = await this.status(name);
      if (status.phase === 'Failed' || status.phase === 'Succeeded' || status.phase === 'Cancelled') {
        throw new SkiffError(
          'SESSION_LOST',
          `the notebook session '${name}' ${status.phase === 'Failed' ? 'failed to start' : 'stopped'}${status.reason ? `: ${status.reason}` : ''}`,
          {
            hint: `see \`skiff describe ${name}\` and \`skiff logs ${name}\``,
          },
        );
      }
      const running = status.pods.filter(isUp).length;
      if (running === status.workers) {
        const ranks = this.ranksOf(status);
        const answers = await Promise.all(
          ranks.map((r) =>
            agentHealth(r.link, { signal: opts.signal, timeoutMs: 5_000 }).then(
              () => true,
              () => false,
            ),
          ),
        );
        if (answers.every(Boolean)) return ranks;
        say(`waiting for ${answers.filter((a) => !a).length} of ${ranks.length} ranks to answer`);
      } else {
        say(status.reason ? `waiting for pods: ${status.reason}` : `waiting for pods: ${running} of ${status.workers} running`);
      }
      if (Date.now() > deadline) {
        throw new SkiffError('TIMEOUT', `the notebook session '${name}' was not ready within ${Math.round((opts.timeoutMs ?? READY_TIMEOUT_MS) / 1000)} s`, {
          hint: status.reason ?? `see \`skiff describe ${name}\``,
        });
      }
      await sleep(POLL_MS, opts.signal);
    }
  }

  /**
   * Runs a cell on every rank at once; their events as they arrive, each tagged with its rank.
   * A rank whose stream breaks ends with a `lost` event saying what happened to its pod. Given
   * `ranks` found before (by a caller that keeps them), no API call precedes the cell.
   */
  async *run(name: string, cell: AgentCell | string, signal?: AbortSignal, ranks?: SessionRank[]): AsyncGenerator<CellEvent> {
    const targets = ranks ?? (await this.ranks(name));
    yield* mergeRanks(targets, (rank) => this.runOnRank(name, rank, cell, signal));
  }

  private async *runOnRank(name: string, rank: SessionRank, cell: AgentCell | string, signal?: AbortSignal): AsyncGenerator<CellEvent> {
    try {
      for await (const event of executeOnAgent(rank.link, cell, signal)) yield { ...event, rank: rank.rank };
    } catch (err) {
      if (!(err instanceof AgentLostError)) throw err;
      yield { type: 'lost', rank: rank.rank, message: await this.whatHappened(name, rank, err) };
    }
  }

  /** A broken stream in the words of the pod's fate. */
  private async whatHappened(name: string, rank: SessionRank, err: AgentLostError): Promise<string> {
    const status = await this.jobs.get(name).catch(() => undefined);
    const pod = status?.pods.find((p) => p.name === rank.pod);
    if (!status) return `rank ${rank.rank} is gone: the session was shut down`;
    if (!pod) return `rank ${rank.rank} is gone: its pod ${rank.pod} was deleted`;
    if (pod.reason === 'Terminating') return `rank ${rank.rank} is gone: its pod ${rank.pod} is being deleted`;
    if (pod.phase !== 'Running') return `rank ${rank.rank} stopped: its pod ${rank.pod} is ${pod.phase}${pod.reason ? ` (${pod.reason})` : ''}`;
    return `rank ${rank.rank} stopped answering: ${err.message}`;
  }

  /**
   * KeyboardInterrupt on every rank; a rank still busy after the grace period is killed (its pod
   * deleted), which ends the session's state there. Returns the ranks interrupted and killed.
   */
  async interrupt(name: string, graceMs = INTERRUPT_GRACE_MS): Promise<{ interrupted: number[]; killed: number[] }> {
    const ranks = await this.ranks(name);
    const sent = await Promise.all(ranks.map((r) => interruptAgent(r.link).catch(() => false)));
    const interrupted = ranks.filter((_, i) => sent[i]).map((r) => r.rank);
    const deadline = Date.now() + graceMs;
    let busy = ranks.filter((_, i) => sent[i]);
    while (busy.length > 0 && Date.now() < deadline) {
      await sleep(POLL_MS);
      const still = await Promise.all(
        busy.map((r) =>
          agentHealth(r.link, { timeoutMs: 2_000 }).then(
            (h) => h.busy,
            () => false,
          ),
        ),
      );
      busy = busy.filter((_, i) => still[i]);
    }
    const core = kubeClients(this.kc).core;
    for (const r of busy) await deleteIfPresent(core.deleteNamespacedPod({ name: r.pod, namespace: this.namespace, gracePeriodSeconds: 0 }));
    return { interrupted, killed: busy.map((r) => r.rank) };
  }
}

/** A rank's pod that runs and is not being deleted (a deleted pod stays Running through its grace period). */
const isUp = (p: JobPodStatus) => p.phase === 'Running' && p.reason !== 'Terminating';

/** Ranks whose pod is not running, each in a few words ("rank 1 (pod x was deleted)"). */
export function lostRanks(status: Pick<JobStatus, 'workers' | 'pods'>): string[] {
  const lost: string[] = [];
  for (let rank = 0; rank < status.workers; rank++) {
    const pods = status.pods.filter((p) => p.rank === rank);
    if (pods.some(isUp)) continue;
    const last = pods.at(-1);
    if (!last) lost.push(`rank ${rank} (its pod was deleted)`);
    else if (last.reason === 'Terminating') lost.push(`rank ${rank} (its pod ${last.name} is being deleted)`);
    else if (last.phase === 'Pending') lost.push(`rank ${rank} (its pod is still Pending${last.reason ? `: ${last.reason}` : ''})`);
    else lost.push(`rank ${rank} (its pod ${last.name} is ${last.phase}${last.reason ? `: ${last.reason}` : ''})`);
  }
  return lost;
}

function infoOf(status: JobStatus, spec: TrainingJobSpec, livePackages: boolean): NotebookSessionInfo | undefined {
  if (!spec.session) return undefined;
  const info: NotebookSessionInfo = {
    name: status.name,
    namespace: status.namespace,
    workers: spec.workers,
    gpusPerWorker: spec.gpusPerWorker,
    phase: status.phase,
    image: spec.image,
  };
  if (spec.gpuShare !== undefined) info.gpuShare = spec.gpuShare;
  if (status.workDir) info.workDir = status.workDir;
  if (spec.packages?.length) info.packages = spec.packages;
  if (livePackages) info.livePackages = true;
  return info;
}

/** Every rank's events as they come, in one stream; ends when every rank's stream has. */
export async function* mergeRanks<T>(ranks: SessionRank[], run: (rank: SessionRank) => AsyncIterable<T>): AsyncGenerator<T> {
  const queue: T[] = [];
  let failure: unknown;
  let wake: (() => void) | undefined;
  let open = ranks.length;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  for (const rank of ranks) {
    void (async () => {
      try {
        for await (const item of run(rank)) {
          queue.push(item);
          notify();
        }
      } catch (err) {
        failure ??= err;
      } finally {
        open--;
        notify();
      }
    })();
  }
  while (open > 0 || queue.length > 0) {
    if (queue.length > 0) {
      yield queue.shift()!;
      continue;
    }
    if (failure !== undefined) throw failure;
    await new Promise<void>((resolve) => (wake = resolve));
  }
  if (failure !== undefined) throw failure;
}
