// The job's image for the cloud: FROM its base image, with the code and Skiff's helper copied to the
// paths they are mounted at locally, so the user writes no Dockerfile. Built and pushed through the
// Docker engine (dockerode); registry credentials come from Docker's own config, never from Skiff.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { pack } from 'tar-stream';
import type { CodeFile } from '../types.js';
import { SkiffError } from '../errors.js';
import { CODE_MOUNT, LIB_MOUNT, libFilesInPackage } from '../manifests/code-bundle.js';
import { PACKAGES_MOUNT } from '../workspace/layout.js';

/** The Dockerfile of a promoted job: nothing but the base image and the two folders. */
export function promotedDockerfile(baseImage: string, withPackages = false): string {
  return [`FROM ${baseImage}`, `COPY code/ ${CODE_MOUNT}/`, `COPY lib/ ${LIB_MOUNT}/`, ...(withPackages ? [`COPY packages/ ${PACKAGES_MOUNT}/`] : []), ''].join('\n');
}

/** The build context as a tar stream: Dockerfile, code/…, lib/skiff/…. */
export function buildContext(baseImage: string, files: CodeFile[], libFiles: CodeFile[], packageFiles: CodeFile[] = []): NodeJS.ReadableStream {
  const tar = pack();
  tar.entry({ name: 'Dockerfile' }, promotedDockerfile(baseImage, packageFiles.length > 0));
  for (const f of files) tar.entry({ name: `code/${f.path}`, mode: 0o644 }, f.content);
  for (const f of packageFiles) tar.entry({ name: `packages/${f.path}`, mode: 0o644 }, f.content);
  for (const f of libFilesInPackage(libFiles)) tar.entry({ name: `lib/${f.path}`, mode: 0o644 }, f.content);
  tar.finalize();
  return tar as unknown as NodeJS.ReadableStream;
}

interface ProgressEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Follows a build or push stream to its end; the first `error` event rejects. */
function follow(docker: Docker, stream: NodeJS.ReadableStream, onProgress?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, events: ProgressEvent[]) => {
        const failed = events?.find((e) => e.error || e.errorDetail);
        if (err) reject(err);
        else if (failed) reject(new Error(failed.errorDetail?.message ?? failed.error));
        else resolve();
      },
      (e: ProgressEvent) => {
        const line = (e.stream ?? e.status ?? '').trim();
        if (line) onProgress?.(line);
      },
    );
  });
}

export async function buildImage(
  docker: Docker,
  tag: string,
  baseImage: string,
  files: CodeFile[],
  libFiles: CodeFile[],
  onProgress?: (line: string) => void,
  packageFiles: CodeFile[] = [],
): Promise<void> {
  try {
    const stream = await docker.buildImage(buildContext(baseImage, files, libFiles, packageFiles) as never, { t: tag, pull: false as never });
    await follow(docker, stream, onProgress);
  } catch (err) {
    throw new SkiffError('COMMAND_FAILED', `building the image ${tag} from ${baseImage} failed: ${(err as Error).message}`, {
      hint: `the base image must be present in this Docker engine (docker image inspect ${baseImage})`,
      cause: err,
    });
  }
}

/** The registry host of an image reference ("docker.io" when the first part is not a host). */
export function registryHost(ref: string): string {
  const first = ref.split('/')[0];
  return ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

type CredentialHelper = (helper: string, host: string) => Promise<{ Username: string; Secret: string } | undefined>;

/** Asks a docker-credential-* helper, as the docker CLI does (the secret never touches Skiff's files). */
const runCredentialHelper: CredentialHelper = (helper, host) =>
  new Promise((resolve) => {
    const child = execFile(`docker-credential-${helper}`, ['get'], { timeout: 10_000 }, (err, stdout) => {
      if (err) return resolve(undefined);
      try {
        resolve(JSON.parse(stdout) as { Username: string; Secret: string });
      } catch {
        resolve(undefined);
      }
    });
    child.stdin?.end(host);
  });

/** Credentials for `host` from Docker's config ($DOCKER_CONFIG or ~/.docker/config.json), if any. */
export async function dockerAuthFor(host: string, env: NodeJS.ProcessEnv = process.env, helper: CredentialHelper = runCredentialHelper): Promise<RegistryAuth | undefined> {
  const file = path.join(env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'), 'config.json');
  let config: { auths?: Record<string, { auth?: string }>; credsStore?: string; credHelpers?: Record<string, string> };
  try {
    config = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  const helperName = config.credHelpers?.[host] ?? config.credsStore;
  if (helperName) {
    const found = await helper(helperName, host);
    if (found) return { username: found.Username, password: found.Secret, serveraddress: host };
  }
  const entry = config.auths?.[host] ?? config.auths?.[`https://${host}`];
  if (!entry?.auth) return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress: host };
}

export async function pushImage(docker: Docker, ref: string, onProgress?: (line: string) => void): Promise<void> {
  const host = registryHost(ref);
  const auth = await dockerAuthFor(host);
  try {
    // The engine wants an X-Registry-Auth header even for a registry that needs none.
    const options: Docker.ImagePushOptions = { authconfig: (auth ?? {}) as Docker.AuthConfig };
    const stream = (await docker.getImage(ref).push(options)) as NodeJS.ReadableStream;
    await follow(docker, stream, onProgress);
  } catch (err) {
    const message = (err as Error).message;
    const refused = /connection refused|no such host|dial tcp|i\/o timeout|server gave HTTP response to HTTPS/i.test(message);
    const denied = /denied|unauthorized|authentication required|forbidden/i.test(message);
    throw new SkiffError('REGISTRY_FAILED', `pushing ${ref} to ${host} failed: ${message}`, {
      hint: refused
        ? `is the registry ${host} running and reachable from this machine? (check the target profile's registry)`
        : denied
          ? `log in first (docker login ${host}); Skiff uses Docker's credentials`
          : `check that ${host} accepts pushes of ${ref}`,
      cause: err,
    });
  }
}
