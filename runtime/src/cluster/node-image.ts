// Which node image a new cluster boots: the one asked for, else whatever works offline first
// (Skiff's own build, a local upstream image), then the network, then building it.
import type Dockerode from 'dockerode';
import { buildImages, imageExists } from '../images/images.js';
import { OFFLINE_NODE_IMAGE, UPSTREAM_NODE_IMAGE } from '../exec/tools.js';

/** A pull that has not started streaming by then is stuck (no route, DNS): build instead. */
const PULL_START_TIMEOUT_MS = 60_000;

export interface NodeImageDeps {
  docker: Dockerode;
  buildImages?: typeof buildImages;
  pullImage?: (docker: Dockerode, ref: string, onProgress: (msg: string) => void) => Promise<void>;
}

export async function chooseNodeImage(requested: string | undefined, deps: NodeImageDeps, onProgress: (msg: string) => void): Promise<string> {
  if (requested) return requested;
  const { docker } = deps;
  if (await imageExists(docker, OFFLINE_NODE_IMAGE)) return OFFLINE_NODE_IMAGE;
  if (await imageExists(docker, UPSTREAM_NODE_IMAGE)) return UPSTREAM_NODE_IMAGE;
  onProgress(`pulling ${UPSTREAM_NODE_IMAGE}`);
  try {
    await (deps.pullImage ?? pullImage)(docker, UPSTREAM_NODE_IMAGE, onProgress);
    return UPSTREAM_NODE_IMAGE;
  } catch (err) {
    onProgress(`could not pull ${UPSTREAM_NODE_IMAGE} (${(err instanceof Error ? err.message : String(err)).trim()}); building ${OFFLINE_NODE_IMAGE} instead, once`);
  }
  await (deps.buildImages ?? buildImages)('node', onProgress);
  return OFFLINE_NODE_IMAGE;
}

/** `docker pull` through the engine API, reporting the engine's summary lines (not every layer). */
export async function pullImage(docker: Dockerode, ref: string, onProgress: (msg: string) => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${PULL_START_TIMEOUT_MS / 1000}s`)), PULL_START_TIMEOUT_MS);
  });
  let stream: NodeJS.ReadableStream;
  try {
    stream = await Promise.race([docker.pull(ref), stuck]);
  } finally {
    clearTimeout(timer);
  }
  // The engine reports a failed pull inside the stream ({"error": …}), not as a stream error.
  let failure: string | undefined;
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err) => (err ? reject(err) : resolve()),
      (event: { status?: string; id?: string; error?: string }) => {
        if (event.error) failure = event.error;
        else if (event.status && !event.id) onProgress(event.status);
      },
    );
  });
  if (failure) throw new Error(failure);
}
