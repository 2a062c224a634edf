import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A scratch directory for the crash and race tests. A tmpfs (/dev/shm) is used when the
 * machine has one: these tests are about process crashes and concurrent writers, which
 * tmpfs models exactly, and on the CI disk each fsync costs ~4 ms, which would make
 * 1000 interleaved writes take minutes without testing anything more.
 */
export async function makeGuidanceTestDir(prefix: string): Promise<string> {
  const base = fs.existsSync('/dev/shm') && fs.statSync('/dev/shm').isDirectory() ? '/dev/shm' : os.tmpdir();
  try {
    return await fsp.mkdtemp(path.join(base, prefix));
  } catch {
    return await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  }
}
