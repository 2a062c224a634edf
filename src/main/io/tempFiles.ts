import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { isProcessAlive } from './isProcessAlive';

/**
 * The private temp files of atomic writes (write tmp, fsync, rename or link). A process
 * killed between creating its temp file and renaming it leaves the file behind; these
 * helpers name temp files so that such leftovers can be recognised later — by the name
 * of the file they were meant to replace and the pid of their writer — and removed
 * without ever touching a file that is not one of ours.
 *
 * Name: `.<target basename>.tmp-<pid>-<hex>`, in the target's own folder (a rename
 * across folders would not be atomic).
 */
const TEMP_NAME = /^\.(.+)\.tmp-(\d+)-([0-9a-f]{8,32})$/;
/** The guidance repository's earlier name for the same thing: `.<target>.<pid>.<hex12>.tmp`. */
const LEGACY_GUIDANCE_TEMP_NAME = /^\.(.+)\.(\d+)\.([0-9a-f]{12})\.tmp$/;

/** Temp files this process is writing now (absolute paths): a sweep in this process must spare them. */
const inFlight = new Set<string>();

export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** Marks a temp path as being written by this process until `release` is called. */
export function holdTempPath(tmp: string): { release(): void } {
  const absolute = path.resolve(tmp);
  inFlight.add(absolute);
  return { release: () => inFlight.delete(absolute) };
}

/** The target basename and writer pid of a temp file name of ours; null for any other name. */
export function parseTempName(name: string): { target: string; pid: number } | null {
  const match = TEMP_NAME.exec(name) ?? LEGACY_GUIDANCE_TEMP_NAME.exec(name);
  if (!match) return null;
  const pid = Number(match[2]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  return { target: match[1], pid };
}

/**
 * Whether a temp file was left by a write that can no longer finish: its writer is dead, or
 * it is this process (a pid reused after a crash) and no write of this process holds it.
 * A temp file of another live process is spared: that process is still writing it.
 */
function isLeftover(file: string, pid: number): boolean {
  if (pid === process.pid) return !inFlight.has(path.resolve(file));
  return !isProcessAlive(pid);
}

export type RemoveTempFilesOptions = {
  /** Only temp files meant to replace a target accepted here (its basename) are removed. Default: any. */
  targets?: (basename: string) => boolean;
};

/**
 * Removes the leftover temp files of interrupted writes in `dir` (not recursive). Only
 * names of our own temp pattern are considered, and only those whose writer can no longer
 * finish. Returns the paths removed. A missing folder has nothing to remove.
 */
export async function removeLeftoverTempFiles(dir: string, options: RemoveTempFilesOptions = {}): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const parsed = parseTempName(entry.name);
    if (!parsed) continue;
    if (options.targets && !options.targets(parsed.target)) continue;
    const file = path.join(dir, entry.name);
    if (!isLeftover(file, parsed.pid)) continue;
    try {
      await fsp.unlink(file);
      removed.push(file);
    } catch {
      // Removed meanwhile by another sweeper, or not ours to remove (permissions): leave it.
    }
  }
  return removed;
}
