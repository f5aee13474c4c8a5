// What the API serves requests from: a session's operations (tests pass a fake).
import type { SkiffSession } from '../session.js';

export type ApiBackend = Pick<
  SkiffSession,
  | 'clusterName'
  | 'namespace'
  | 'listClusters'
  | 'up'
  | 'down'
  | 'listJobs'
  | 'watchJobs'
  | 'describeJob'
  | 'submit'
  | 'outputs'
  | 'copyOutputs'
  | 'cancelJob'
  | 'waitForJob'
  | 'logs'
  | 'metrics'
  | 'call'
  | 'promotionTargets'
  | 'planPromotion'
  | 'applyPromotion'
  | 'startNotebookSession'
  | 'findNotebookSession'
  | 'attachNotebookSession'
  | 'runCell'
  | 'interruptNotebookSession'
  | 'stopNotebookSession'
>;
