// The Cloud Native AI stack's pieces a local cluster can have, each one flag away (`skiff up --with
// mlflow`), installed offline like everything else and added to a running cluster the same way.
import type { KubeConfig } from '@kubernetes/client-node';
import { SkiffError } from '../errors.js';
import { ADDONS, type AddonName } from '../types.js';
import { installKueue } from './kueue.js';
import { installMlflow, type InstallOptions } from './mlflow.js';
import { installPrometheus } from './prometheus.js';

const INSTALLERS: Record<AddonName, (kc: KubeConfig, opts: InstallOptions) => Promise<void>> = {
  mlflow: installMlflow,
  prometheus: installPrometheus,
  kueue: installKueue,
};

/** The add-ons asked for, each known, in the order given, without repeats. */
export function addonsFrom(names: readonly string[]): AddonName[] {
  const unknown = names.filter((n) => !(ADDONS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new SkiffError('BAD_INPUT', `unknown add-on${unknown.length === 1 ? '' : 's'} ${unknown.map((n) => `'${n}'`).join(', ')}`, {
      hint: `--with takes ${ADDONS.join(', ')} (comma-separated)`,
    });
  }
  return [...new Set(names as AddonName[])];
}

export async function installAddons(kc: KubeConfig, addons: readonly AddonName[], opts: InstallOptions): Promise<void> {
  for (const addon of addons) await INSTALLERS[addon](kc, opts);
}
