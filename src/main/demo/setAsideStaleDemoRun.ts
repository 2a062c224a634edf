import { access, rename } from 'node:fs/promises';
import { hashConfig, runDirectoryOf } from '../composeStageBRun';
import { FsArtifactStore } from '../io/FsArtifactStore';
import type { RunConfig } from '../../shared/schemas/runConfig';

/**
 * `stageb demo` after an upgrade: a new config key with a default changes the
 * demo config's hash, and the run directory left by the previous version would
 * refuse the run (RUN_DIR_CONFLICT). The demo's outputs are regenerable, but
 * nothing is deleted: the old directory is renamed next to itself. Other runs
 * keep the refusal. Returns the new location, or null when nothing was moved.
 */
export async function setAsideStaleDemoRun(config: RunConfig): Promise<string | null> {
  const runDir = runDirectoryOf(config);
  const manifest = await new FsArtifactStore(runDir).readManifest();
  if (!manifest || manifest.config_hash === hashConfig(config)) return null;
  let target = `${runDir}.previous-${manifest.config_hash.slice(0, 12)}`;
  if (await access(target).then(() => true, () => false)) target = `${target}-${Date.now()}`;
  await rename(runDir, target);
  return target;
}
