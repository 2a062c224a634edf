import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendJsonl, writeJsonAtomic, type JsonlFileIo } from '../../src/main/io/jsonl';
import { GuidanceRepository } from '../../src/main/io/GuidanceRepository';
import { StageBError } from '../../src/shared/errors';
import { FAULT_MISSION, attemptWrites, setupWriteTargets, snapshotTree, type WriteAttempt } from '../fixtures/reliability/diskFaultWriters';
import { prepareChildScript } from '../main/io/childScript';
import { spawnChild } from './crashRunSupport';

/**
 * Disk faults during writes (issue §4): a REAL full disk (ENOSPC on a small tmpfs), a
 * REAL read-only filesystem (EROFS, the tmpfs remounted ro) and a directory the process
 * may not write (EACCES, a child running as `nobody`). Every writer of a run directory
 * — guidance (GuidanceRepository), JSONL append, atomic JSON, export (jsonl and parquet),
 * distill — must fail with IO_WRITE_FAILED naming the target path, leave every existing
 * file byte-for-byte as it was, leave no new file (tmp, lock, half export) behind, and
 * never change the guidance. The mount needs root with CAP_SYS_ADMIN; the nobody child
 * needs root and setpriv: each part is skipped with a message where that is missing.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const results: Record<string, number> = {};

let mountPoint: string | null = null;
let mountError = '';

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: 'pipe' });
}

beforeAll(async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stageb-diskfault-'));
  try {
    // 512 KiB: room for the targets, not for the ~66 KB payloads once the ballast is in.
    sh('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', dir]);
    mountPoint = dir;
  } catch (error) {
    mountError = (error as Error).message.split('\n')[0];
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

afterAll(async () => {
  if (mountPoint) {
    try {
      sh('umount', [mountPoint]);
    } catch {
      // Still busy: leave it; the next boot clears it.
    }
    await fsp.rm(mountPoint, { recursive: true, force: true }).catch(() => undefined);
  }
  console.log(`[diskFaults] cases: ${JSON.stringify(results)}`);
});

/** The guarantee, per writer: typed error naming the path, nothing changed, nothing added. */
function expectCleanFailures(dir: string, attempts: WriteAttempt[], before: Map<string, string>, after: Map<string, string>, errno: string): void {
  for (const attempt of attempts) {
    expect.soft(attempt.ok, `${attempt.writer} should fail under ${errno}`).toBe(false);
    expect.soft(attempt.code, `${attempt.writer}: ${attempt.message}`).toBe('IO_WRITE_FAILED');
    // The guidance writer may already fail at its lock file, which sits next to the target.
    const named = [path.join(dir, attempt.target), ...(attempt.target === 'guidance.json' ? [path.join(dir, 'guidance.json.lock')] : [])];
    expect.soft(named, `${attempt.writer} names the path it could not write (got ${attempt.file})`).toContain(attempt.file);
    expect.soft(attempt.message, `${attempt.writer} says why`).toMatch(new RegExp(errno));
  }
  for (const [file, bytes] of before) expect.soft(after.get(file), `${file} changed under ${errno}`).toBe(bytes);
  const added = [...after.keys()].filter((file) => !before.has(file) && !file.startsWith('ballast'));
  expect.soft(added.join(', '), `files left behind under ${errno}`).toBe('');
}

