import { mkdtemp, readFile, readdir, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetReadObjects } from 'hyparquet';
import { ensureTinyModelForTests } from '../helpers/tinyModel';
import { ensureDemoMission } from '../../src/main/demo/generateDemoMission';
import { runStageB } from '../../src/main/runStageB';
import { main } from '../../src/main/cli';
import {
  TrajectoryRecordSchema,
  SelectionRecordSchema,
  ReflectionLogRecordSchema,
  ExportRowSchema,
  DistillRecordSchema,
  NeedReviewRecordSchema,
} from '../../src/shared/schemas/records';
import { TelemetrySchema, RunEventSchema, RunManifestSchema } from '../../src/shared/schemas/telemetry';
import { GuidanceFileSchema, GuidanceHistoryEntrySchema } from '../../src/shared/schemas/guidance';
import type { RunEvent } from '../../src/shared/schemas/telemetry';

/**
 * A full Stage-B run on the tiny random-weight model through the real
 * node-llama-cpp: every artifact validates against its schema, the counts add up,
 * a rerun changes nothing, and an interrupted run resumes to the same artifacts.
 */
const GROUPS = 20;
const K = 3;
const EPOCHS = 2;
const BATCH = 8;

let dir: string;
let modelPath: string;
let demo: Awaited<ReturnType<typeof ensureDemoMission>>;

async function writeConfig(name: string, overrides: string[] = []): Promise<string> {
  const path = join(dir, `${name}.yaml`);
  await writeFile(
    path,
    [
      `run_name: ${name}`,
      'seed: 5',
      'mission: RRU接地与防水检查',
      'stage_a_paths:',
      `  - ${demo.stageA}`,
      'guidance:',
      `  path: ${demo.guidance}`,
      '  max_tokens: 2048',
      'model:',
      '  backend: llama-cpp',
      `  path: ${modelPath}`,
      '  context_size: 8192',
      '  threads: 1',
      // Four sequences, as the demo: the resumed run's decode steps group candidates differently from the
      // uninterrupted run's, and batch_decode auto batches only where that leaves every logit unchanged.
      '  sequences: 4',
      'sampler:',
      `  candidates: ${K}`,
      '  grid:',
      '    - { temperature: 0.8, top_p: 0.9, prompt_variant: default }',
      '    - { temperature: 1.0, top_p: 0.95, prompt_variant: checklist }',
      '  max_new_tokens: 160',
      '  max_reason_chars: 24',
      'runner:',
      `  epochs: ${EPOCHS}`,
      `  batch_size: ${BATCH}`,
      `  max_tickets: ${GROUPS + 5}`,
      'reflection:',
      '  enabled: true',
      '  holdout_fraction: 0.2',
      '  holdout_max: 5',
      '  max_new_tokens: 384',
      'output:',
      `  root: ${join(dir, 'runs')}`,
      'stage_b_distillation:',
      '  enabled: true',
      '  export_last_if_unconverged: true',
      ...overrides,
    ].join('\n'),
  );
  return path;
}

async function readLines(path: string): Promise<unknown[]> {
  const text = await readFile(path, 'utf8');
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
}

