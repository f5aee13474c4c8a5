// Turns Kubernetes state into one plain sentence a user can act on, and into a job phase.
// Pure: callers fetch pods, nodes and log lines; nothing here talks to the cluster.
import { QUEUE_LABEL } from '../manifests/kueue.js';
import type { V1ContainerStatus, V1Deployment, V1Job, V1Node, V1Pod, V1PodSpec, V1Toleration } from '@kubernetes/client-node';
import type { JobPhase } from '../types.js';
import { parseQuantity } from '../spec/job-spec.js';
import { GPU_RESOURCE, GPU_SHARING_LABEL, gpuSharingOf, gpuSharingWays } from '../manifests/gpu.js';
import { LABELS } from '../manifests/labels.js';
import { COMPLETION_INDEX_ANNOTATION } from '../manifests/training.js';
import { KUBEFLOW_REPLICA_INDEX, KUBEFLOW_REPLICA_TYPE } from './operator-kinds.js';
import { keptPodsGone, type KeptPod } from '../workspace/kept-logs.js';
import { diagnoseTail } from './script-errors.js';

const IMAGE_PULL_REASONS = new Set(['ImagePullBackOff', 'ErrImagePull', 'ErrImageNeverPull']);
const CONFIG_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError', 'InvalidImageName', 'RunContainerError']);
const MAX_LOG_LINES = 10;
const SIGNALS: Record<number, string> = { 4: 'SIGILL', 6: 'SIGABRT', 7: 'SIGBUS', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };

/** "worker" for training pods, "replica" for serving pods: the word the user thinks in. */
function unitOf(pod: V1Pod): string {
  return pod.metadata?.labels?.[LABELS.kind] === 'serving' ? 'replica' : 'worker';
}

function containerStatuses(pod: V1Pod): V1ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

/** Image and container-config problems: they block a pod whether it is Pending or Failed. */
function waitingProblem(pod: V1Pod): string | undefined {
  for (const status of containerStatuses(pod)) {
    const waiting = status.state?.waiting;
    if (!waiting?.reason) continue;
    if (IMAGE_PULL_REASONS.has(waiting.reason)) {
      const image = status.image || pod.spec?.containers.find((c) => c.name === status.name)?.image || 'the image';
      return `image ${image} is not in the cluster and cannot be pulled: run \`skiff images load ${image}\` or pass --image`;
    }
    if (CONFIG_REASONS.has(waiting.reason)) return waiting.message || waiting.reason;
  }
  return undefined;
}

// ---- scheduling arithmetic --------------------------------------------------------------------

type Amounts = Record<string, number>;

function addInto(total: Amounts, list: Record<string, string> | undefined): void {
  for (const [name, q] of Object.entries(list ?? {})) {
    const n = parseQuantity(q);
    if (Number.isFinite(n)) total[name] = (total[name] ?? 0) + n;
  }
}

/** What the scheduler reserves for a pod: requests, defaulting to limits (as the API server does). */
export function podRequests(pod: V1Pod): Amounts {
  const total: Amounts = {};
  for (const c of pod.spec?.containers ?? []) addInto(total, { ...c.resources?.limits, ...c.resources?.requests });
  // Init containers run one at a time, so only the largest counts.
  for (const c of pod.spec?.initContainers ?? []) {
    const one: Amounts = {};
    addInto(one, { ...c.resources?.limits, ...c.resources?.requests });
    for (const [name, n] of Object.entries(one)) total[name] = Math.max(total[name] ?? 0, n);
  }
  addInto(total, pod.spec?.overhead);
  return total;
}

/** What the node offers pods of `resource`, in base units (cores, bytes, devices); 0 when it lists none. */
export function allocatable(node: V1Node, resource: string): number {
  const q = node.status?.allocatable?.[resource];
  const n = q === undefined ? 0 : parseQuantity(q);
  return Number.isFinite(n) ? n : 0;
}

const isTerminated = (p: V1Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const samePod = (a: V1Pod, b: V1Pod) =>
  a.metadata?.uid && b.metadata?.uid ? a.metadata.uid === b.metadata.uid : a.metadata?.name === b.metadata?.name && a.metadata?.namespace === b.metadata?.namespace;

/** Allocatable minus the requests of every non-terminated pod bound to the node. */
export function freeOnNode(node: V1Node, podsOnNodes: V1Pod[], resource: string, except?: V1Pod): number {
  let used = 0;
  for (const p of podsOnNodes) {
    if (p.spec?.nodeName !== node.metadata?.name || isTerminated(p) || (except && samePod(p, except))) continue;
    used += podRequests(p)[resource] ?? 0;
  }
  return allocatable(node, resource) - used;
}

function tolerates(tolerations: V1Toleration[], taint: { key: string; value?: string; effect: string }): boolean {
  return tolerations.some(
    (t) =>
      (!t.effect || t.effect === taint.effect) &&
      (t.key === undefined || t.key === '' ? t.operator === 'Exists' : t.key === taint.key && (t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? ''))),
  );
}

