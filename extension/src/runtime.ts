// @skiff/runtime (Kubernetes client, Docker client, kind) is most of the bundle. It loads on first
// use, in its own chunk, so activating the extension costs the editor almost nothing.
export type Runtime = typeof import('@skiff/runtime');

let loading: Promise<Runtime> | undefined;

export function runtime(): Promise<Runtime> {
  return (loading ??= import(/* webpackChunkName: "runtime" */ '@skiff/runtime'));
}
