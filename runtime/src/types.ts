// Shared vocabulary of the runtime. Editor extensions see these through index.ts.

/** Cluster profiles: plain CPU, real NVIDIA GPUs (nvkind's approach), or fake GPUs from a device plugin. */
/** The kinds of local cluster, in the order pickers offer them. */
export const CLUSTER_PROFILES = ['cpu', 'fake-gpu', 'gpu'] as const;
export type ClusterProfile = (typeof CLUSTER_PROFILES)[number];

/** Each profile in a few words, for the editors' pickers and the CLI's help. */
export const PROFILE_DESCRIPTIONS: Record<ClusterProfile, string> = {
  cpu: 'CPU only',
  'fake-gpu': 'nvidia.com/gpu on workers from a fake device plugin, for trying GPU scheduling without a GPU',
  gpu: 'NVIDIA GPUs passed through (needs the NVIDIA container runtime)',
};

/** What `skiff up --with` installs into a local cluster (runtime/src/addons). */
export const ADDONS = ['mlflow', 'prometheus', 'kueue'] as const;
export type AddonName = (typeof ADDONS)[number];

export interface ClusterOptions {
  /** Cluster name; the provider names its kube context (kind's: `kind-<name>`). */
  name: string;
  profile: ClusterProfile;
  /** Worker nodes besides the control plane. */
  workers: number;
  /** GPUs per worker node: the fake device plugin's (fake-gpu) or passed through (gpu). */
  gpusPerNode: number;
  /** How many ways each GPU is shared by time-slicing (absent or 1: each job's GPUs are its own). */
  gpuSharing?: number;
  /** fake-gpu: the GPUs are DRA devices (Kubernetes' DRA test driver), claimed by jobs, instead of a device plugin's. */
  dra?: boolean;
  /** Node image; when absent the provider picks upstream kindest/node or Skiff's offline build. */
  nodeImage?: string;
  /** Host folders shared into every node: jobs' run folders and packages, and the home folder for --data. */
  shared?: { data: string; home?: string };
}

export interface ClusterInfo {
  name: string;
  context: string;
  profile: ClusterProfile;
  nodes: NodeInfo[];
  /** How jobs get the GPUs, when not through a device plugin's nvidia.com/gpu: DRA claims (`skiff up --dra`). */
  gpuDriver?: 'dra';
}

export interface NodeInfo {
  name: string;
  role: 'control-plane' | 'worker';
  ready: boolean;
  /** GPUs, each counted once however many ways it is shared (0 when none). */
  gpus: number;
  /** How many ways each GPU is shared (time-slicing), present only when it is (above 1). */
  gpuSharing?: number;
}

/** How many ways the cluster's GPUs are shared (1: whole GPUs): its most shared node's. */
export function clusterGpuSharing(cluster: ClusterInfo): number {
  return Math.max(1, ...cluster.nodes.map((n) => n.gpuSharing ?? 1));
}

export type JobKind = 'training' | 'serving';

/** A file that travels with the job inside its ConfigMap (path relative to the code root). */
export interface CodeFile {
  path: string;
  content: Buffer;
}

/** Queued: waiting in a Kueue queue (`skiff up --with kueue`) until the cluster can take every rank at once. */
export type JobPhase = 'Queued' | 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Cancelled' | 'Unknown';

export interface JobPodStatus {
  name: string;
  /** Rank for training pods, replica ordinal for serving pods. */
  rank: number;
  node?: string;
  phase: string;
  exitCode?: number;
  reason?: string;
}

export interface JobStatus {
  name: string;
  namespace: string;
  kind: JobKind;
  /** The object that runs it: Job or Deployment, or an operator's PyTorchJob or InferenceService. */
  workload?: string;
  phase: JobPhase;
  /** One plain-words sentence for Pending or Failed jobs, e.g. "OOMKilled: raise --memory". */
  reason?: string;
  createdAt?: string;
  workers: number;
  script: string;
  /** The run folder on this machine (local clusters): the job's working directory, and its outputs. */
  workDir?: string;
  pods: JobPodStatus[];
}