/** Nodes the pod could land on if only resources were in the way. */
function candidateNodes(pod: V1Pod, nodes: V1Node[]): V1Node[] {
  const tolerations = pod.spec?.tolerations ?? [];
  const selector = pod.spec?.nodeSelector ?? {};
  return nodes.filter((node) => {
    if (node.spec?.unschedulable) return false;
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready && ready.status !== 'True') return false;
    const blocking = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
    if (!blocking.every((t) => tolerates(tolerations, t))) return false;
    return Object.entries(selector).every(([k, v]) => node.metadata?.labels?.[k] === v);
  });
}

const trimNumber = (n: number, digits: number) => String(Number(n.toFixed(digits)));
const formatCpu = (cores: number) => trimNumber(Math.max(0, cores), 2);

function formatBytes(bytes: number): string {
  const b = Math.max(0, bytes);
  if (b >= 2 ** 30) return `${trimNumber(b / 2 ** 30, 1)}Gi`;
  if (b >= 2 ** 20) return `${trimNumber(b / 2 ** 20, 0)}Mi`;
  return `${trimNumber(b / 2 ** 10, 0)}Ki`;
}

/** The sharing a pod asking a share of a GPU needs (gpuShareAffinity's values), or undefined. */
function shareWays(pod: V1Pod): string[] | undefined {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  return terms.flatMap((t) => t.matchExpressions ?? []).find((e) => e.key === GPU_SHARING_LABEL && e.operator === 'In')?.values;
}

function unschedulableCondition(pod: V1Pod) {
  return pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
}

/**
 * Why a Pending pod is not running yet, or undefined when it is just starting normally.
 * Resource shortfalls are computed from node allocatable minus requests of non-terminated pods.
 */
export function explainPending(pod: V1Pod, nodes: V1Node[], podsOnNodes: V1Pod[]): string | undefined {
  const problem = waitingProblem(pod);
  if (problem) return problem;
  const unscheduled = unschedulableCondition(pod);
  if (!unscheduled || pod.spec?.nodeName) return undefined;

  const unit = unitOf(pod);
  const needs = podRequests(pod);
  const candidates = candidateNodes(pod, nodes);
  const free = (node: V1Node, resource: string) => freeOnNode(node, podsOnNodes, resource, pod);

  const gpus = needs[GPU_RESOURCE] ?? 0;
  if (gpus > 0) {
    if (!nodes.some((n) => allocatable(n, GPU_RESOURCE) > 0)) {
      return `needs ${gpus} GPU${gpus === 1 ? '' : 's'} per ${unit}, but this cluster has no GPUs: create it with --profile fake-gpu or gpu`;
    }
    const sliced = shareWays(pod);
    if (sliced && !nodes.some((n) => sliced.includes(String(gpuSharingOf(n))))) {
      return `asks for a time-slice of a GPU shared ${sliced.join(' or ')} ways, but this cluster's GPUs are shared ${gpuSharingWays(nodes).join(' or ')} way(s): \`skiff up --gpu-sharing ${sliced[0]}\` shares them (a fake-gpu cluster in place)`;
    }
    const gpuNodes = candidates.filter((n) => allocatable(n, GPU_RESOURCE) > 0);
    if (!gpuNodes.some((n) => free(n, GPU_RESOURCE) >= gpus)) {
      const list = gpuNodes.map((n) => `${n.metadata?.name}: ${Math.max(0, free(n, GPU_RESOURCE))} free`).join(', ');
      return `needs ${gpus} ${GPU_RESOURCE} per ${unit}, but no node has that many free${list ? ` (node ${list})` : ''}`;
    }
  }

  if (candidates.length > 0) {
    const mostFree = (resource: string) => Math.max(...candidates.map((n) => free(n, resource)));
    const cpu = needs.cpu ?? 0;
    if (cpu > 0 && mostFree('cpu') < cpu) return `needs ${formatCpu(cpu)} CPU per ${unit}, most free on a node is ${formatCpu(mostFree('cpu'))}`;
    const memory = needs.memory ?? 0;
    if (memory > 0 && mostFree('memory') < memory) {
      return `needs ${formatBytes(memory)} memory per ${unit}, most free on a node is ${formatBytes(mostFree('memory'))}`;
    }
    const fitsSomewhere = candidates.some((n) => Object.entries(needs).every(([r, amount]) => free(n, r) >= amount));
    if (!fitsSomewhere) {
      const wanted = [cpu > 0 ? `${formatCpu(cpu)} CPU` : '', memory > 0 ? `${formatBytes(memory)} memory` : '', gpus > 0 ? `${gpus} GPU` : ''].filter(Boolean).join(' and ');
      return `needs ${wanted} per ${unit}, but no single node has all of that free at once`;
    }
  }

  const message = unscheduled.message ?? unscheduled.reason ?? 'no reason given';
  // DRA: the scheduler found no node whose devices could satisfy the pod's GPU claim.
  if ((pod.spec?.resourceClaims?.length ?? 0) > 0 && /cannot allocate all claims/i.test(message)) {
    return `waits for GPUs to claim: no node has as many free as this ${unit}'s claim asks for (other jobs hold them, or no node has that many; \`skiff status\` lists each node's GPUs)`;
  }
  if (/topology spread/i.test(message)) {
    return `cannot place this ${unit} while keeping ${unit}s evenly spread across nodes (at most one more on any node); scheduler says: ${message}`;
  }
  return `cannot be scheduled: ${message}`;
}

