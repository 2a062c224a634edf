import * as fsp from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { StageBError, type ErrorCode } from '../../shared/errors';
import { isProcessAlive } from './isProcessAlive';

/**
 * A lock file shared by processes on one machine (the engine host, the workbench main
 * process, a CLI): `<target>.lock` holding `{pid, hostname, token, created_at}`.
 *
 * Creation is exclusive and all-or-nothing: the content is written to a private
 * pending file which is then hard-linked to the lock name (link fails with EEXIST
 * when the lock exists, exactly like O_EXCL, but a crash can never leave a lock file
 * without its owner's pid in it). A lock whose pid is dead (same host) or that is
 * older than `staleAfterMs` is broken; breaking renames the lock away first and
 * checks that it took the stale one, so two waiters cannot both break and both win.
 */
export type FileLockHolder = { pid: number; hostname: string; token: string; created_at: string };

export type FileLockOptions = {
  /** How long to wait for a live holder before giving up. */
  timeoutMs?: number;
  /** A lock older than this is broken even if its pid looks alive (pid reuse, other host). */
  staleAfterMs?: number;
  /** The code thrown when the wait runs out. */
  lockedCode?: ErrorCode;
  /** Called when a stale lock is broken (for logs). */
  onBreak?: (holder: FileLockHolder | null, lockPath: string) => void;
};

export type FileLock = {
  readonly lockPath: string;
  readonly token: string;
  release(): Promise<void>;
};

const DEFAULTS = { timeoutMs: 10_000, staleAfterMs: 60_000 };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function ioFailure(lockPath: string, error: unknown): StageBError {
  const code = errnoOf(error) ?? 'unknown error';
  return new StageBError('IO_WRITE_FAILED', `cannot create lock file ${lockPath}: ${code} (${(error as Error).message})`, { file: lockPath });
}

async function readHolder(lockPath: string): Promise<{ holder: FileLockHolder | null; ageMs: number } | 'missing'> {
  try {
    const [text, stat] = await Promise.all([fsp.readFile(lockPath, 'utf8'), fsp.stat(lockPath)]);
    let holder: FileLockHolder | null = null;
    try {
      const parsed = JSON.parse(text) as Partial<FileLockHolder>;
      if (typeof parsed.pid === 'number' && typeof parsed.token === 'string') holder = parsed as FileLockHolder;
    } catch {
      holder = null;
    }
    return { holder, ageMs: Date.now() - stat.mtimeMs };
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return 'missing';
    throw error;
  }
}

function isStale(observed: { holder: FileLockHolder | null; ageMs: number }, staleAfterMs: number): boolean {
  if (observed.ageMs > staleAfterMs) return true;
  const { holder } = observed;
  // Unreadable content cannot come from this module (content is complete before the
  // link); treat it like a foreign lock and let it age out.
  if (!holder) return false;
  if (holder.hostname !== hostname()) return false;
  return !isProcessAlive(holder.pid);
}

/** Takes the stale lock away iff it is still the one observed; true when it was removed. */
async function breakStaleLock(lockPath: string, observed: FileLockHolder | null): Promise<boolean> {
  const grave = `${lockPath}.broken.${process.pid}.${randomBytes(6).toString('hex')}`;
  try {
    await fsp.rename(lockPath, grave);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return false;
    throw error;
  }
  let taken: FileLockHolder | null = null;
  try {
    taken = JSON.parse(await fsp.readFile(grave, 'utf8')) as FileLockHolder;
  } catch {
    taken = null;
  }
  if (observed !== null && taken?.token !== observed.token) {
    // We moved a lock that a live writer took after we looked: put it back.
    await fsp.link(grave, lockPath).catch(() => undefined);
    await fsp.unlink(grave).catch(() => undefined);
    return false;
  }
  await fsp.unlink(grave).catch(() => undefined);
  return true;
}

/** Removes pending and broken leftovers of processes that died while taking or breaking this lock. */
async function removeLeftovers(lockPath: string): Promise<void> {
  const dir = path.dirname(lockPath);
  const base = path.basename(lockPath);
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  const pattern = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(?:pending|broken)\\.(\\d+)\\.[0-9a-f]+$`);
  await Promise.all(
    names.map(async (name) => {
      const match = pattern.exec(name);
      if (!match) return;
      const pid = Number(match[1]);
      // Our own process may have other acquirers waiting with pending files of their own.
      if (isProcessAlive(pid)) return;
      await fsp.unlink(path.join(dir, name)).catch(() => undefined);
    }),
  );
}

export async function acquireFileLock(lockPath: string, options: FileLockOptions = {}): Promise<FileLock> {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const staleAfterMs = options.staleAfterMs ?? DEFAULTS.staleAfterMs;
  const token = randomBytes(12).toString('hex');
  const holder: FileLockHolder = { pid: process.pid, hostname: hostname(), token, created_at: new Date().toISOString() };
  const pending = `${lockPath}.pending.${process.pid}.${token}`;
  try {
    await fsp.writeFile(pending, JSON.stringify(holder), { flag: 'wx' });
  } catch (error) {
    // writeFile creates the file before it writes: on ENOSPC an empty pending file would
    // stay behind, and removeLeftovers spares it while this process lives.
    await fsp.unlink(pending).catch(() => undefined);
    throw ioFailure(lockPath, error);
  }

  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  let lastSeen: FileLockHolder | null = null;
  try {
    for (;;) {
      try {
        await fsp.link(pending, lockPath);
        break;
      } catch (error) {
        if (errnoOf(error) !== 'EEXIST') throw ioFailure(lockPath, error);
      }
      const observed = await readHolder(lockPath);
      if (observed === 'missing') continue;
      lastSeen = observed.holder;
      if (isStale(observed, staleAfterMs)) {
        if (await breakStaleLock(lockPath, observed.holder)) options.onBreak?.(observed.holder, lockPath);
        continue;
      }
      if (Date.now() >= deadline) {
        const who = lastSeen ? `pid ${lastSeen.pid} on ${lastSeen.hostname} since ${lastSeen.created_at}` : 'an unknown holder';
        throw new StageBError(
          options.lockedCode ?? 'GUIDANCE_LOCKED',
          `${lockPath} is held by ${who}; gave up after ${timeoutMs} ms. Delete the lock file if that process is gone.`,
          { file: lockPath },
          { holder: lastSeen },
        );
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 25);
    }
  } finally {
    await fsp.unlink(pending).catch(() => undefined);
  }
  await removeLeftovers(lockPath);

  let released = false;
  return {
    lockPath,
    token,
    async release() {
      if (released) return;
      released = true;
      // Only remove the lock if it is still ours (someone may have broken it as stale).
      const current = await readHolder(lockPath).catch(() => 'missing' as const);
      if (current !== 'missing' && current.holder?.token === token) await fsp.unlink(lockPath).catch(() => undefined);
    },
  };
}

export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const lock = await acquireFileLock(lockPath, options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