describe('disk faults (real tmpfs)', () => {
  it('ENOSPC: a full disk fails every writer cleanly', async (ctx) => {
    if (!mountPoint) ctx.skip(`cannot mount a tmpfs here (${mountError}); ENOSPC case skipped`);
    const dir = path.join(mountPoint!, 'enospc');
    await fsp.mkdir(dir);
    await setupWriteTargets(dir);
    // Fill the filesystem to the last block.
    const ballast = fs.openSync(path.join(dir, 'ballast'), 'w');
    const chunk = Buffer.alloc(4096, 1);
    try {
      for (;;) fs.writeSync(ballast, chunk);
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(ballast);
    }
    const before = await snapshotTree(dir);
    const attempts = await attemptWrites(dir);
    const after = await snapshotTree(dir);
    expectCleanFailures(dir, attempts, before, after, 'ENOSPC');
    results.ENOSPC = attempts.length;
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('EROFS: a read-only filesystem fails every writer cleanly', async (ctx) => {
    if (!mountPoint) ctx.skip(`cannot mount a tmpfs here (${mountError}); EROFS case skipped`);
    const dir = path.join(mountPoint!, 'erofs');
    await fsp.mkdir(dir);
    await setupWriteTargets(dir);
    const before = await snapshotTree(dir);
    sh('mount', ['-o', 'remount,ro', mountPoint!]);
    let attempts: WriteAttempt[];
    try {
      attempts = await attemptWrites(dir);
    } finally {
      sh('mount', ['-o', 'remount,rw', mountPoint!]);
    }
    const after = await snapshotTree(dir);
    expectCleanFailures(dir, attempts, before, after, 'EROFS');
    results.EROFS = attempts.length;
  });
});

describe('disk faults (permission)', () => {
  it('EACCES: a run directory the user may not write fails every writer cleanly', async (ctx) => {
    const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));
    if (process.getuid?.() !== 0 || !setpriv) ctx.skip('needs root and setpriv to start a child as nobody; EACCES case skipped');
    // World-readable, root-owned: nobody can read and traverse, not write.
    const base = await fsp.mkdtemp(path.join(os.tmpdir(), 'stageb-eacces-'));
    try {
      await fsp.chmod(base, 0o755);
      const dir = path.join(base, 'run');
      await fsp.mkdir(dir, { mode: 0o755 });
      await setupWriteTargets(dir);
      for (const sub of [dir, path.join(dir, 'export')]) await fsp.chmod(sub, 0o755);
      const binDir = path.join(base, 'bin');
      await fsp.mkdir(binDir, { mode: 0o755 });
      const { args } = await prepareChildScript(path.join(repoRoot, 'test/fixtures/reliability/diskFaultChild.ts'), binDir);
      for (const file of await fsp.readdir(binDir)) await fsp.chmod(path.join(binDir, file), 0o644);
      const before = await snapshotTree(dir);
      const child = await spawnChild([...args, dir], { cwd: base, env: { HOME: base }, prefix: [setpriv!, '--reuid=65534', '--regid=65534', '--clear-groups'] }).exited;
      expect(child.code, child.stderr).toBe(0);
      const attempts = JSON.parse(child.stdout) as WriteAttempt[];
      const after = await snapshotTree(dir);
      expectCleanFailures(dir, attempts, before, after, 'EACCES');
      results.EACCES = attempts.length;
    } finally {
      await fsp.rm(base, { recursive: true, force: true });
    }
  });
});

/** A disk that takes the first half of the first write, then reports ENOSPC (what a filling disk does). */
const fillingDiskIo: JsonlFileIo = {
  open: (async (...args: Parameters<typeof fsp.open>) => {
    const handle = await fsp.open(...args);
    let writes = 0;
    return new Proxy(handle, {
      get(target, prop, receiver) {
        if (prop === 'write' || prop === 'writeFile') {
          return async (data: Buffer | string, ...rest: unknown[]) => {
            if (writes++ === 0) {
              const bytes = Buffer.isBuffer(data) ? data : Buffer.from(String(data));
              const offset = typeof rest[0] === 'number' ? rest[0] : 0;
              const length = typeof rest[1] === 'number' ? rest[1] : bytes.length - offset;
              const position = typeof rest[2] === 'number' ? rest[2] : null;
              await target.write(bytes, offset, Math.floor(length / 2), position);
            }
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }) as typeof fsp.open,
};

describe('disk faults (injected through the writers\' io seam; runs without root)', () => {
  it('ENOSPC part-way through a write: JSONL append, atomic JSON and guidance write fail cleanly', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stageb-enospc-io-'));
    try {
      await setupWriteTargets(dir);
      const before = await snapshotTree(dir);
      const outcomes: [string, string, () => Promise<unknown>][] = [
        ['appendJsonl', 'log.jsonl', () => appendJsonl(path.join(dir, 'log.jsonl'), [{ text: 'x'.repeat(10_000) }], fillingDiskIo)],
        ['writeJsonAtomic', 'state.json', () => writeJsonAtomic(path.join(dir, 'state.json'), { text: 'x'.repeat(10_000) }, fillingDiskIo)],
        ['GuidanceRepository.write', 'guidance.json', async () => {
          const repository = new GuidanceRepository({ path: path.join(dir, 'guidance.json'), mission: FAULT_MISSION, io: { open: fillingDiskIo.open } });
          const current = await repository.read();
          return repository.write({ experiences: { ...current.experiences, G2: '接地线端子必须紧固' }, metadata: current.metadata }, current.step);
        }],
      ];
      for (const [writer, target, run] of outcomes) {
        const error = await run().then(() => null, (e: unknown) => e);
        expect(error, writer).toBeInstanceOf(StageBError);
        expect((error as StageBError).code, writer).toBe('IO_WRITE_FAILED');
        // The guidance writer snapshots the current file first; the failure may name that copy.
        const named = target === 'guidance.json' ? [path.join(dir, target), path.join(dir, 'snapshots', 'guidance.json.snapshot')] : [path.join(dir, target)];
        expect(named, writer).toContain((error as StageBError).location.file);
        expect((error as StageBError).message, writer).toMatch(/ENOSPC|disk full/);
      }
      const after = await snapshotTree(dir);
      for (const [file, bytes] of before) expect(after.get(file), `${file} changed`).toBe(bytes);
      expect([...after.keys()].filter((f) => !before.has(f))).toEqual([]);
      results.ENOSPC_injected = outcomes.length;
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