// ---- failures ---------------------------------------------------------------------------------

/** The container status that ended the pod: a non-zero terminated state, now or before a restart. */
function failedTermination(pod: V1Pod) {
  for (const status of containerStatuses(pod)) {
    for (const terminated of [status.state?.terminated, status.lastState?.terminated]) {
      if (terminated && (terminated.exitCode !== 0 || terminated.reason === 'OOMKilled')) return { status, terminated };
    }
  }
  return undefined;
}

function lastLines(lines: string[]): string[] {
  const trimmed = [...lines];
  while (trimmed.length > 0 && trimmed[trimmed.length - 1].trim() === '') trimmed.pop();
  return trimmed.slice(-MAX_LOG_LINES);
}

/** GPUs a pod spec asks of each container's limits (a worker's GPUs). */
export function gpusOf(spec: V1PodSpec | undefined): number {
  return Math.max(0, ...(spec?.containers ?? []).map((c) => Number(c.resources?.limits?.[GPU_RESOURCE] ?? 0)));
}

/**
 * "script exited 1 — last lines: …", with what a signal means, and first what the lines mean when
 * the machine is to blame (CUDA without a GPU, a full disk: script-errors.ts).
 */
function exitExplanation(code: number, lastLogLines: string[], gpus: number): string {
  const signal = code > 128 && SIGNALS[code - 128] ? ` (killed by ${SIGNALS[code - 128]})` : '';
  const lines = lastLines(lastLogLines);
  const diagnosis = diagnoseTail(lines, { gpus });
  const first = diagnosis ? `${diagnosis}; ` : '';
  return lines.length > 0 ? `${first}script exited ${code}${signal} — last lines:\n${lines.join('\n')}` : `script exited ${code}${signal} without printing anything`;
}

/** Why a pod failed (or keeps crashing), or undefined when it did not fail. */
export function explainFailure(pod: V1Pod, lastLogLines: string[]): string | undefined {
  const unit = unitOf(pod);
  if (pod.status?.reason === 'Evicted') {
    return `the ${unit} was evicted from node ${pod.spec?.nodeName ?? '?'}: ${pod.status.message ?? 'the node ran short of resources'}`;
  }
  const problem = waitingProblem(pod);
  if (problem) return problem;

  const failed = failedTermination(pod);
  if (failed) {
    const { status, terminated } = failed;
    if (terminated.reason === 'OOMKilled') {
      const limit = pod.spec?.containers.find((c) => c.name === status.name)?.resources?.limits?.memory;
      return limit
        ? `OOMKilled: the ${unit} used more than its memory limit (${limit}); raise --memory`
        : `OOMKilled: the ${unit} ran out of memory on its node (no --memory was set); pass --memory to reserve enough`;
    }
    return exitExplanation(terminated.exitCode, lastLogLines, gpusOf(pod.spec));
  }
  if (pod.status?.phase === 'Failed') return pod.status.message || pod.status.reason || `the ${unit} failed`;
  return undefined;
}

/**
 * The pod whose failure explains the job: when one rank crashes, the Job controller kills the
 * others (exit 137/143), so prefer pods that exited on their own, then the earliest to finish.
 */
