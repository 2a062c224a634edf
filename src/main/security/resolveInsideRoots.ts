import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { StageBError } from '../../shared/errors';

function forbidden(requested: string, why: string): StageBError {
  return new StageBError('API_FORBIDDEN', `path ${JSON.stringify(requested)} refused: ${why}`, { field: 'path' });
}

/** Nearest existing ancestor's realpath + the not-yet-existing remainder (for files about to be created). */
async function realpathAllowingMissing(target: string): Promise<string> {
  const missing: string[] = [];
  let current = target;
  for (;;) {
    try {
      const real = await realpath(current);
      return missing.length ? path.join(real, ...missing.reverse()) : real;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const parent = path.dirname(current);
      if (parent === current) throw error;
      missing.push(path.basename(current));
      current = parent;
    }
  }
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * Resolves `requested` (relative to the first root, or absolute) and returns its
 * real path only if it lies inside one of `roots` after following symlinks.
 * Refuses NUL bytes, '..' segments (also percent-encoded ones), and anything
 * that lands outside the roots. Files that do not exist yet are allowed when
 * their nearest existing parent is inside.
 */
export async function resolveInsideRoots(roots: readonly string[], requested: string): Promise<string> {
  if (typeof requested !== 'string' || requested.length === 0) throw forbidden(String(requested), 'empty path');
  if (requested.includes('\0')) throw forbidden(requested, 'NUL byte');
  let decoded = requested;
  try {
    decoded = decodeURIComponent(requested);
  } catch {
    throw forbidden(requested, 'malformed percent-encoding');
  }
  for (const form of [requested, decoded]) {
    if (form.includes('\0')) throw forbidden(requested, 'NUL byte');
    if (form.split(/[\\/]+/).includes('..')) throw forbidden(requested, "'..' segment");
  }
  if (roots.length === 0) throw forbidden(requested, 'no root configured');
  const realRoots = await Promise.all(roots.map((root) => realpath(path.resolve(root))));
  const candidate = path.isAbsolute(requested) ? path.resolve(requested) : path.resolve(realRoots[0], requested);
  let real: string;
  try {
    real = await realpathAllowingMissing(candidate);
  } catch (error) {
    throw forbidden(requested, `cannot resolve (${(error as Error).message})`);
  }
  if (!realRoots.some((root) => isInside(root, real))) throw forbidden(requested, 'outside the configured roots');
  return real;
}

/** A single directory-entry name: no separators, no NUL, not '.' or '..'. */
export function assertPathSegment(value: string, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255 || /[\\/\0]/.test(value) || value === '.' || value === '..') {
    throw new StageBError('API_FORBIDDEN', `${field} ${JSON.stringify(value)} is not a plain name`, { field });
  }
  return value;
}
