import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunConfigText } from '../../src/main/io/loadRunConfig';
import { RunConfigSchema } from '../../src/shared/schemas/runConfig';
import { RUNS, countCase, expectTypedError, printCounts, withoutDiskWrites } from './fuzzSupport';

/** Config parsing (parseRunConfigText) on random YAML and mutated real configs (issue §3). */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

afterAll(() => printCounts('runConfig'));

function check(text: string): void {
  try {
    const { config } = parseRunConfigText(text, 'fuzz.yaml');
    expect(RunConfigSchema.safeParse(config).success).toBe(true);
  } catch (error) {
    const typed = expectTypedError(error);
    expect(typed.code).toBe('CONFIG_INVALID');
    expect((typed as { location?: { file?: string } }).location?.file).toBe('fuzz.yaml');
  }
}

describe('run config fuzz', () => {
  it('the no-write guard itself catches a write (so the other assertions can fail)', async () => {
    const { writes } = await withoutDiskWrites(async () => {
      try {
        await fs.writeFile(path.join(repoRoot, 'should-not-exist.txt'), 'x');
      } catch {
        // The guard throws synchronously; only the record matters here.
      }
    });
    expect(writes.length).toBe(1);
    await expect(fs.stat(path.join(repoRoot, 'should-not-exist.txt'))).rejects.toThrow();
  });

  it('random YAML, random values under the real keys and byte-mutated real configs give a valid config or CONFIG_INVALID', async () => {
    const real = await fs.readFile(path.join(repoRoot, 'configs/demo.yaml'), 'utf8');
    const base = parseRunConfigText(real, 'demo.yaml').raw as Record<string, unknown>;
    const sections = Object.keys(base);
    const mutatedText = fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('cut', 'flip', 'indent', 'dupkey', 'tab')).map(([a, b, how]) => {
      const i = a % real.length;
      if (how === 'cut') return real.slice(0, i);
      if (how === 'flip') return real.slice(0, i) + String.fromCharCode(32 + (b % 95)) + real.slice(i + 1);
      if (how === 'indent') return real.slice(0, i) + '\n   ' + real.slice(i);
      if (how === 'tab') return real.slice(0, i) + '\t' + real.slice(i);
      return real + '\nseed: 5\n';
    });
    const mutatedValue = fc.tuple(fc.constantFrom(...sections), fc.option(fc.string({ maxLength: 12 })), fc.jsonValue()).map(([section, key, value]) => {
      const copy = structuredClone(base);
      const target = copy[section];
      if (key !== null && target && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, unknown>)[key] = value;
      else copy[section] = value;
      return stringify(copy);
    });
    const { writes } = await withoutDiskWrites(() => {
      fc.assert(
        fc.property(fc.oneof(mutatedText, mutatedValue, fc.string(), fc.jsonValue().map((v) => stringify(v)), fc.constantFrom('', '---', '&a [*a]', 'a: &x\n  b: *x', '!!binary x')), (text) => {
          countCase('parseRunConfigText');
          check(text);
        }),
        { numRuns: RUNS * 2, seed: 501 },
      );
    });
    expect(writes).toEqual([]);
  });
});
