import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * `npm ci` refuses a lockfile that does not describe package.json, or that lacks an
 * entry for a dependency some locked package declares — optional platform builds
 * included (node-llama-cpp declares fourteen; the registry here serves six at 3.22.1,
 * the others are locked with their published os/cpu so npm skips them). This is the
 * same check, offline, so a lockfile drift fails here before it fails in CI.
 */
type LockEntry = {
  version?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  os?: string[];
  cpu?: string[];
  engines?: Record<string, string>;
};
type Lock = { lockfileVersion: number; packages: Record<string, LockEntry> };

const root = new URL('../../', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as Record<string, Record<string, string> | undefined>;
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as Lock;

/** Node's lookup: the package's own node_modules, then each enclosing one up to the root. */
function resolveFrom(lockPath: string, name: string): string | undefined {
  let base = lockPath;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (base === '') return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

function missingEntries(): string[] {
  const missing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (entry.link) continue;
    const declared = { ...entry.dependencies, ...entry.optionalDependencies, ...(path === '' ? entry.devDependencies : {}) };
    for (const [name, range] of Object.entries(declared)) {
      const found = resolveFrom(path, name);
      if (!found) missing.push(`${path || '(root)'} → ${name}@${range}`);
      else if (/^\d+\.\d+\.\d+$/.test(range) && lock.packages[found].version !== range) {
        missing.push(`${path || '(root)'} → ${name}@${range} (locked ${lock.packages[found].version})`);
      }
    }
  }
  return missing;
}

describe('package-lock.json', () => {
  it('is a v3 lockfile whose root entry matches package.json', () => {
    expect(lock.lockfileVersion).toBe(3);
    const rootEntry = lock.packages[''];
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies'] as const) {
      expect(rootEntry[field] ?? {}, field).toEqual(manifest[field] ?? {});
    }
    expect(rootEntry.engines).toEqual(manifest.engines);
  });

  it('has an entry for every dependency a locked package declares, optional platform builds included', () => {
    expect(missingEntries()).toEqual([]);
  });

  it("locks node-llama-cpp's platform builds with os and cpu, so npm skips the foreign ones", () => {
    const declared = Object.keys(lock.packages['node_modules/node-llama-cpp'].optionalDependencies ?? {});
    expect(declared.length).toBeGreaterThan(0);
    for (const name of declared) {
      const entry = lock.packages[`node_modules/${name}`];
      expect(entry?.os, name).toBeDefined();
      expect(entry?.cpu, name).toBeDefined();
    }
  });
});
