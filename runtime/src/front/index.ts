// What front ends that run in a browser need from the runtime, with no Node code: the HTTP + SSE
// client, following a job, how cells become jobs, and how jobs read. `@skiff/runtime/front`.
export type * from '../types.js';
export { ADDONS, CLUSTER_PROFILES, PROFILE_DESCRIPTIONS } from '../types.js';
export {
  SkiffApiClient,
  ApiError,
  parseSse,
  OUTPUTS_COPY_DIR,
  type ClientOptions,
  type Health,
  type PromotionSummary,
  type SubmitRequest,
  type JobOutputs,
} from '../api/client.js';
export { followJob, FINISHED_PHASES, type FollowHandlers, type FollowOptions } from '../jobs/follow-job.js';
export { displayLogLine, formatLogLine, metricValuesText } from '../logs/parse.js';
export { sleep } from '../k8s/streams.js';
export { MetricsFeed, METRICS_REDRAW_MS, MAX_CHART_SAMPLES, type MetricsFeedOptions } from './metrics-feed.js';
export {
  cellJobOptions,
  cellResourcesText,
  isGpuShare,
  cellServingSpec,
  cellTrainingSpec,
  gpuFields,
  jobNameFrom,
  scriptFromCells,
  sessionGpus,
  sessionSizeText,
  withCellJobOptions,
  type CellJobOptions,
} from './cells.js';
export { cellStatusText, jobSizeText, podLines } from './status-text.js';
export { describeText, formatAge } from './describe-text.js';
export type { JobDescription, JobEvent, PodDescription } from '../jobs/status.js';
export { API_VERSION, RUNTIME_VERSION } from '../version.js';
export { planSides, planSummaryLines, profilesFor, promotionChoices, promotedTargetLabel, rememberPromotedTarget, type PlanView, type PromotionTargets } from './promotion-text.js';
export { PromotedJobs, type RemoteJobs, type TargetMemory, type WatchTarget } from './promoted-jobs.js';
export { LiveJobs, type LiveJobsHandlers, type WatchJobs } from './live-jobs.js';
export { runCellJob, type CellJobRun, type CellJobSurface } from './cell-job.js';
export { readEditorSettings, settingFields, SHARED_SETTINGS, type ReadSettings, type SettingsOf } from './settings.js';
export { CellOutcome, CellPresenter, RankTagger, plainText, rankTag, takeMetricLines, type CellOutput, type CellPresenterOptions } from '../sessions/cell-output.js';
export { sessionNameFor } from './cells.js';
export {
  ADDON_DESCRIPTIONS,
  clusterGpusText,
  clusterUpRequest,
  gpuChoices,
  gpuSharingLabel,
  GPU_SHARING_CHOICES,
  hasGpus,
  type ClusterUpRequest,
  type GpuChoice,
} from './cluster-text.js';
