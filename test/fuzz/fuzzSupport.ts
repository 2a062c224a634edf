import { createRequire, syncBuiltinESMExports } from 'node:module';
import { StageBError, ERROR_CODES } from '../../src/shared/errors';

/**
 * Shared by the fuzz tests: a guard that fails on any filesystem write made while a
 * property runs, a counter of cases per target (printed for RELIABILITY.md), and the
 * "typed error" check.
 */
const require = createRequire(import.meta.url);

const WRITE_FUNCTIONS = [
  'writeFile', 'appendFile', 'open', 'mkdir', 'rename', 'unlink', 'rm', 'rmdir', 'link', 'symlink', 'truncate', 'copyFile', 'mkdtemp', 'createWriteStream',
  'writeFileSync', 'appendFileSync', 'openSync', 'mkdirSync', 'renameSync', 'unlinkSync', 'rmSync', 'rmdirSync', 'linkSync', 'symlinkSync', 'truncateSync', 'copyFileSync', 'mkdtempSync',
];

/**
 * Runs `fn` with every write-capable function of node:fs and node:fs/promises replaced by
 * one that records the call and throws (reads stay allowed). ESM importers see the
 * replacement through syncBuiltinESMExports; the originals are restored afterwards.
 */
export async function withoutDiskWrites<T>(fn: () => Promise<T> | T): Promise<{ result: T; writes: string[] }> {
  const writes: string[] = [];
  const targets = [require('node:fs') as Record<string, unknown>, require('node:fs/promises') as Record<string, unknown>];
  const saved: [Record<string, unknown>, string, unknown][] = [];
  for (const target of targets) {
    for (const name of WRITE_FUNCTIONS) {
      if (typeof target[name] !== 'function') continue;
      saved.push([target, name, target[name]]);
      target[name] = (...args: unknown[]) => {
        writes.push(`${name}(${String(args[0])})`);
        throw new Error(`fuzz target tried to write to disk: ${name}(${String(args[0])})`);
      };
    }
  }
  syncBuiltinESMExports();
  try {
    const result = await fn();
    return { result, writes };
  } finally {
    for (const [target, name, original] of saved) target[name] = original;
    syncBuiltinESMExports();
  }
}

/** A thrown value is acceptable only as a StageBError with a known code. */
export function expectTypedError(error: unknown): StageBError {
  if (!(error instanceof StageBError)) throw new Error(`expected a StageBError, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  if (!(ERROR_CODES as readonly string[]).includes(error.code)) throw new Error(`StageBError with unknown code ${error.code}`);
  return error;
}

export const fuzzCounts: Record<string, number> = {};

export function countCase(target: string): void {
  fuzzCounts[target] = (fuzzCounts[target] ?? 0) + 1;
}

export function printCounts(file: string): void {
  const total = Object.values(fuzzCounts).reduce((a, b) => a + b, 0);
  console.log(`[fuzz] ${file}: ${Object.entries(fuzzCounts).map(([k, v]) => `${k}=${v}`).join(', ')} (total ${total})`);
}

/** Number of runs per property; FUZZ_RUNS scales every target. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