/** One log line of one pod, tagged with its rank. */
export interface LogLine {
  pod: string;
  rank: number;
  /** RFC 3339 timestamp from the kubelet, used to resume without loss or duplicates. */
  time: string;
  text: string;
}

/** Resource usage of one pod, from the kubelet's summary API through the API server. */
export interface PodUsage {
  pod: string;
  rank: number;
  cpuCores: number;
  memoryBytes: number;
  gpuUtilization?: number;
}

/** A training metric a script reported with `skiff.log(step=…, loss=…)`. */
export interface TrainingMetric {
  rank: number;
  time: string;
  values: Record<string, number>;
}

export type MetricsSample =
  /** `note`: on a reading with no pods, what would have kept their usage (an add-on, by the flag that installs it). */
  { type: 'usage'; time: string; pods: PodUsage[]; note?: string } | { type: 'training'; metric: TrainingMetric };

/**
 * `skiff run -o json` and `skiff serve -o json`: one JSON object per stdout line, as things happen
 * (the human lines stay on stderr). A program follows a job from these, never from the text.
 */
export type RunEvent =
  | { event: 'submitted'; job: JobStatus }
  /** The phase or its reason changed (Pending: why). */
  | { event: 'status'; job: JobStatus }
  /** `text`: the line as `skiff run` prints it (rank tag, a metrics line in words). */
  | { event: 'log'; line: LogLine; text: string }
  | { event: 'metrics'; sample: MetricsSample }
  /** The API server went away or came back while following. */
  | { event: 'notice'; message: string }
  /** The job's outcome: a finished phase for `run`, Running (ready) or a failure for `serve`. */
  | { event: 'end'; job: JobStatus; seconds: number };

/** A MIME bundle as Jupyter sends one: 'text/plain', 'text/html', base64 'image/png'… */
export type MimeBundle = Record<string, unknown>;

export type CellStatus = 'ok' | 'error' | 'interrupted' | 'lost';

/** What one rank of a notebook session says while it runs a cell (runtime/python/skiff/agent.py). */
export type AgentEvent =
  | { type: 'stream'; name: 'stdout' | 'stderr'; text: string }
  | { type: 'display'; data: MimeBundle }
  | { type: 'result'; data: MimeBundle; count: number }
  | { type: 'error'; ename: string; evalue: string; traceback: string }
  | { type: 'done'; status: 'ok' | 'error' | 'interrupted'; count: number };

/**
 * One event of a cell run on every rank of a session, tagged with its rank. `lost`: the rank's
 * stream ended before its cell did (its pod was deleted, its node died, it was killed after
 * ignoring an interrupt), in plain words; that rank's run ends there.
 */
export type CellEvent = (AgentEvent | { type: 'lost'; message: string }) & { rank: number };

/** A notebook session: a training job whose ranks run Skiff's agent. */
export interface NotebookSessionInfo {
  name: string;
  namespace: string;
  workers: number;
  gpusPerWorker: number;
  /** Each rank's time-slice of one GPU (gpusPerWorker is then 1), on a cluster that shares its GPUs. */
  gpuShare?: number;
  /** The run folder the session's cells run in (the notebook's folder, copied). */
  workDir?: string;
  /** The packages installed for it (the notebook's %pip lines, its requirements.txt, and any `%pip install` run since). */
  packages?: string[];
  phase: JobPhase;
  /** The image its ranks run: what packages added while it runs are resolved for. */
  image?: string;
  /** Its ranks see every package set (PACKAGE_SETS_MOUNT), so a `%pip install` cell adds packages without a restart. */
  livePackages?: boolean;
}

/** Where promoted jobs run: a kubeconfig context and a namespace there. The editors list its jobs. */
export interface PromotedTarget {
  context: string;
  namespace: string;
}