export function primaryFailedPod(pods: V1Pod[]): V1Pod | undefined {
  const candidates = pods.map((pod) => ({ pod, failed: failedTermination(pod) })).filter((c) => c.failed || c.pod.status?.phase === 'Failed');
  const killed = (c: (typeof candidates)[number]) => (c.failed && [137, 143].includes(c.failed.terminated.exitCode) && c.failed.terminated.reason !== 'OOMKilled' ? 1 : 0);
  const finished = (c: (typeof candidates)[number]) => String(c.failed?.terminated.finishedAt?.toISOString?.() ?? c.failed?.terminated.finishedAt ?? '~');
  candidates.sort((a, b) => killed(a) - killed(b) || (finished(a) < finished(b) ? -1 : finished(a) > finished(b) ? 1 : 0) || rankOf(a.pod) - rankOf(b.pod));
  return candidates[0]?.pod;
}

/** How a kept pod's end set off a job's failure; `peer` is the rank that lost its connection to a vanished one. */
export type KeptFailure = { pod: KeptPod; how: 'exited' | 'stopped' | 'vanished'; peer?: KeptPod };

/** gloo and NCCL's words for a peer that went away mid-collective, with the address they name. */
const LOST_PEER = /(?:Connection (?:closed|reset) by peer|Connection refused|Broken pipe|remote process exited)(?:\s*\[?([0-9a-f.:]+?)\]?:\d+)?/i;

/**
 * Which rank's end failed the job, from what its pods kept on the host: the first to exit non-zero
 * on its own or to be stopped from outside (the others fail or are stopped after it), else one that
 * left the cluster without a word (its node lost). Reads right even after every pod is deleted.
 * When the first to exit did so because it lost a peer that recorded no end (the peer's node
 * stopped: nothing reached it to say so), that peer is the one named; the address in the error
 * picks it among several. `tailOf` gives the last lines a kept pod printed.
 */
export function firstKeptFailure(kept: KeptPod[], inCluster: V1Pod[], tailOf: (pod: KeptPod) => string[] = () => []): KeptFailure | undefined {
  const timed: { failure: KeptFailure; at: string }[] = [];
  for (const pod of kept) {
    if (pod.stoppedBy) timed.push({ failure: { pod, how: 'stopped' }, at: pod.stoppedBy.at });
    else if (pod.ended && pod.ended.exitCode !== 0) timed.push({ failure: { pod, how: 'exited' }, at: pod.ended.at });
  }
  timed.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : (a.failure.pod.rank ?? 0) - (b.failure.pod.rank ?? 0)));
  const first = timed[0]?.failure;
  if (first?.how === 'exited') {
    const lost = tailOf(first.pod)
      .map((l) => LOST_PEER.exec(l))
      .find((m) => m);
    const silent = kept.filter((k) => k !== first.pod && !k.ended && !k.stoppedBy);
    if (lost && silent.length > 0) {
      const ipOf = (k: KeptPod) => inCluster.find((p) => p.metadata?.uid === k.uid || p.metadata?.name === k.pod)?.status?.podIP;
      const peer = silent.find((k) => lost[1] !== undefined && ipOf(k) === lost[1]) ?? silent[0];
      return { pod: peer, how: 'vanished', peer: first.pod };
    }
  }
  if (first) return first;
  const vanished = keptPodsGone(
    kept,
    inCluster.flatMap((p) => [p.metadata?.uid, p.metadata?.name]),
  ).find((k) => !k.ended);
  return vanished && { pod: vanished, how: 'vanished' };
}

const clockTime = (iso: string) => iso.slice(11, 19);

/** The sentence for a kept failure; `tail` is the last lines its log kept, `gpus` each worker's. */
export function explainKeptFailure({ pod, how, peer }: KeptFailure, tail: string[], gpus = 0): string {
  if (how === 'stopped') {
    const { signal, at } = pod.stoppedBy!;
    return `stopped from outside by ${signal} at ${clockTime(at)} UTC while it ran (its pod was deleted or evicted, or its node shut down); a DDP job ends when it loses a rank, so the other ranks were stopped too`;
  }
  if (how === 'vanished' && peer) {
    const where = pod.node ? `its node ${pod.node}` : 'its node';
    return `stopped answering while it ran, and no exit was recorded: ${where} may have stopped or lost its network; rank ${peer.rank ?? 0} then lost its connection to it and failed`;
  }
  if (how === 'vanished') {
    return `its pod went away without the script ending (no exit was recorded${pod.node ? ` on node ${pod.node}` : ''}): its node may have gone down or been removed`;
  }
  return exitExplanation(pod.ended!.exitCode, tail, gpus);
}

// ---- phases -----------------------------------------------------------------------------------

const hasCondition = (conditions: { type: string; status: string }[] | undefined, type: string) => conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
const isLive = (p: V1Pod) => !p.metadata?.deletionTimestamp && !isTerminated(p);

