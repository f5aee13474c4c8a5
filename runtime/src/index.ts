// The public face of @skiff/runtime: what editor extensions (and scripts) import.
export type * from './types.js';

export { SkiffError, describeError, exitCodeFor, errorCodeOf, type ErrorCode } from './errors.js';

// Clusters and images
export { Clusters, DEFAULT_CLUSTER, type UpRequest, type UpResult } from './cluster/cluster.js';
export { cacheDir } from './exec/tools.js';
export { buildImages, clearCache, JOB_IMAGE, type ImageSet } from './images/images.js';

// Specs
export {
  parseTrainingSpec,
  parseServingSpec,
  parseJobSpec,
  parseEnvPairs,
  jobNameFor,
  SpecError,
  DEFAULT_JOB_IMAGE,
  DEFAULT_NAMESPACE,
  type JobSpec,
  type TrainingJobSpec,
  type ServingJobSpec,
  type Resources,
} from './spec/job-spec.js';

// Jobs
export { SkiffSession, type SessionOptions, type CodeSource, type SubmitOptions, type LogOptions, type MetricOptions } from './session.js';
export { dataDir } from './workspace/layout.js';
export { runFiles, type Run, type RunRecord } from './workspace/runs.js';
export { Jobs, type JobDescription, type JobEvent, type PodDescription, type WaitOptions } from './jobs/jobs.js';
export { submitJob, submitJobFiles, renderJob, renderedObjects } from './jobs/submit.js';
export { followJob, FINISHED_PHASES, type FollowHandlers, type FollowOptions } from './jobs/follow-job.js';
export { callService, type CallOptions, type CallResult } from './jobs/call.js';

// Streams
export { streamJobLogs } from './jobs/job-logs.js';
export { streamJobMetrics } from './jobs/job-metrics.js';
export { collectTrainingMetrics } from './k8s/metrics.js';
export { formatLogLine, displayLogLine, metricValuesText, parseMetricLine, METRIC_PREFIX } from './logs/parse.js';

// API server
export { RUNTIME_VERSION, API_VERSION } from './version.js';
export { startApiServer, type ApiServer, type ApiServerOptions, type ApiBackend, type ApiErrorBody } from './api/server.js';
export { cellStatusText, jobSizeText, podLines } from './front/status-text.js';
export { planPromotion, applyPromotion, type PromotionPlan, type ChangeAction } from './promote/promote.js';
export { loadTargetProfile, listTargetProfiles, parseTargets, targetFiles, type TargetProfile } from './promote/target.js';
export { NotebookSessions, lostRanks } from './sessions/sessions.js';
export { notebookCellSources, type NotebookSessionRequest } from './sessions/notebook.js';
export { notebookPipRequirements } from './packages/sources.js';