/** Artifact contents with timestamps and timings removed, for rerun/resume equality. */
async function stableArtifacts(runDir: string): Promise<Record<string, string>> {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value)) {
        if (['created_at', 'updated_at', 'recorded_at', 'ts', 'started_at', 'finished_at', 'timings_ms'].includes(key)) continue;
        out[key] = strip(inner);
      }
      return out;
    }
    return value;
  };
  const files = ['trajectories.jsonl', 'selections.jsonl', 'reflection.jsonl', 'need_review.jsonl', 'export/verdicts.jsonl', 'distill_chatml.jsonl', 'guidance_history.jsonl'];
  const out: Record<string, string> = {};
  for (const file of files) {
    out[file] = JSON.stringify((await readLines(join(runDir, file))).map(strip));
  }
  const guidance = JSON.parse(await readFile(join(runDir, 'guidance.json'), 'utf8'));
  out['guidance.json'] = JSON.stringify(strip(guidance));
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stageb-demo-'));
  modelPath = await ensureTinyModelForTests();
  demo = await ensureDemoMission(join(dir, 'demo'), 17, 60);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('full Stage-B run on the tiny model', () => {
  let runDir: string;
  let events: RunEvent[] = [];

  it('runs end to end and leaves every artifact, valid against its schema', async () => {
    const configPath = await writeConfig('full');
    const result = await runStageB({ configPath, onEvent: (event) => events.push(event) });
    runDir = result.runDir;
    expect(result.status).toBe('completed');

    const manifest = RunManifestSchema.parse(JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')));
    expect(manifest.model.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    // The real versions and the hardware that ran the model (the fixture runs on the CPU).
    expect(manifest.versions).toMatchObject({ app: expect.stringMatching(/^\d+\.\d+\.\d+/), 'node-llama-cpp': expect.stringMatching(/^\d+\.\d+\.\d+/), 'llama.cpp': expect.stringMatching(/\S/) });
    expect(manifest.compute).toEqual({ backend: 'cpu', devices: [], build: 'prebuilt' });
    const loadLine = events.find((event) => event.type === 'phase' && event.phase === 'model_load' && event.message.startsWith('model '));
    expect(loadLine?.type === 'phase' && loadLine.message).toContain(`llama.cpp ${manifest.versions['llama.cpp']} (prebuilt) on cpu`);
    // The Q8_0 fixture passes the load-time check: candidates share decode steps and stay exact.
    expect(manifest.model.decode_batching).toMatchObject({ batched: true, exact: true });
    expect(events.some((event) => event.type === 'phase' && event.phase === 'model_load' && event.message.startsWith('candidates decode together, bit-identical'))).toBe(true);
    const telemetry = TelemetrySchema.parse(JSON.parse(await readFile(join(runDir, 'telemetry.json'), 'utf8')));
    const train = telemetry.counts.train_tickets;
    expect(train + telemetry.counts.holdout_tickets).toBe(GROUPS + 5);
    expect(telemetry.counts.holdout_tickets).toBe(5);

    const trajectories = (await readLines(join(runDir, 'trajectories.jsonl'))).map((row) => TrajectoryRecordSchema.parse(row));
    const selections = (await readLines(join(runDir, 'selections.jsonl'))).map((row) => SelectionRecordSchema.parse(row));
    const reflections = (await readLines(join(runDir, 'reflection.jsonl'))).map((row) => ReflectionLogRecordSchema.parse(row));
    (await readLines(join(runDir, 'need_review.jsonl'))).forEach((row) => NeedReviewRecordSchema.parse(row));
    (await readLines(join(runDir, 'events.jsonl'))).forEach((row) => RunEventSchema.parse(row));
    (await readLines(join(runDir, 'guidance_history.jsonl'))).forEach((row) => GuidanceHistoryEntrySchema.parse(row));
    GuidanceFileSchema.parse(JSON.parse(await readFile(join(runDir, 'guidance.json'), 'utf8')));

    // groups × K candidates, one selection per group per epoch, one decision per batch.
    const dropped = selections.filter((row) => row.warnings.includes('prompt_over_budget')).length;
    expect(dropped).toBe(0);
    expect(trajectories).toHaveLength(train * K * EPOCHS);
    expect(selections).toHaveLength(train * EPOCHS);
    const batchesPerEpoch = Math.ceil(train / BATCH);
    expect(reflections).toHaveLength(batchesPerEpoch * EPOCHS);
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      expect(new Set(selections.filter((row) => row.epoch === epoch).map((row) => row.group_id)).size).toBe(train);
    }
    // The grammar makes even a random model emit well-formed verdicts.
    expect(trajectories.filter((row) => row.format_ok).length).toBe(trajectories.length);
    for (const row of trajectories) {
      expect(row.decode.max_new_tokens).toBe(160);
      expect(['default', 'checklist']).toContain(row.decode.prompt_variant);
    }
    expect(telemetry.counts.candidates).toBe(trajectories.length);
    expect(telemetry.tokens.generated).toBeGreaterThan(0);

    // Export: JSONL and Parquet with the same rows, final epoch only.
    const exported = (await readLines(join(runDir, 'export/verdicts.jsonl'))).map((row) => ExportRowSchema.parse(row));
    expect(exported).toHaveLength(train);
    expect(exported.every((row) => row.epoch === EPOCHS - 1)).toBe(true);
    const parquetBytes = await readFile(join(runDir, 'export/verdicts.parquet'));
    const parquetRows = await parquetReadObjects({ file: parquetBytes.buffer.slice(parquetBytes.byteOffset, parquetBytes.byteOffset + parquetBytes.byteLength) });
    expect(parquetRows).toHaveLength(train);
    expect(parquetRows.map((row) => row.group_id).sort()).toEqual(exported.map((row) => row.group_id).sort());

    // Distill corpus: only the four fields, three messages, never reflection text.
    const distill = (await readLines(join(runDir, 'distill_chatml.jsonl'))).map((row) => DistillRecordSchema.parse(row));
    expect(distill.length).toBeGreaterThan(0);
    expect(telemetry.distill.rows).toBe(distill.length);
    const reflectionTexts = reflections.flatMap((row) => [row.reflection.proposal.summary, row.reflection.proposal.critique]).filter((text) => text.length > 8);
    for (const record of distill) {
      for (const message of record.messages) for (const text of reflectionTexts) expect(message.content.includes(text)).toBe(false);
    }

    // The guidance step is logged before sampling, once per batch.
    const guidanceEvents = events.filter((event) => event.type === 'guidance');
    expect(guidanceEvents).toHaveLength(batchesPerEpoch * EPOCHS);
    expect(events.some((event) => event.type === 'progress')).toBe(true);
    expect(events.at(-1)?.type).toBe('done');
  }, 900_000);

  it('a rerun with the same config leaves the finished run unchanged', async () => {
    const before = await stableArtifacts(runDir);
    const mtime = (await stat(join(runDir, 'trajectories.jsonl'))).mtimeMs;
    const configPath = join(dir, 'full.yaml');
    const result = await runStageB({ configPath });
    expect(result.alreadyComplete).toBe(true);
    expect(await stableArtifacts(runDir)).toEqual(before);
    expect((await stat(join(runDir, 'trajectories.jsonl'))).mtimeMs).toBe(mtime);
  }, 300_000);

  it('a distill run on the finished run splits its converged-epoch corpus into train and val', async () => {
    const out: string[] = [];
    const io = { stdout: { write: (s: string) => (out.push(s), true) }, stderr: { write: () => true } };
    const code = await main(['distill', 'run', '--config', join(dir, 'full.yaml'), '--out-dir', join(dir, 'split'), '--val-fraction', '0.25'], io);
    expect(code).toBe(0);
    const corpus = await readLines(join(runDir, 'distill_chatml.jsonl'));
    const train = await readLines(join(dir, 'split', 'distill_chatml.train.jsonl'));
    const val = await readLines(join(dir, 'split', 'distill_chatml.val.jsonl'));
    expect(train.length + val.length).toBe(corpus.length);
    expect(val.length).toBeGreaterThan(0);

    const compared: string[] = [];
    const compareCode = await main(['compare', '--runs', join(dir, 'runs', 'full'), join(dir, 'runs', 'full'), '--json'], {
      stdout: { write: (s: string) => (compared.push(s), true) },
      stderr: { write: () => true },
    });
    expect(compareCode).toBe(0);
    const comparison = JSON.parse(compared.join(''));
    expect(JSON.stringify(comparison)).toContain('label_match');
  }, 300_000);

  it("a distill run without --out-dir splits beside its run, and a different split there is refused unless --force", async () => {
    const quiet = () => {
      const err: string[] = [];
      return { err, io: { stdout: { write: () => true }, stderr: { write: (s: string) => (err.push(s), true) } } };
    };
    const first = quiet();
    expect(await main(['distill', 'run', '--config', join(dir, 'full.yaml')], first.io)).toBe(0);
    const train = join(runDir, 'distill', 'distill_chatml.train.jsonl');
    const before = await readFile(train, 'utf8');
    const same = quiet();
    expect(await main(['distill', 'run', '--config', join(dir, 'full.yaml')], same.io)).toBe(0);
    const other = quiet();
    expect(await main(['distill', 'run', '--config', join(dir, 'full.yaml'), '--val-fraction', '0.5'], other.io)).toBe(1);
    expect(other.err.join('')).toContain(`FILE_EXISTS ${train}`);
    expect(await readFile(train, 'utf8')).toBe(before);
    const forced = quiet();
    expect(await main(['distill', 'run', '--config', join(dir, 'full.yaml'), '--val-fraction', '0.5', '--force'], forced.io)).toBe(0);
    expect(await readFile(train, 'utf8')).not.toBe(before);
  }, 300_000);

  it('an interrupted run resumes to the same artifacts as an uninterrupted one', async () => {
    const configPath = await writeConfig('resumed');
    const controller = new AbortController();
    let batches = 0;
    await expect(
      runStageB({
        configPath,
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'batch' && ++batches === 3) controller.abort();
        },
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    const resumed = await runStageB({ configPath });
    expect(resumed.status).toBe('completed');
    const expected = await stableArtifacts(runDir);
    const actual = await stableArtifacts(resumed.runDir);
    // run_name differs between the two runs; everything else must match.
    const normalise = (record: Record<string, string>) => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, v.replaceAll('"resumed"', '"full"')]));
    expect(normalise(actual)).toEqual(normalise(expected));
  }, 900_000);
});

