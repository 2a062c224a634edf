import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StageBError } from '../../shared/errors';
import { acquireFileLock, withFileLock } from './fileLock';

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'file-lock-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const DEAD_PID = 2 ** 22 + 4321;

describe('fileLock', () => {
  it('serialises read-modify-write sections of concurrent holders', async () => {
    const lockPath = path.join(dir, 'counter.lock');
    const counter = path.join(dir, 'counter');
    await fsp.writeFile(counter, '0');
    const bump = () =>
      withFileLock(lockPath, async () => {
        const value = Number(await fsp.readFile(counter, 'utf8'));
        await new Promise((resolve) => setImmediate(resolve));
        await fsp.writeFile(counter, String(value + 1));
      });
    await Promise.all(Array.from({ length: 40 }, bump));
    expect(await fsp.readFile(counter, 'utf8')).toBe('40');
    expect(await fsp.readdir(dir)).toEqual(['counter']);
  });

  it('writes its holder into the lock and removes only its own lock on release', async () => {
    const lockPath = path.join(dir, 'x.lock');
    const lock = await acquireFileLock(lockPath);
    const holder = JSON.parse(await fsp.readFile(lockPath, 'utf8'));
    expect(holder).toMatchObject({ pid: process.pid, hostname: os.hostname(), token: lock.token });
    // Someone broke our lock and took it: releasing must not remove theirs.
    await fsp.writeFile(lockPath, JSON.stringify({ ...holder, token: 'theirs' }));
    await lock.release();
    expect(JSON.parse(await fsp.readFile(lockPath, 'utf8')).token).toBe('theirs');
  });

  it('breaks a lock whose process is dead, and removes dead pending files', async () => {
    const lockPath = path.join(dir, 'x.lock');
    await fsp.writeFile(lockPath, JSON.stringify({ pid: DEAD_PID, hostname: os.hostname(), token: 'dead', created_at: 'x' }));
    await fsp.writeFile(`${lockPath}.pending.${DEAD_PID}.abcdef`, '{}');
    const broken: unknown[] = [];
    const lock = await acquireFileLock(lockPath, { timeoutMs: 100, onBreak: (holder) => broken.push(holder) });
    expect(broken).toEqual([expect.objectContaining({ token: 'dead' })]);
    await lock.release();
    expect(await fsp.readdir(dir)).toEqual([]);
  });

  it('breaks an old lock even when its pid looks alive, and waits then fails on a fresh live one', async () => {
    const lockPath = path.join(dir, 'x.lock');
    const live = { pid: process.ppid, hostname: os.hostname(), token: 'live', created_at: 'x' };
    await fsp.writeFile(lockPath, JSON.stringify(live));
    const error = await acquireFileLock(lockPath, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StageBError);
    expect((error as StageBError).code).toBe('GUIDANCE_LOCKED');
    expect((error as StageBError).location.file).toBe(lockPath);
    const old = new Date(Date.now() - 120_000);
    await fsp.utimes(lockPath, old, old);
    const lock = await acquireFileLock(lockPath, { timeoutMs: 50, staleAfterMs: 60_000 });
    expect(JSON.parse(await fsp.readFile(lockPath, 'utf8')).token).toBe(lock.token);
    await lock.release();
  });

  it('reports a directory it cannot create the lock in as IO_WRITE_FAILED', async () => {
    const error = await acquireFileLock(path.join(dir, 'missing', 'x.lock')).catch((e: unknown) => e);
    expect((error as StageBError).code).toBe('IO_WRITE_FAILED');
  });
});
