import { describe, expect, it } from 'vitest';
import { mlflowManifests, MLFLOW_VERSION } from './mlflow.js';
import { MLFLOW_SITE_MOUNT, MLFLOW_TRACKING_URI, experimentNameFor } from './mlflow-env.js';
import { jobEnv, jobVolumeMounts, jobVolumes, type Workspace } from './code-bundle.js';
import { parseTrainingSpec } from '../spec/job-spec.js';

describe("MLflow's tracking server", () => {
  const { namespace, deployment, service } = mlflowManifests({
    cluster: 'dev',
    image: 'skiff.local/job-python:x',
    siteNodeDir: '/skiff/host/packages/abc/site',
    runAs: { uid: 1000, gid: 1000 },
  });
  const pod = deployment.spec!.template.spec!;
  const container = pod.containers[0];

  it('runs MLflow from its resolved package set in the job image, its store and artifacts in the data folder, as the host user', () => {
    expect(namespace.metadata?.name).toBe('skiff-addons');
    expect(container.image).toBe('skiff.local/job-python:x');
    expect(container.env).toContainEqual({ name: 'PYTHONPATH', value: MLFLOW_SITE_MOUNT });
    expect(container.command).toContain('--backend-store-uri=sqlite:////skiff/host/addons/dev/mlflow/mlflow.db');
    expect(container.command).toContain('--artifacts-destination=/skiff/host');
    expect(container.command).toContain('--default-artifact-root=mlflow-artifacts:/addons/dev/mlflow/artifacts');
    expect(pod.volumes).toContainEqual({ name: 'mlflow-site', hostPath: { path: '/skiff/host/packages/abc/site', type: 'Directory' } });
    expect(pod.securityContext).toEqual({ runAsUser: 1000, runAsGroup: 1000 });
    expect(deployment.spec?.strategy?.type).toBe('Recreate');
    expect(deployment.metadata?.annotations).toMatchObject({ 'skiff.dev/mlflow-site': '/skiff/host/packages/abc/site', 'skiff.dev/addon-version': MLFLOW_VERSION });
  });

  it('answers on its Service under the names jobs, the API proxy and the local UI use, and nowhere else', () => {
    expect(service.spec?.ports).toEqual([{ name: 'http', port: 5000, targetPort: 'http', protocol: 'TCP' }]);
    expect(MLFLOW_TRACKING_URI).toBe('http://mlflow.skiff-addons.svc.cluster.local:5000');
    const hosts = container
      .command!.find((a) => a.startsWith('--allowed-hosts='))!
      .split('=')[1]
      .split(',');
    expect(hosts).toEqual(['mlflow.skiff-addons*', 'localhost', 'localhost:*', '127.0.0.1', '127.0.0.1:*', '10.*']);
    expect(container.readinessProbe?.httpGet?.path).toBe('/health');
  });
});

describe('a job on a cluster with MLflow', () => {
  const spec = parseTrainingSpec({ name: 'train', namespace: 'skiff', script: 'train.py', packages: ['tqdm'], env: { MLFLOW_EXPERIMENT_NAME: 'mine' } });
  const ws: Workspace = {
    hostDir: '/h/runs/x',
    nodeDir: '/skiff/host/runs/x',
    packagesNodeDir: '/skiff/host/packages/p/site',
    data: [],
    mlflow: { siteNodeDir: '/skiff/host/packages/m/site', experiment: 'train', tags: { 'skiff.job': 'train', 'skiff.run': '20261206-1' } },
  };

  it("gets MLflow's client after its own packages, the tracking URI and its run tags; a value the user set wins", () => {
    const env = jobEnv(spec, ws);
    expect(env).toContainEqual({ name: 'PYTHONPATH', value: `/skiff/lib:/skiff/packages:${MLFLOW_SITE_MOUNT}` });
    expect(env).toContainEqual({ name: 'MLFLOW_TRACKING_URI', value: MLFLOW_TRACKING_URI });
    expect(env).toContainEqual({ name: 'MLFLOW_RUN_CONTEXT', value: JSON.stringify({ 'skiff.job': 'train', 'skiff.run': '20261206-1' }) });
    // No git warnings, and no in-cluster URLs printed into the logs (describe gives the local links).
    expect(env).toContainEqual({ name: 'GIT_PYTHON_REFRESH', value: 'quiet' });
    expect(env).toContainEqual({ name: 'MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT', value: 'true' });
    // The user's --env MLFLOW_EXPERIMENT_NAME comes from the job's Secret; Skiff's does not shadow it.
    expect(env.filter((e) => e.name === 'MLFLOW_EXPERIMENT_NAME')).toHaveLength(1);
    expect(env.find((e) => e.name === 'MLFLOW_EXPERIMENT_NAME')?.valueFrom?.secretKeyRef).toBeDefined();
    expect(jobVolumes(spec, [], [], ws)).toContainEqual({ name: 'mlflow-site', hostPath: { path: '/skiff/host/packages/m/site', type: 'Directory' } });
    expect(jobVolumeMounts(spec, ws)).toContainEqual({ name: 'mlflow-site', mountPath: MLFLOW_SITE_MOUNT, readOnly: true });
  });

  it('logs into an experiment named after the job, with its namespace outside the default one', () => {
    expect(experimentNameFor('train', 'skiff', 'skiff')).toBe('train');
    expect(experimentNameFor('train', 'team-a', 'skiff')).toBe('team-a/train');
  });
});
