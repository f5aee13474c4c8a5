// What Skiff needs from a local cluster tool, kept as small as kind's own provider interface so
// another tool (k3d, minikube) could stand in without touching the rest: everything that is the
// tool's own (its CLI, its kube context names, the labels on its node containers) lives behind it.
import type { ClusterOptions } from '../types.js';

export interface ClusterProvider {
  readonly name: string;
  /** The Docker label the tool puts on every node container, its value the cluster's name. */
  readonly clusterLabel: string;
  /** The kubeconfig context the tool writes for a cluster. */
  contextName(cluster: string): string;
  /** Creates the cluster and returns once its containers run (nodes may not be Ready yet). */
  create(opts: ClusterOptions, onProgress?: (msg: string) => void): Promise<void>;
  /**
   * Starts the cluster's stopped node containers (after a Docker engine restart, or a node stopped
   * by hand) and puts back whatever the nodes lost with their restart, so jobs run as before.
   */
  start(name: string, onProgress?: (msg: string) => void): Promise<void>;
  /** False when running nodes lack what Skiff set up on them (their containers restarted on their own). */
  intact(name: string): Promise<boolean>;
  /**
   * Why a cluster whose API server does not answer cannot come back by itself, in one phrase, or
   * undefined when waiting may help.
   */
  beyondRepair(name: string): Promise<string | undefined>;
  /** Deletes the cluster and its kube context; succeeds when there is nothing to delete. */
  delete(name: string): Promise<void>;
  list(): Promise<string[]>;
  /** The cluster's kubeconfig as YAML. */
  kubeconfig(name: string): Promise<string>;
  /** Imports an image archive (`docker save` format) onto the nodes that run jobs. */
  loadImageArchive(name: string, archive: string, onProgress?: (msg: string) => void): Promise<void>;
  /** Whether a node's container runtime holds the image (the kubelet's list in node status lags a load by up to a minute). */
  nodeHasImage(node: string, image: string): Promise<boolean>;
  /** Docker container names of the cluster's nodes. */
  nodeContainers(name: string): Promise<string[]>;
}