describe('the demo config (configs/demo.yaml)', () => {
  it('reaches the holdout gate, and its decisions are of more than one kind', async () => {
    // The demo's own config, its paths pointed at a fresh copy of the default demo mission; the
    // run stops once its reflections show two kinds of decision (the rest of the run repeats them).
    const demoDir = join(dir, 'demo-default');
    const mission = await ensureDemoMission(demoDir);
    const text = (await readFile(fileURLToPath(new URL('../../configs/demo.yaml', import.meta.url)), 'utf8'))
      .replace('../resources/demo/demo_mission.stage_a.jsonl', mission.stageA)
      .replace('../resources/demo/demo_guidance.json', mission.guidance)
      .replace('../resources/models/tiny.gguf', modelPath)
      .replace('root: ../runs', `root: ${join(dir, 'runs-demo')}`);
    const configPath = join(dir, 'demo.yaml');
    await writeFile(configPath, text);
    const controller = new AbortController();
    const kinds = new Set<string>();
    const run = runStageB({
      configPath,
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type !== 'reflection') return;
        kinds.add(event.applied ? 'applied' : String(event.ineligible_reason));
        if (kinds.size > 1) controller.abort();
      },
    });
    await run.catch((error) => expect(error).toMatchObject({ code: 'CANCELLED' }));
    const reflections = (await readLines(join(dir, 'runs-demo', 'demo', 'RRU接地与防水检查', 'reflection.jsonl'))).map((row) => ReflectionLogRecordSchema.parse(row));
    // Every decision was made by the gate, on a holdout with both labels.
    for (const row of reflections) {
      expect(row.reflection.pre_uplift, row.reflection.decision_detail ?? '').not.toBeNull();
      expect(row.reflection.decision_detail).toMatch(/label_match .* verdicts changed, P\(uplift > 0\)/);
    }
    const decided = new Set(reflections.map((row) => (row.reflection.applied ? 'applied' : row.reflection.ineligible_reason)));
    expect(decided.size, `decisions: ${[...decided].join(', ')}`).toBeGreaterThan(1);
  }, 900_000);
});

