import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModelForTests } from '../../../../test/helpers/tinyModel';
import { createLlamaCppBackend, type LlamaCppBackend } from '../../llm/LlamaCppBackend';
import type { GenerateRequest, LlmBackend } from '../../llm/LlmBackend';
import { FsArtifactStore } from '../../io/FsArtifactStore';
import { GuidanceRepository } from '../../io/GuidanceRepository';
import { LlamaCppModelSchema, RunConfigSchema } from '../../../shared/schemas/runConfig';
import { ReflectionLogRecordSchema } from '../../../shared/schemas/records';
import type { GroupLabel } from '../../../shared/verdict';
import { reflectOnBatch, type ReflectionContext } from './reflectOnBatch';
import {
  BatchUpdateArtifactSchema,
  CritiqueArtifactSchema,
  GateArtifactSchema,
  HoldoutBaselineArtifactSchema,
  SummaryArtifactSchema,
  type HoldoutRow,
} from './reflectionArtifacts';
import { TEST_MISSION, makeGroup, makeTicket, type GroupSpec } from './reflectionTestData';

/**
 * The reflection stages against the real node-llama-cpp backend on the tiny random-weight
 * model: whatever the model writes is forced through the JSON-schema grammars, so every
 * artifact must validate, and a rerun must be served from the cache.
 */
let backend: LlamaCppBackend;
let dir: string;
const ARTIFACT_SCHEMAS = { summary: SummaryArtifactSchema, critique: CritiqueArtifactSchema, batch_update: BatchUpdateArtifactSchema, holdout_baseline: HoldoutBaselineArtifactSchema, gate: GateArtifactSchema };

/** Counts calls on the real backend (a decorator, not a double). */
function counted(inner: LlmBackend): LlmBackend & { requests: GenerateRequest[] } {
  const requests: GenerateRequest[] = [];
  return {
    info: inner.info,
    requests,
    generate: (request, signal) => {
      requests.push(request);
      return inner.generate(request, signal);
    },
    countPromptTokens: (p) => inner.countPromptTokens(p),
    countTextTokens: (t) => inner.countTextTokens(t),
    tokenMeter: () => inner.tokenMeter(),
    close: () => inner.close(),
  };
}

beforeAll(async () => {
  const modelPath = await ensureTinyModelForTests();
  dir = await mkdtemp(join(tmpdir(), 'stageb-reflect-model-'));
  // One thread: vitest runs two workers on two cores. Byte-level vocab: 3 tokens per CJK char.
  backend = await createLlamaCppBackend(
    LlamaCppModelSchema.parse({ backend: 'llama-cpp', path: modelPath, gpu: false, context_size: 8192, sequences: 1, threads: 1 }),
  );
});

