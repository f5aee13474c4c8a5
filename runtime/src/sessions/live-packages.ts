// `%pip install` in a running notebook session, as in a Jupyter kernel: the notebook's packages and
// the new ones are resolved on the host as one set (as a restart would install them, so a restart
// finds it cached), and each rank puts that set's site folder on its sys.path before the cell runs.
// The ranks see every set read-only (PACKAGE_SETS_MOUNT); modules a cell imported before stay the
// ones loaded, as after a live `%pip` in Jupyter.
import path from 'node:path';
import type { NotebookSessionInfo } from '../types.js';
import { packagesRoot, resolvePackages, type ResolvedPackages } from '../packages/install.js';
import { mergeRequirements } from '../packages/sources.js';
import { PACKAGE_SETS_MOUNT, type SharedFolders } from '../workspace/layout.js';
import { packagesNeedRestart } from './notebook.js';

export interface LivePackageSet {
  resolved: ResolvedPackages;
  /** The set's site folder inside the ranks. */
  rankPath: string;
}

/**
 * The package set of the session's packages plus `missing`, resolved for its image. `shared`: the
 * local cluster's shared folders (absent on another context, whose ranks cannot see this machine).
 */
export async function livePackageSet(
  info: NotebookSessionInfo,
  missing: string[],
  shared: SharedFolders | undefined,
  onProgress?: (line: string) => void,
): Promise<LivePackageSet> {
  if (!shared) throw packagesNeedRestart(missing, 'its ranks run on a cluster that cannot see this machine');
  if (!info.livePackages || !info.image) throw packagesNeedRestart(missing, 'it was started by an older Skiff, whose ranks cannot take packages while they run');
  const resolved = await resolvePackages(mergeRequirements(info.packages ?? [], missing), { dataRoot: shared.data, image: info.image, onProgress });
  const relative = path.relative(packagesRoot(shared.data), resolved.siteDir).split(path.sep).join('/');
  return { resolved, rankPath: path.posix.join(PACKAGE_SETS_MOUNT, relative) };
}
