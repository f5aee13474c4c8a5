import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROMETHEUS_IMAGE, prometheusConfig, prometheusManifests } from './prometheus.js';
import { METRICS_PORT, type Workspace } from './code-bundle.js';
import { trainingManifests } from './training.js';
import { servingManifests } from './serving.js';
import { parseServingSpec, parseTrainingSpec } from '../spec/job-spec.js';

describe('the Prometheus server', () => {
  const m = prometheusManifests({ cluster: 'dev', runAs: { uid: 1000, gid: 1000 } });
  const pod = m.deployment.spec!.template.spec!;
  const container = pod.containers[0];

  it('runs the offline-built image with its store in the data folder, as the host user, one at a time', () => {
    expect(container.image).toBe(PROMETHEUS_IMAGE);
    expect(container.args).toContain('--storage.tsdb.path=/skiff/host/addons/dev/prometheus');
    expect(pod.volumes).toContainEqual({ name: 'store', hostPath: { path: '/skiff/host/addons/dev/prometheus', type: 'Directory' } });
    expect(pod.securityContext).toEqual({ runAsUser: 1000, runAsGroup: 1000 });
    expect(m.deployment.spec?.strategy?.type).toBe('Recreate');
    expect(container.readinessProbe?.httpGet?.path).toBe('/-/ready');
    expect(m.service.metadata?.namespace).toBe('skiff-addons');
    expect(m.service.spec?.ports).toEqual([{ name: 'http', port: 9090, targetPort: 'http', protocol: 'TCP' }]);
  });

  it('as root where the host user is root, and may only read pods', () => {
    expect(prometheusManifests({ cluster: 'dev' }).deployment.spec!.template.spec!.securityContext).toEqual({ runAsUser: 0 });
    expect(m.clusterRole.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
    expect(m.clusterRoleBinding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'prometheus', namespace: 'skiff-addons' }]);
    expect(pod.serviceAccountName).toBe('prometheus');
  });

  it("scrapes Skiff's running pods on the launcher's port every 2 s, labelled with job, namespace, pod and rank", () => {
    const config = parse(m.config.data!['prometheus.yml']) as ReturnType<typeof prometheusConfig>;
    expect(config).toEqual(prometheusConfig());
    const job = (config.scrape_configs as Record<string, unknown>[])[0];
    expect((config.global as Record<string, string>).scrape_interval).toBe('2s');
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod', selectors: [{ role: 'pod', label: 'app.kubernetes.io/managed-by=skiff' }] }]);
    expect(job.relabel_configs).toEqual([
      { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: 'skiff-metrics', action: 'keep' },
      { source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Running', action: 'keep' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_pod_label_skiff_dev_job'], target_label: 'skiff_job' },
      { source_labels: ['__meta_kubernetes_pod_label_batch_kubernetes_io_job_completion_index'], regex: '(.+)', target_label: 'rank' },
    ]);
  });

  it('rolls the server when its config changes', () => {
    expect(m.deployment.spec!.template.metadata?.annotations?.['skiff.dev/config']).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("a job's pods on a cluster with Prometheus", () => {
  const ws: Workspace = { hostDir: '/h/runs/x', nodeDir: '/skiff/host/runs/x', logsNodeDir: '/skiff/host/runs/x/.skiff/logs', data: [], metrics: true };
  const container = (spec = parseTrainingSpec({ name: 'train', script: 'train.py', workers: 2 }), w = ws) =>
    trainingManifests(spec, [], [], {}, w).job.spec!.template.spec!.containers[0];
  const port = { name: 'skiff-metrics', containerPort: METRICS_PORT, protocol: 'TCP' };
  const env = { name: 'SKIFF_METRICS_PORT', value: String(METRICS_PORT) };

  it('serve their metrics from the launcher on a named port, training and serving alike', () => {
    expect(container().ports).toContainEqual(port);
    expect(container().env).toContainEqual(env);
    const serving = servingManifests(parseServingSpec({ name: 'api', script: 'app.py' }), [], [], {}, ws).deployment.spec!.template.spec!.containers[0];
    expect(serving.ports).toContainEqual(port);
    expect(serving.env).toContainEqual(env);
  });

  it("serve nothing without Prometheus; a notebook session's ranks serve theirs from the agent that runs the cells", () => {
    expect(container(undefined, { ...ws, metrics: false }).ports).not.toContainEqual(port);
    expect(container(undefined, { ...ws, metrics: false }).env).not.toContainEqual(env);
    const session = parseTrainingSpec({ name: 'nb', script: 'agent', session: { idleMinutes: 30 } });
    expect(container(session).ports).toContainEqual(port);
    expect(container(session).env).toContainEqual(env);
    expect(container(session, { ...ws, metrics: false }).ports).not.toContainEqual(port);
  });
});