afterAll(async () => {
  await backend?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('reflectOnBatch on the tiny model', () => {
  it('runs the stages under JSON-schema grammars, writes valid artifacts, and reruns from cache with zero calls', async () => {
    const store = new FsArtifactStore(dir);
    await store.ensureDir();
    const guidance = new GuidanceRepository({ path: join(dir, 'guidance.json'), mission: TEST_MISSION });
    await guidance.initialize({
      step: 0,
      updated_at: '2026-01-01T00:00:00.000Z',
      experiences: { G0: '检查BBU接地线是否连接到接地排', G1: '接地线应走线整齐' },
      metadata: {},
    });
    const specs: GroupSpec[] = [
      { group: 'g1', label: 'fail', verdicts: ['pass', 'pass', 'fail'] },
      { group: 'g2', label: 'pass', verdicts: ['pass', 'pass', 'pass'] },
    ];
    const groups = specs.map(makeGroup);
    const config = RunConfigSchema.parse({
      run_name: 't',
      mission: TEST_MISSION,
      stage_a_paths: ['x.jsonl'],
      guidance: { path: 'g.json' },
      model: { backend: 'llama-cpp', path: 'm.gguf' },
      // A realistic budget: the grammar bounds are fitted to it (outputLimits.ts), so output is never truncated.
      reflection: { max_new_tokens: 1024, apply_if_delta: 0, allow_uncertain: true, max_false_release_increase: 1 },
    });
    // The lead's holdout rollout is not under test here: the initial guidance gets every
    // holdout ticket right and any preview gets them wrong, so the gate always refuses and
    // the guidance step stays put for the rerun.
    const initial = JSON.stringify((await guidance.read()).experiences);
    const holdoutLabels: GroupLabel[] = ['fail', 'pass'];
    const evaluateHoldout = async (experiences: Record<string, string>): Promise<HoldoutRow[]> =>
      holdoutLabels.map((label, i) => ({
        ticket_key: `h${i}::${label}`,
        label,
        verdict: JSON.stringify(experiences) === initial ? label : label === 'pass' ? 'fail' : 'pass',
      }));
    const make = (b: LlmBackend, s: FsArtifactStore): ReflectionContext => ({
      backend: b,
      store: s,
      guidance,
      mission: TEST_MISSION,
      epoch: 0,
      batchIndex: 0,
      cycle: 0,
      selections: groups.map((g) => g.selection),
      trajectories: groups.flatMap((g) => g.candidates),
      tickets: specs.map((s) => makeTicket(s.group, s.label)),
      config: config.reflection,
      seed: 17,
      evaluateHoldout,
      needReviewKeys: new Set(),
      guidanceMaxTokens: 2048,
      now: () => '2026-01-01T00:00:00.000Z',
    });

    const first = counted(backend);
    const outcome = await reflectOnBatch(make(first, store));
    const r = outcome.record.reflection;
    ReflectionLogRecordSchema.parse(outcome.record);
    // Two sample summaries and one critique, each under a JSON-schema grammar.
    expect(first.requests).toHaveLength(3);
    for (const request of first.requests) {
      expect(request.constraint.kind).toBe('json_schema');
      expect(request.prompt.system).toBe('');
      expect(request.prompt.userParts).toHaveLength(1);
    }
    expect(outcome.llmCalls).toBe(3);
    // The tiny model writes noise, but grammar-bound noise: never a generation error.
    expect(r.ineligible_reason, JSON.stringify(r.debug_info)).not.toBe('generation_error');
    expect(r.cache_artifacts.length).toBeGreaterThanOrEqual(2);
    for (const artifact of r.cache_artifacts) {
      // The apply intent is the engine's own crash record, validated where it is read.
      if (artifact.endsWith('_apply.json')) continue;
      const stage = (/(?:_|^reflection_cache\/)(summary|critique|batch_update|gate|holdout_baseline)(?:_[0-9a-f]+)?\.json$/.exec(artifact)![1]) as keyof typeof ARTIFACT_SCHEMAS;
      const parsed = ARTIFACT_SCHEMAS[stage].safeParse(JSON.parse(await readFile(join(dir, artifact), 'utf8')));
      expect(parsed.success, `${artifact}: ${parsed.error?.message}`).toBe(true);
    }
    const summary = SummaryArtifactSchema.parse(JSON.parse(await readFile(join(dir, r.cache_artifacts[0]), 'utf8')));
    for (const group of summary.groups) {
      expect(group.summary_error).toBeNull();
      expect(group.summary!.length).toBeGreaterThan(0);
    }
    expect(existsSync(join(dir, 'reflection_cache', 'epoch0_cycle0_critique.json'))).toBe(true);

    expect(outcome.applied).toBe(false);
    expect((await guidance.read()).step).toBe(0);
    const rerun = counted(backend);
    const again = await reflectOnBatch(make(rerun, new FsArtifactStore(dir)));
    expect(rerun.requests).toHaveLength(0);
    expect(again.llmCalls).toBe(0);
    expect(again.record.reflection.ineligible_reason).toBe(r.ineligible_reason);
    expect(again.record.reflection.proposal).toEqual(r.proposal);
  });
});