/** Phase of a training job from its Job and pods. Pending until every live worker runs, since DDP waits for all. */
export function jobPhase(job: V1Job | undefined, pods: V1Pod[]): JobPhase {
  if (!job) return 'Unknown';
  if (job.metadata?.deletionTimestamp) return 'Cancelled';
  // Kueue holds a queued job suspended until it admits every rank at once (and suspends it again if preempted).
  if (job.spec?.suspend) return job.metadata?.labels?.[QUEUE_LABEL] ? 'Queued' : 'Cancelled';
  const conditions = job.status?.conditions;
  if (hasCondition(conditions, 'Complete') || hasCondition(conditions, 'SuccessCriteriaMet')) return 'Succeeded';
  if (hasCondition(conditions, 'Failed') || hasCondition(conditions, 'FailureTarget')) return 'Failed';
  // The controller may not have written its condition yet.
  const failedPods = pods.filter((p) => p.status?.phase === 'Failed').length;
  if (Math.max(job.status?.failed ?? 0, failedPods) > (job.spec?.backoffLimit ?? 6)) return 'Failed';
  const live = pods.filter(isLive);
  if (live.some((p) => !p.status?.phase || p.status.phase === 'Pending')) return 'Pending';
  if (live.some((p) => p.status?.phase === 'Running')) return 'Running';
  // The kubelet reports a pod done a moment before the Job controller counts it.
  const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded');
  const ranksDone = new Set(succeeded.map((p) => rankOf(p, pods))).size;
  if (Math.max(job.status?.succeeded ?? 0, ranksDone) >= (job.spec?.completions ?? 1)) return 'Succeeded';
  // Some ranks done, the others being (re)created: the job is still under way, not back to Pending.
  return succeeded.length > 0 ? 'Running' : 'Pending';
}

export const isReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const isCrashing = (p: V1Pod) =>
  (p.status?.containerStatuses ?? []).some(
    (s) => s.state?.waiting?.reason === 'CrashLoopBackOff' || (!s.ready && s.restartCount > 0 && (s.lastState?.terminated?.exitCode ?? 0) !== 0),
  );

/** Phase of a serving job: Running once any replica is ready, Failed when replicas only crash. */
export function servingPhase(deploy: V1Deployment | undefined, pods: V1Pod[]): JobPhase {
  if (!deploy) return 'Unknown';
  if (deploy.metadata?.deletionTimestamp || deploy.spec?.replicas === 0) return 'Cancelled';
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  if (live.some(isReady) || (deploy.status?.readyReplicas ?? 0) > 0) return 'Running';
  const stalled = deploy.status?.conditions?.some((c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded');
  if (stalled || live.some(isCrashing)) return 'Failed';
  return 'Pending';
}

// ---- ranks ------------------------------------------------------------------------------------

const toIndex = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);

/**
 * A training pod's rank. Pod templates cannot carry a per-pod `skiff.dev/rank` label, so it comes
 * from the Indexed Job's completion-index annotation (also exported to the script as RANK), then
 * the same-named label, then Kubeflow's replica labels (Master is rank 0, Worker i is rank i + 1, as
 * the training operator numbers RANK), then the hostname / name `<job>-<index>[-<random>]`. Serving
 * pods have no rank: pass their siblings to number them by name order.
 */
export function rankOf(pod: V1Pod, siblings?: V1Pod[]): number {
  const meta = pod.metadata;
  const fromMeta = toIndex(meta?.annotations?.[COMPLETION_INDEX_ANNOTATION]) ?? toIndex(meta?.labels?.[COMPLETION_INDEX_ANNOTATION]);
  if (fromMeta !== undefined) return fromMeta;
  const replicaIndex = toIndex(meta?.labels?.[KUBEFLOW_REPLICA_INDEX]);
  const replicaType = meta?.labels?.[KUBEFLOW_REPLICA_TYPE]?.toLowerCase();
  if (replicaIndex !== undefined && (replicaType === 'master' || replicaType === 'worker')) return replicaType === 'master' ? replicaIndex : replicaIndex + 1;
  if (meta?.labels?.[LABELS.kind] !== 'serving') {
    const fromHost = toIndex(/-(\d+)$/.exec(pod.spec?.hostname ?? '')?.[1]);
    const fromName = toIndex(/-(\d+)-[a-z0-9]{5}$/.exec(meta?.name ?? '')?.[1]);
    if (fromHost !== undefined || fromName !== undefined) return fromHost ?? fromName ?? 0;
  }
  const names = (siblings ?? [pod]).map((p) => p.metadata?.name ?? '').sort();
  return Math.max(0, names.indexOf(meta?.name ?? ''));
}