describe('bad input through the CLI writes nothing', () => {
  it('a config with a wrong mission fails with file, line and field, and creates no run directory', async () => {
    const configPath = await writeConfig('badmission');
    const text = (await readFile(configPath, 'utf8')).replace('mission: RRU接地与防水检查', 'mission: BBU接地线检查');
    await writeFile(configPath, text);
    const stderr: string[] = [];
    const code = await main(['run', '--config', configPath], { stdout: { write: () => true }, stderr: { write: (s: string) => (stderr.push(s), true) } });
    expect(code).toBe(1);
    expect(stderr.join('')).toMatch(/INPUT_MISSION_MISMATCH .*demo_mission\.stage_a\.jsonl:1 field mission/);
    const runs = await readdir(join(dir, 'runs')).catch(() => [] as string[]);
    expect(runs).not.toContain('badmission');
  });

  it('experiences over the token budget are refused by the model tokenizer before the model loads, writing nothing', async () => {
    const configPath = await writeConfig('overbudget');
    await writeFile(configPath, (await readFile(configPath, 'utf8')).replace('  max_tokens: 2048', '  max_tokens: 40'));
    const stderr: string[] = [];
    const events: string[] = [];
    const code = await main(['run', '--config', configPath, '--events-json'], {
      stdout: { write: (s: string) => (events.push(s), true) },
      stderr: { write: (s: string) => (stderr.push(s), true) },
    });
    expect(code).toBe(1);
    expect(stderr.join('')).toMatch(/GUIDANCE_OVER_BUDGET .*demo_guidance\.json field RRU接地与防水检查\.experiences: the experiences block has \d+ tokens, over guidance\.max_tokens = 40/);
    expect(events.join('')).not.toContain('"model_load"');
    const runs = await readdir(join(dir, 'runs')).catch(() => [] as string[]);
    expect(runs).not.toContain('overbudget');
  });
});
