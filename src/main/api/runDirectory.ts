import { stat } from 'node:fs/promises';
import path from 'node:path';
import { StageBError } from '../../shared/errors';
import { assertPathSegment, resolveInsideRoots } from '../security/resolveInsideRoots';

export { RUN_FILES } from '../io/FsArtifactStore';

/**
 * `{runsRoot}/{runId}/{mission}` as a real path inside the runs root; both names
 * must be plain directory entries and the directory must exist.
 */
export async function resolveMissionDir(runsRoot: string, runId: string, mission: string): Promise<string> {
  assertPathSegment(runId, 'runId');
  assertPathSegment(mission, 'mission');
  const dir = await resolveInsideRoots([runsRoot], path.join(runId, mission));
  let isDir = false;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new StageBError('API_NOT_FOUND', `run ${runId} has no mission directory ${mission}`, { file: path.join(runId, mission) });
  return dir;
}

/** A file name inside a mission directory's sub-folder (snapshots/, reflection_cache/), confined to it. */
export async function resolveMissionFile(missionDir: string, folder: string, name: string, field: string): Promise<string> {
  assertPathSegment(name, field);
  return resolveInsideRoots([path.join(missionDir, folder)], name);
}
