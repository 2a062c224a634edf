import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FsArtifactStore } from '../../io/FsArtifactStore';
import { runCachedStage, runReflectionStages, defineReflectionStage, type ReflectionBatch, type StageLedger } from './runCachedStage';

const CountArtifactSchema = z.object({ stage: z.literal('count'), inputs_fingerprint: z.string(), value: z.number() });
type CountArtifact = z.infer<typeof CountArtifactSchema>;

let dir: string;
let ledger: StageLedger;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stageb-cached-stage-'));
  const store = new FsArtifactStore(dir);
  await store.ensureDir();
  ledger = { store, cacheArtifacts: [], stages: {} };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cacheDir = () => join(dir, 'reflection_cache');

/** A stage that counts its runs and makes `value` from its inputs. */
function counting(inputs: { n: number }) {
  const runs: number[] = [];
  return {
    runs,
    stage: {
      label: 'count',
      file: 'epoch0_cycle0_count.json',
      schema: CountArtifactSchema,
      inputs,
      run: async (inputsFingerprint: string) => {
        runs.push(inputs.n);
        return { artifact: { stage: 'count' as const, inputs_fingerprint: inputsFingerprint, value: inputs.n * 10 }, llmCalls: 1 };
      },
    },
  };
}

describe('runCachedStage', () => {
  it('makes and writes the artifact once, reuses it for the same inputs, and lists it each time', async () => {
    const first = counting({ n: 1 });
    expect(await runCachedStage(ledger, first.stage)).toMatchObject({ artifact: { value: 10 }, llmCalls: 1 });
    expect(ledger.stages.count).toBe('generated (missing)');
    const again = counting({ n: 1 });
    const reused = await runCachedStage({ ...ledger, stages: {} }, again.stage);
    expect(reused).toMatchObject({ artifact: { value: 10 }, llmCalls: 0 });
    expect(again.runs).toEqual([]);
    expect(ledger.cacheArtifacts).toEqual(['reflection_cache/epoch0_cycle0_count.json', 'reflection_cache/epoch0_cycle0_count.json']);
  });

  it('makes it again when the inputs changed (stale) or the file is broken (invalid)', async () => {
    await runCachedStage(ledger, counting({ n: 1 }).stage);
    const changed = counting({ n: 2 });
    expect(await runCachedStage(ledger, changed.stage)).toMatchObject({ artifact: { value: 20 } });
    expect(ledger.stages.count).toBe('generated (stale)');
    await writeFile(join(cacheDir(), 'epoch0_cycle0_count.json'), '{"stage":"count"}');
    const repaired = counting({ n: 2 });
    await runCachedStage(ledger, repaired.stage);
    expect(repaired.runs).toEqual([2]);
    expect(ledger.stages.count).toBe('generated (invalid)');
  });

  it('reuses an artifact that carries fields this version does not write (an older created_at)', async () => {
    await runCachedStage(ledger, counting({ n: 3 }).stage);
    const file = join(cacheDir(), 'epoch0_cycle0_count.json');
    await writeFile(file, JSON.stringify({ ...JSON.parse(await readFile(file, 'utf8')), created_at: '2020-01-01T00:00:00.000Z' }));
    const again = counting({ n: 3 });
    expect(await runCachedStage(ledger, again.stage)).toMatchObject({ artifact: { value: 30 }, llmCalls: 0 });
    expect(again.runs).toEqual([]);
  });

  it('an end writes nothing and lists nothing', async () => {
    const result = await runCachedStage(ledger, {
      label: 'count',
      file: 'epoch0_cycle0_count.json',
      schema: CountArtifactSchema,
      inputs: { n: 4 },
      run: async () => ({ end: { reason: 'generation_error' as const }, status: 'failed', llmCalls: 1 }),
    });
    expect(result).toEqual({ end: { reason: 'generation_error' }, llmCalls: 1 });
    expect(ledger.stages.count).toBe('failed');
    expect(ledger.cacheArtifacts).toEqual([]);
    expect(await readdir(cacheDir()).catch(() => [])).toEqual([]);
  });

  it('names a file by the fingerprint of its inputs when asked to', async () => {
    await runCachedStage(ledger, { ...counting({ n: 5 }).stage, file: (fp: string) => `shared_${fp.slice(0, 8)}.json` });
    expect(ledger.cacheArtifacts).toEqual([expect.stringMatching(/^reflection_cache\/shared_[0-9a-f]{8}\.json$/)]);
  });
});

describe('runReflectionStages', () => {
  const batch = { header: { mission: 'm', epoch: 2, cycle: 3, batch_index: 3, guidance_step: 0 }, debug: {} } as unknown as ReflectionBatch;

  // A new stage is one definition (and one line in the list): it reads an earlier stage's artifact.
  const first = defineReflectionStage<CountArtifact>({
    name: 'first',
    schema: CountArtifactSchema,
    inputs: () => ({ n: 1 }),
    run: async (_batch, _earlier, fp) => ({ artifact: { stage: 'count', inputs_fingerprint: fp, value: 1 } }),
  });
  const second = defineReflectionStage<CountArtifact>({
    name: 'second',
    schema: CountArtifactSchema,
    inputs: (_batch, earlier) => ({ from: earlier.get(first).inputs_fingerprint }),
    run: async (_batch, earlier, fp) => ({ artifact: { stage: 'count', inputs_fingerprint: fp, value: earlier.get(first).value + 1 }, llmCalls: 1 }),
    check: (artifact) => (artifact.value > 1 ? { reason: 'no_operations', detail: `value ${artifact.value}` } : null),
  });
  const never = defineReflectionStage<CountArtifact>({
    name: 'never',
    schema: CountArtifactSchema,
    inputs: () => ({}),
    run: async () => {
      throw new Error('a stage after an end must not run');
    },
  });

  it('runs the stages in order, each named by epoch and cycle, and stops at the first end', async () => {
    const result = await runReflectionStages([first, second, never], batch, ledger);
    expect(result.end).toEqual({ reason: 'no_operations', detail: 'value 2' });
    expect(result.llmCalls).toBe(1);
    expect(result.artifacts.get(second).value).toBe(2);
    expect(result.artifacts.find(never)).toBeNull();
    expect(ledger.cacheArtifacts).toEqual(['reflection_cache/epoch2_cycle3_first.json', 'reflection_cache/epoch2_cycle3_second.json']);
    expect(ledger.stages).toEqual({ first: 'generated (missing)', second: 'generated (missing)' });
  });

  it('a stage that reads one not listed before it fails loudly', async () => {
    await expect(runReflectionStages([second], batch, ledger)).rejects.toThrow(/first has not run/);
  });
});
