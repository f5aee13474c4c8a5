// The operator forms of a promoted job, for targets that run Kubeflow Trainer or KServe: the
// already-remapped Job becomes a PyTorchJob, the Deployment an InferenceService in KServe's raw
// (plain Deployment) mode. Pure, so the diff a user reviews is exactly what gets applied.
import type { V1Container, V1Deployment, V1EnvVar, V1Job, V1PodSpec } from '@kubernetes/client-node';
import type { ServingJobSpec, TrainingJobSpec } from '../spec/job-spec.js';
import { INFERENCE_SERVICE, PYTORCH_JOB, apiVersionOf, type InferenceService, type PyTorchJob } from '../jobs/operator-kinds.js';
import { RANK_FIELD_PATH } from '../manifests/training.js';

export type WorkloadForm = 'kubernetes' | 'kubeflow' | 'kserve';

/** What the target serves, as far as promotion cares. */
export interface TargetApis {
  pytorchJob: boolean;
  inferenceService: boolean;
}

/** The operator's form when the target has it and the profile allows it, plain Kubernetes otherwise. */
export function chooseForm(kind: 'training' | 'serving', apis: TargetApis, preference: 'auto' | 'kubernetes'): WorkloadForm {
  if (preference === 'kubernetes') return 'kubernetes';
  if (kind === 'training') return apis.pytorchJob ? 'kubeflow' : 'kubernetes';
  return apis.inferenceService ? 'kserve' : 'kubernetes';
}

/** The training operator requires this container name and reads MASTER_PORT from this port name. */
export const PYTORCH_CONTAINER = 'pytorch';
export const PYTORCH_PORT_NAME = 'pytorchjob-port';
/**
 * The operator sets these itself, from its own Services; copies would contradict it. The other
 * rank variables read the Indexed Job's completion index, which the operator's pods do not have.
 */
const OPERATOR_ENV = new Set(['MASTER_ADDR', 'MASTER_PORT', 'WORLD_SIZE', 'RANK']);
const fromJobIndex = (e: V1EnvVar) => e.valueFrom?.fieldRef?.fieldPath === RANK_FIELD_PATH;

/** Rank 0 is the Master replica, the other ranks are Workers, all from the Job's pod template. */
export function pytorchJobOf(job: V1Job, spec: TrainingJobSpec): PyTorchJob {
  const template = structuredClone(job.spec!.template);
  const pod: V1PodSpec = { ...template.spec! };
  // The operator names its pods and gives them Services itself; the Indexed Job's DNS is not needed.
  delete pod.subdomain;
  delete pod.restartPolicy;
  const [main, ...sidecars] = pod.containers;
  const container: V1Container = {
    ...main,
    name: PYTORCH_CONTAINER,
    env: main.env?.filter((e) => !OPERATOR_ENV.has(e.name) && !fromJobIndex(e)),
    ports: [{ name: PYTORCH_PORT_NAME, containerPort: spec.masterPort, protocol: 'TCP' }],
  };
  pod.containers = [container, ...sidecars];
  // Each replica its own copy: the two templates are separate fields of the object, not one shared value.
  const replica = (replicas: number) => ({ replicas, restartPolicy: 'Never', template: structuredClone({ metadata: template.metadata, spec: pod }) });
  return {
    apiVersion: apiVersionOf(PYTORCH_JOB),
    kind: PYTORCH_JOB.kind,
    metadata: job.metadata,
    spec: {
      // As locally: one failed rank fails the job; pods stay so their logs can be read.
      runPolicy: { backoffLimit: job.spec?.backoffLimit ?? 0, cleanPodPolicy: 'None' },
      pytorchReplicaSpecs: { Master: replica(1), ...(spec.workers > 1 ? { Worker: replica(spec.workers - 1) } : {}) },
    },
  };
}

export const KSERVE_DEPLOYMENT_MODE = 'serving.kserve.io/deploymentMode';
export const KSERVE_CONTAINER = 'kserve-container';

/** A custom-container predictor with the Deployment's pod spec, at a fixed replica count. */
export function inferenceServiceOf(deployment: V1Deployment, spec: ServingJobSpec): InferenceService {
  const template = structuredClone(deployment.spec!.template);
  const { containers, ...pod } = template.spec!;
  const [main, ...sidecars] = containers;
  return {
    apiVersion: apiVersionOf(INFERENCE_SERVICE),
    kind: INFERENCE_SERVICE.kind,
    metadata: {
      ...deployment.metadata,
      // Raw mode: a Deployment and a Service, no Knative or Istio needed on the target.
      annotations: { ...deployment.metadata?.annotations, [KSERVE_DEPLOYMENT_MODE]: 'RawDeployment' },
    },
    spec: {
      predictor: {
        ...pod,
        minReplicas: spec.replicas,
        maxReplicas: spec.replicas,
        // The pods carry Skiff's labels so logs and metrics find them as they do locally.
        labels: template.metadata?.labels,
        annotations: template.metadata?.annotations,
        containers: [{ ...main, name: KSERVE_CONTAINER }, ...sidecars],
      },
    },
  };
}
