// What a job's pods get from a local cluster that has the MLflow add-on (manifests/mlflow.ts):
// where to log, under which experiment, and MLflow's client on PYTHONPATH, so an unchanged script
// that calls mlflow.log_metric records into the job's experiment.
import type { V1EnvVar } from '@kubernetes/client-node';

/** The add-ons' namespace and MLflow's Service there. */
export const ADDONS_NAMESPACE = 'skiff-addons';
export const MLFLOW_NAME = 'mlflow';
export const MLFLOW_PORT = 5000;
/** What jobs call: the Service's name inside the cluster. */
export const MLFLOW_TRACKING_URI = `http://${MLFLOW_NAME}.${ADDONS_NAMESPACE}.svc.cluster.local:${MLFLOW_PORT}`;
/** MLflow's package set inside the server's and the jobs' containers. */
export const MLFLOW_SITE_MOUNT = '/skiff/addons/mlflow';

/** What a job's pods get from a cluster that has MLflow: where to log, under which experiment, tagged how. */
export interface MlflowForJob {
  /** MLflow's package set as the nodes see it (the server's), mounted after the job's own packages. */
  siteNodeDir: string;
  /** The experiment Skiff made for the job (named after it), with its artifacts in the job's runs folder. */
  experiment: string;
  /** Tags every run the job starts gets (MLflow's MLFLOW_RUN_CONTEXT): the job and its run folder. */
  tags: Record<string, string>;
}

/** The experiment a job's runs go to: named after the job (and its namespace, outside the default one). */
export function experimentNameFor(job: string, namespace: string, defaultNamespace: string): string {
  return namespace === defaultNamespace ? job : `${namespace}/${job}`;
}

export function mlflowEnv(m: MlflowForJob): V1EnvVar[] {
  return [
    { name: 'MLFLOW_TRACKING_URI', value: MLFLOW_TRACKING_URI },
    { name: 'MLFLOW_EXPERIMENT_NAME', value: m.experiment },
    { name: 'MLFLOW_RUN_CONTEXT', value: JSON.stringify(m.tags) },
    // The job image has no git: without this, MLflow's GitPython warns three times on every run.
    { name: 'GIT_PYTHON_REFRESH', value: 'quiet' },
    // MLflow prints each run's URL inside the cluster, which no browser here reaches; describe gives the local one.
    { name: 'MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT', value: 'true' },
  ];
}
