import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsArtifactStore } from '../../io/FsArtifactStore';
import { GuidanceRepository } from '../../io/GuidanceRepository';
import { ReflectionLogRecordSchema } from '../../../shared/schemas/records';
import { RunConfigSchema } from '../../../shared/schemas/runConfig';
import type { GroupLabel } from '../../../shared/verdict';
import { reflectOnBatch, type ReflectionContext } from './reflectOnBatch';
import { BatchUpdateArtifactSchema, CritiqueArtifactSchema, SummaryArtifactSchema, type HoldoutRow } from './reflectionArtifacts';
import { ScriptedBackend, TEST_MISSION, makeGroup, makeTicket, type GroupSpec, type ScriptedReply } from './reflectionTestData';

const HELPFUL_RULE = '接地线端子必须紧固且无锈蚀，否则判定不通过';
const HARMFUL_RULE = '只要照片中出现接地线即可判定通过';
const CONFUSING_RULE = '接地线颜色不是黄绿色时判定不通过';

/**
 * The lead's holdout rollout, replaced by a deterministic rule table so the gate logic
 * is exercised on known numbers. Holdout: h1,h2 fail; h3,h4 pass.
 * baseline: h1 pass (false release), h2 fail, h3 pass, h4 fail -> match 0.5, release 0.5.
 */
function scriptedHoldout(calls: Record<string, string>[]) {
  return async (experiences: Record<string, string>): Promise<HoldoutRow[]> => {
    calls.push(experiences);
    const texts = Object.values(experiences).join('\n');
    let verdicts: (GroupLabel | null)[] = ['pass', 'fail', 'pass', 'fail'];
    if (texts.includes(HELPFUL_RULE)) verdicts = ['fail', 'fail', 'pass', 'pass']; // 1.0 / 0.0
    else if (texts.includes(HARMFUL_RULE)) verdicts = ['pass', 'pass', 'pass', 'pass']; // 0.5 / 1.0
    else if (texts.includes(CONFUSING_RULE)) verdicts = ['pass', 'fail', 'fail', null]; // 0.25 / 0.5
    const labels: GroupLabel[] = ['fail', 'fail', 'pass', 'pass'];
    return labels.map((label, i) => ({ ticket_key: `h${i + 1}::${label}`, label, verdict: verdicts[i] }));
  };
}

function addOp(text: string, extra: Record<string, unknown> = {}) {
  return { op: 'add', key: 'G2', text, rationale: '批次中接地端子松动被误判为通过', evidence: ['g1::fail'], ...extra };
}

function critique(operations: unknown[], uncertainty: string | null = null): string {
  return JSON.stringify({ operations, uncertainty_note: uncertainty });
}

const MISMATCH_BATCH: GroupSpec[] = [
  { group: 'g1', label: 'fail', verdicts: ['pass', 'pass', 'fail'] },
  { group: 'g2', label: 'pass', verdicts: ['pass', 'pass', 'pass'] },
];

let dir: string;
let store: FsArtifactStore;
let guidance: GuidanceRepository;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stageb-reflect-'));
  store = new FsArtifactStore(dir);
  await store.ensureDir();
  guidance = new GuidanceRepository({ path: join(dir, 'guidance.json'), mission: TEST_MISSION });
  await guidance.initialize({
    step: 0,
    updated_at: '2026-01-01T00:00:00.000Z',
    experiences: { G0: '检查BBU接地线是否连接到接地排', G1: '接地线应走线整齐' },
    metadata: {},
  });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function context(input: {
  backend: ScriptedBackend;
  specs?: GroupSpec[];
  holdoutCalls?: Record<string, string>[];
  reflection?: Record<string, unknown>;
  evaluateHoldout?: ReflectionContext['evaluateHoldout'];
  needReview?: string[];
  storeOverride?: FsArtifactStore;
  guidanceMaxTokens?: number;
}): ReflectionContext {
  const groups = (input.specs ?? MISMATCH_BATCH).map(makeGroup);
  const config = RunConfigSchema.parse({
    run_name: 't',
    mission: TEST_MISSION,
    stage_a_paths: ['x.jsonl'],
    guidance: { path: 'g.json' },
    model: { backend: 'llama-cpp', path: 'm.gguf' },
    reflection: input.reflection ?? {},
  });
  let tick = 0;
  return {
    backend: input.backend,
    store: input.storeOverride ?? store,
    guidance,
    mission: TEST_MISSION,
    epoch: 0,
    batchIndex: 0,
    cycle: 0,
    selections: groups.map((g) => g.selection),
    trajectories: groups.flatMap((g) => g.candidates),
    tickets: (input.specs ?? MISMATCH_BATCH).map((s) => makeTicket(s.group, s.label)),
    config: config.reflection,
    seed: 17,
    evaluateHoldout: input.evaluateHoldout !== undefined ? input.evaluateHoldout : scriptedHoldout(input.holdoutCalls ?? []),
    needReviewKeys: new Set(input.needReview ?? []),
    guidanceMaxTokens: input.guidanceMaxTokens ?? null,
    now: () => `2026-01-01T00:00:${String(tick++ % 60).padStart(2, '0')}.000Z`,
  };
}

describe('reflectOnBatch: eligibility short-circuits', () => {
  it('an all-correct batch is a noop with no model call and no holdout rollout', async () => {
    const backend = new ScriptedBackend([]);
    const holdoutCalls: Record<string, string>[] = [];
    const outcome = await reflectOnBatch(context({
      backend,
      holdoutCalls,
      specs: [
        { group: 'g1', label: 'fail', verdicts: ['fail', 'fail'] },
        { group: 'g2', label: 'pass', verdicts: ['pass', 'pass'] },
      ],
    }));
    expect(backend.calls).toBe(0);
    expect(holdoutCalls).toHaveLength(0);
    expect(outcome.llmCalls).toBe(0);
    expect(outcome.applied).toBe(false);
    expect(ReflectionLogRecordSchema.parse(outcome.record)).toEqual(outcome.record);
    expect(outcome.record.reflection).toMatchObject({ eligible: false, ineligible_reason: 'non_conflict_bundle', applied: false, guidance_step_before: 0, guidance_step_after: 0 });
    expect(outcome.record.reflection.proposal.action).toBe('noop');
    expect((await guidance.read()).step).toBe(0);
    expect(existsSync(join(dir, 'reflection_cache'))).toBe(false);
  });

  it('a batch eligible only through need_review groups makes no call (nothing learnable)', async () => {
    const backend = new ScriptedBackend([]);
    const outcome = await reflectOnBatch(context({
      backend,
      specs: [{ group: 'noisy', label: 'pass', verdicts: ['fail', 'fail'] }],
      needReview: ['noisy::pass'],
    }));
    expect(backend.calls).toBe(0);
    expect(outcome.record.reflection).toMatchObject({ eligible: true, ineligible_reason: 'no_operations', applied: false });
  });

  it('reflection disabled is recorded and costs nothing', async () => {
    const backend = new ScriptedBackend([]);
    const outcome = await reflectOnBatch(context({ backend, reflection: { enabled: false } }));
    expect(backend.calls).toBe(0);
    expect(outcome.record.reflection.ineligible_reason).toBe('reflection_disabled');
  });
});

describe('reflectOnBatch: the holdout gate', () => {
  it('applies a plan that helps on the holdout: step +1 with provenance', async () => {
    const backend = new ScriptedBackend([critique([addOp(HELPFUL_RULE)])]);
    const holdoutCalls: Record<string, string>[] = [];
    const outcome = await reflectOnBatch(context({ backend, holdoutCalls }));
    const r = outcome.record.reflection;
    expect(r.ineligible_reason).toBeNull();
    expect(outcome.applied).toBe(true);
    expect(r).toMatchObject({ applied: true, eligible: true, guidance_step_before: 0, guidance_step_after: 1 });
    expect(r.pre_uplift).toEqual({ label_match_rate: 0.5, false_release_rate: 0.5, n: 4 });
    expect(r.post_uplift).toEqual({ label_match_rate: 1, false_release_rate: 0, n: 4 });
    expect(r.uplift_probability).toBeGreaterThan(0.8);
    expect(r.proposal).toMatchObject({ action: 'refine', evidence_group_ids: ['g1'], uncertainty_note: null });
    expect(r.proposal.operations).toEqual([{ op: 'add', key: 'G2', text: HELPFUL_RULE, rationale: '批次中接地端子松动被误判为通过', evidence: ['g1::fail'] }]);
    // 2 sample summaries + 1 critique.
    expect(outcome.llmCalls).toBe(3);
    expect(backend.calls).toBe(3);
    expect(holdoutCalls).toHaveLength(2);

    const stored = await guidance.read();
    expect(stored.step).toBe(1);
    expect(outcome.guidance.step).toBe(1);
    expect(stored.experiences.G2).toBe(HELPFUL_RULE);
    expect(stored.metadata.G2).toMatchObject({ origin: 'reflection', reflection_id: r.reflection_id, sources: ['g1::fail'] });
    expect(existsSync(join(dir, 'snapshots'))).toBe(true);

    expect(r.cache_artifacts).toEqual([
      'reflection_cache/epoch0_cycle0_summary.json',
      'reflection_cache/epoch0_cycle0_critique.json',
      'reflection_cache/epoch0_cycle0_batch_update.json',
      expect.stringMatching(/^reflection_cache\/holdout_baseline_[0-9a-f]+\.json$/),
      'reflection_cache/epoch0_cycle0_gate.json',
      'reflection_cache/epoch0_cycle0_apply.json',
    ]);
    const summary = SummaryArtifactSchema.parse(JSON.parse(await readFile(join(dir, r.cache_artifacts[0]), 'utf8')));
    expect(summary.group_ids).toEqual(['g1', 'g2']);
    expect(summary.groups[0]).toMatchObject({ ticket_key: 'g1::fail', verdict: 'pass', critique: '未核对接地端子是否紧固。' });
    CritiqueArtifactSchema.parse(JSON.parse(await readFile(join(dir, r.cache_artifacts[1]), 'utf8')));
    const update = BatchUpdateArtifactSchema.parse(JSON.parse(await readFile(join(dir, r.cache_artifacts[2]), 'utf8')));
    expect(update.preview_guidance.experiences).toEqual(stored.experiences);
    expect(update.provenance).toMatchObject({ reflection_id: r.reflection_id, summary_artifact: r.cache_artifacts[0], critique_artifact: r.cache_artifacts[1] });
  });

  it('rejects a plan that lowers holdout label match', async () => {
    const backend = new ScriptedBackend([critique([addOp(CONFUSING_RULE)])]);
    const outcome = await reflectOnBatch(context({ backend }));
    expect(outcome.record.reflection).toMatchObject({ applied: false, ineligible_reason: 'holdout_no_uplift', guidance_step_after: 0 });
    expect(outcome.record.reflection.post_uplift).toEqual({ label_match_rate: 0.25, false_release_rate: 0.5, n: 4 });
    expect(outcome.record.reflection.uplift_probability).toBe(0);
    expect((await guidance.read()).step).toBe(0);
    expect((await guidance.read()).experiences.G2).toBeUndefined();
  });

  it('rejects a plan that raises the false-release rate beyond the bound', async () => {
    const backend = new ScriptedBackend([critique([addOp(HARMFUL_RULE)])]);
    const outcome = await reflectOnBatch(context({ backend, reflection: { max_false_release_increase: 0.25 } }));
    expect(outcome.record.reflection).toMatchObject({ applied: false, ineligible_reason: 'holdout_false_release_increase' });
    expect(outcome.record.reflection.post_uplift?.false_release_rate).toBe(1);
    expect((await guidance.read()).step).toBe(0);
  });

  it('refuses a plan whose label-match delta is below apply_if_delta', async () => {
    // HARMFUL_RULE keeps label match at 0.5 (delta 0) and is only allowed with a loose release bound.
    const loose = await reflectOnBatch(context({ backend: new ScriptedBackend([critique([addOp(HARMFUL_RULE)])]), reflection: { max_false_release_increase: 1, apply_if_delta: 0.1 } }));
    expect(loose.record.reflection.ineligible_reason).toBe('holdout_no_uplift');
    expect((await guidance.read()).step).toBe(0);
  });

  it('rejects an uncertain plan when allow_uncertain is false, before rolling out the holdout', async () => {
    const holdoutCalls: Record<string, string>[] = [];
    const backend = new ScriptedBackend([critique([addOp(HELPFUL_RULE)], '可能是标签错误')]);
    const outcome = await reflectOnBatch(context({ backend, holdoutCalls }));
    expect(outcome.record.reflection).toMatchObject({ applied: false, ineligible_reason: 'uncertain_rejected' });
    expect(outcome.record.reflection.proposal.uncertainty_note).toBe('可能是标签错误');
    expect(holdoutCalls).toHaveLength(0);
    expect((await guidance.read()).step).toBe(0);
  });

  it('lets an uncertain but helpful plan through when allow_uncertain is true', async () => {
    const backend = new ScriptedBackend([critique([addOp(HELPFUL_RULE)], '证据较少')]);
    const outcome = await reflectOnBatch(context({ backend, reflection: { allow_uncertain: true } }));
    expect(outcome.applied).toBe(true);
    expect((await guidance.read()).step).toBe(1);
  });

  it('never applies blind: no holdout -> no_holdout', async () => {
    const backend = new ScriptedBackend([critique([addOp(HELPFUL_RULE)])]);
    const outcome = await reflectOnBatch(context({ backend, evaluateHoldout: null }));
    expect(outcome.record.reflection).toMatchObject({ applied: false, ineligible_reason: 'no_holdout' });
    const empty = await reflectOnBatch({ ...context({ backend: new ScriptedBackend([]) }), evaluateHoldout: async () => [] });
    expect(empty.record.reflection.ineligible_reason).toBe('no_holdout');
    expect((await guidance.read()).step).toBe(0);
  });
});

describe('reflectOnBatch: generation errors leave guidance untouched', () => {
  const bad: [string, ScriptedReply, RegExp][] = [
    ['prose around JSON', `好的，以下是修改：${critique([addOp(HELPFUL_RULE)])}`, /not a bare JSON object/],
    ['a markdown fence', '```json\n' + critique([addOp(HELPFUL_RULE)]) + '\n```', /not a bare JSON object/],
    ['truncated output', { text: critique([addOp(HELPFUL_RULE)]).slice(0, 40), finishReason: 'length' }, /truncated/],
    ['a schema violation (evidence outside the batch)', critique([addOp(HELPFUL_RULE, { evidence: ['zz::pass'] })]), /schema violation/],
    ['a missing key', JSON.stringify({ operations: [addOp(HELPFUL_RULE)] }), /schema violation/],
    ['zero operations', critique([]), /operations: Too small/],
  ];
  for (const [name, reply, message] of bad) {
    it(`${name} -> generation_error`, async () => {
      const before = await readFile(join(dir, 'guidance.json'), 'utf8');
      const holdoutCalls: Record<string, string>[] = [];
      const outcome = await reflectOnBatch(context({ backend: new ScriptedBackend([reply]), holdoutCalls }));
      const r = outcome.record.reflection;
      expect(r).toMatchObject({ eligible: true, applied: false, ineligible_reason: 'generation_error', guidance_step_after: 0 });
      expect(JSON.stringify(r.debug_info)).toMatch(message);
      expect(holdoutCalls).toHaveLength(0);
      expect(await readFile(join(dir, 'guidance.json'), 'utf8')).toBe(before);
      expect(existsSync(join(dir, 'reflection_cache', 'epoch0_cycle0_batch_update.json'))).toBe(false);
      expect(ReflectionLogRecordSchema.safeParse(outcome.record).success).toBe(true);
    });
  }

  it('a plan that copies Stage-A text is a rejected_operation', async () => {
    const backend = new ScriptedBackend([critique([{ op: 'modify', key: 'G1', text: 'BBU设备×1，标签/可识别', rationale: '', evidence: ['g1::fail'] }])]);
    const outcome = await reflectOnBatch(context({ backend }));
    expect(outcome.record.reflection).toMatchObject({ applied: false, ineligible_reason: 'rejected_operation' });
    expect((await guidance.read()).step).toBe(0);
  });
});

describe('reflectOnBatch: step conflicts', () => {
  it('an annotator save during the gate wins; the engine records step_conflict and returns the new guidance', async () => {
    const annotator = new GuidanceRepository({ path: join(dir, 'guidance.json'), mission: TEST_MISSION });
    const holdout = scriptedHoldout([]);
    let edited = false;
    const outcome = await reflectOnBatch(context({
      backend: new ScriptedBackend([critique([addOp(HELPFUL_RULE)])]),
      evaluateHoldout: async (experiences) => {
        if (!edited) {
          edited = true;
          const cur = await annotator.read();
          await annotator.write({ experiences: { ...cur.experiences, G1: '接地线应走线整齐并绑扎' }, metadata: cur.metadata }, cur.step);
        }
        return holdout(experiences);
      },
    }));
    expect(outcome.record.reflection).toMatchObject({ applied: false, ineligible_reason: 'step_conflict', guidance_step_after: 0 });
    expect(outcome.guidance.step).toBe(1);
    expect(outcome.guidance.experiences.G1).toBe('接地线应走线整齐并绑扎');
    expect(outcome.guidance.experiences.G2).toBeUndefined();
  });
});

describe('reflectOnBatch: the stage cache', () => {
  it('a rerun with a complete cache makes zero model calls and zero holdout rollouts', async () => {
    const first = await reflectOnBatch(context({ backend: new ScriptedBackend([critique([addOp(CONFUSING_RULE)])]) }));
    expect(first.llmCalls).toBe(3);
    // A fresh store object: only the files remain.
    const rerunBackend = new ScriptedBackend([]);
    const holdoutCalls: Record<string, string>[] = [];
    const second = await reflectOnBatch(context({ backend: rerunBackend, holdoutCalls, storeOverride: new FsArtifactStore(dir) }));
    expect(rerunBackend.calls).toBe(0);
    expect(second.llmCalls).toBe(0);
    expect(holdoutCalls).toHaveLength(0);
    const { created_at: _a, ...a } = first.record;
    const { created_at: _b, ...b } = second.record;
    expect({ ...b.reflection, debug_info: null }).toEqual({ ...a.reflection, debug_info: null });
    expect(second.record.reflection.debug_info?.stages).toEqual({ summary: 'reused', critique: 'reused', batch_update: 'reused', holdout_baseline: 'reused', gate: 'reused' });
  });

  it('caches no wall-clock time: the rule an apply wrote is dated when the guidance is written, the others keep theirs', async () => {
    const ctx = { ...context({ backend: new ScriptedBackend([critique([addOp(HELPFUL_RULE)])]) }), now: () => '2026-02-02T00:00:00.000Z' };
    const outcome = await reflectOnBatch(ctx);
    expect(outcome.applied).toBe(true);
    for (const name of outcome.record.reflection.cache_artifacts) {
      const text = await readFile(join(dir, name), 'utf8');
      expect(text, name).not.toMatch(/created_at|updated_at|\d{4}-\d{2}-\d{2}T\d{2}:/);
    }
    const stored = await guidance.read();
    // The initial rules keep the initial file's time; the new one has the time of the write.
    expect(stored.metadata.G0.updated_at).toBe('2026-01-01T00:00:00.000Z');
    expect(stored.metadata.G1.updated_at).toBe('2026-01-01T00:00:00.000Z');
    expect(stored.metadata.G2.updated_at).toBe('2026-02-02T00:00:00.000Z');
  });

  it('reuses the cache an older version wrote (created_at on every artifact, timed rule metadata)', async () => {
    const first = await reflectOnBatch(context({ backend: new ScriptedBackend([critique([addOp(CONFUSING_RULE)])]) }));
    expect(first.applied).toBe(false);
    for (const name of first.record.reflection.cache_artifacts) {
      const file = join(dir, name);
      const artifact = JSON.parse(await readFile(file, 'utf8'));
      for (const preview of [artifact.preview_guidance, artifact.proposed_guidance]) {
        for (const meta of Object.values(preview?.metadata ?? {})) (meta as Record<string, unknown>).updated_at = '2025-06-01T00:00:00.000Z';
      }
      await writeFile(file, JSON.stringify({ ...artifact, created_at: '2025-06-01T00:00:00.000Z' }));
    }
    const rerunBackend = new ScriptedBackend([]);
    const holdoutCalls: Record<string, string>[] = [];
    const second = await reflectOnBatch(context({ backend: rerunBackend, holdoutCalls, storeOverride: new FsArtifactStore(dir) }));
    expect(rerunBackend.calls).toBe(0);
    expect(holdoutCalls).toHaveLength(0);
    expect(second.record.reflection.ineligible_reason).toBe(first.record.reflection.ineligible_reason);
    expect(second.record.reflection.debug_info?.stages).toEqual({ summary: 'reused', critique: 'reused', batch_update: 'reused', holdout_baseline: 'reused', gate: 'reused' });
  });

  it('consecutive batches on the same guidance roll the holdout baseline out once', async () => {
    const holdoutCalls: Record<string, string>[] = [];
    await reflectOnBatch(context({ backend: new ScriptedBackend([critique([addOp(CONFUSING_RULE)])]), holdoutCalls }));
    await reflectOnBatch({ ...context({ backend: new ScriptedBackend([critique([addOp(HARMFUL_RULE)])]), holdoutCalls }), batchIndex: 1, cycle: 1 });
    // baseline once + one preview per batch.
    expect(holdoutCalls).toHaveLength(3);
    expect(existsSync(join(dir, 'reflection_cache', 'epoch0_cycle1_gate.json'))).toBe(true);
  });

  it('a corrupted critique artifact regenerates only the critique stage', async () => {
    await reflectOnBatch(context({ backend: new ScriptedBackend([critique([addOp(CONFUSING_RULE)])]) }));
    const summaryPath = join(dir, 'reflection_cache', 'epoch0_cycle0_summary.json');
    const updatePath = join(dir, 'reflection_cache', 'epoch0_cycle0_batch_update.json');
    const summaryBefore = await readFile(summaryPath, 'utf8');
    const updateBefore = await readFile(updatePath, 'utf8');
    await writeFile(join(dir, 'reflection_cache', 'epoch0_cycle0_critique.json'), '{"stage":"critique","operations":[{"op":', 'utf8');

    const backend = new ScriptedBackend([critique([addOp(CONFUSING_RULE)])]);
    const outcome = await reflectOnBatch(context({ backend }));
    expect(backend.calls).toBe(1);
    expect(backend.requests[0].constraint.kind).toBe('json_schema');
    expect(outcome.record.reflection.debug_info?.stages).toMatchObject({ summary: 'reused', batch_update: 'reused' });
    expect(String((outcome.record.reflection.debug_info?.stages as Record<string, string>).critique)).toMatch(/^generated/);
    expect(await readFile(summaryPath, 'utf8')).toBe(summaryBefore);
    expect(await readFile(updatePath, 'utf8')).toBe(updateBefore);
    CritiqueArtifactSchema.parse(JSON.parse(await readFile(join(dir, 'reflection_cache', 'epoch0_cycle0_critique.json'), 'utf8')));
  });

  it('a schema-invalid summary artifact regenerates the summary stage only', async () => {
    await reflectOnBatch(context({ backend: new ScriptedBackend([critique([addOp(CONFUSING_RULE)])]) }));
    const summaryPath = join(dir, 'reflection_cache', 'epoch0_cycle0_summary.json');
    const parsed = JSON.parse(await readFile(summaryPath, 'utf8'));
    parsed.groups = 'not a list';
    await writeFile(summaryPath, JSON.stringify(parsed), 'utf8');
    const backend = new ScriptedBackend([]);
    const outcome = await reflectOnBatch(context({ backend }));
    // Two sample summaries again; the regenerated summary is identical, so the critique is reused.
    expect(backend.calls).toBe(2);
    expect(outcome.record.reflection.debug_info?.stages).toMatchObject({ critique: 'reused', batch_update: 'reused' });
    SummaryArtifactSchema.parse(JSON.parse(await readFile(summaryPath, 'utf8')));
  });

  it('reuses selection summaries from the engine instead of calling the summarizer', async () => {
    const backend = new ScriptedBackend([critique([addOp(CONFUSING_RULE)])]);
    const ctx = context({ backend });
    const selections = ctx.selections.map((s) => ({ ...s, summary: '已有总结。', critique: '已有批评。' }));
    const outcome = await reflectOnBatch({ ...ctx, selections });
    expect(backend.calls).toBe(1);
    expect(outcome.sampleSummaries.map((g) => g.summary)).toEqual(['已有总结。', '已有总结。']);
    // The critique prompt carries the summaries, never the Stage-A text.
    const prompt = backend.requests[0].prompt.userParts.join('');
    expect(prompt).toContain('已有批评。');
    expect(prompt).not.toContain('标签/可识别');
  });

  it('does not summarise a group whose candidates were all malformed', async () => {
    const backend = new ScriptedBackend([critique([addOp(CONFUSING_RULE)])]);
    const outcome = await reflectOnBatch(context({
      backend,
      specs: [
        { group: 'g1', label: 'fail', verdicts: ['pass', 'pass'] },
        { group: 'm', label: 'pass', verdicts: [null, null] },
      ],
    }));
    // One sample summary (g1) and the critique.
    expect(backend.calls).toBe(2);
    expect(outcome.sampleSummaries.find((g) => g.group_id === 'm')).toMatchObject({ summary: null, critique: null, summary_error: expect.stringMatching(/malformed/) });
    expect(outcome.record.reflection.debug_info?.summary_warnings).toHaveLength(1);
  });

  it('takes the engine summarizer results as they are, errors included, without calling again', async () => {
    const backend = new ScriptedBackend([critique([addOp(CONFUSING_RULE)])]);
    const outcome = await reflectOnBatch({
      ...context({ backend }),
      sampleSummaries: new Map([
        ['g1::fail', { summary: '引擎总结。', critique: '引擎批评。', error: null }],
        ['g2::pass', { summary: null, critique: null, error: 'output truncated' }],
      ]),
    });
    expect(backend.calls).toBe(1);
    expect(outcome.sampleSummaries.map((g) => [g.summary, g.summary_error])).toEqual([['引擎总结。', null], [null, 'output truncated']]);
  });
});

const NEUTRAL_RULE = '接地排标识应清晰可见';

describe('reflectOnBatch: a gate that demands evidence', () => {
  it('never applies a plan that changes no holdout verdict, even with apply_if_delta 0', async () => {
    const outcome = await reflectOnBatch(context({ backend: new ScriptedBackend([critique([addOp(NEUTRAL_RULE)])]), reflection: { min_uplift_probability: 0 } }));
    expect(outcome.record.reflection).toMatchObject({ applied: false, ineligible_reason: 'holdout_no_verdict_change' });
    expect(outcome.record.reflection.decision_detail).toMatch(/0 of 4 verdicts changed/);
    expect((await guidance.read()).step).toBe(0);
    const allowed = await reflectOnBatch({ ...context({ backend: new ScriptedBackend([critique([addOp(NEUTRAL_RULE)])]), reflection: { min_uplift_probability: 0, apply_unchanged_verdicts: true } }), cycle: 1 });
    expect(allowed.applied).toBe(true);
  });

  it('requires the paired-bootstrap probability to reach min_uplift_probability', async () => {
    const strict = await reflectOnBatch(context({ backend: new ScriptedBackend([critique([addOp(HELPFUL_RULE)])]), reflection: { min_uplift_probability: 0.99 } }));
    // Two of four tickets fixed, none broken: P(uplift > 0) = 1 - (1/2)^4 ≈ 0.94 < 0.99.
    expect(strict.record.reflection).toMatchObject({ applied: false, ineligible_reason: 'holdout_uplift_uncertain' });
    expect(strict.record.reflection.uplift_probability).toBeGreaterThan(0.9);
    expect(strict.record.reflection.uplift_probability).toBeLessThan(0.99);
    expect((await guidance.read()).step).toBe(0);
  });

  it('refuses plans on a holdout without a fail ticket, and says why, before the preview rollout', async () => {
    const calls: Record<string, string>[] = [];
    const passOnly = async (experiences: Record<string, string>): Promise<HoldoutRow[]> => {
      calls.push(experiences);
      return [{ ticket_key: 'h1::pass', label: 'pass', verdict: 'fail' }, { ticket_key: 'h2::pass', label: 'pass', verdict: 'pass' }];
    };
    const outcome = await reflectOnBatch(context({ backend: new ScriptedBackend([critique([addOp(HELPFUL_RULE)])]), evaluateHoldout: passOnly }));
    expect(outcome.record.reflection).toMatchObject({ applied: false, ineligible_reason: 'holdout_no_fail_ticket' });
    expect(outcome.record.reflection.decision_detail).toMatch(/cannot see a false release/);
    expect(calls).toHaveLength(1);
  });

  it('rejects a plan whose rendered guidance would exceed guidance.max_tokens', async () => {
    const outcome = await reflectOnBatch(context({ backend: new ScriptedBackend([critique([addOp(HELPFUL_RULE)])]), guidanceMaxTokens: 40 }));
    expect(outcome.record.reflection).toMatchObject({ applied: false, ineligible_reason: 'guidance_over_budget' });
    expect(outcome.record.reflection.decision_detail).toMatch(/over guidance.max_tokens = 40/);
  });
});

describe('reflectOnBatch: people decide about people\'s rules', () => {
  async function annotatorRule(): Promise<void> {
    const base = await guidance.read();
    await guidance.write({ experiences: { ...base.experiences, G1: '接地线应走线整齐并绑扎固定' } }, base.step, { by: { kind: 'save', author: 'Li Wei' } });
  }

  it('queues an operation on an annotator\'s rule and leaves the rule unchanged', async () => {
    await annotatorRule();
    const before = await guidance.read();
    const calls: Record<string, string>[] = [];
    const outcome = await reflectOnBatch(context({ backend: new ScriptedBackend([critique([{ op: 'modify', key: 'G1', text: HELPFUL_RULE, rationale: 'r', evidence: ['g1::fail'] }])]), holdoutCalls: calls }));
    expect(outcome.record.reflection).toMatchObject({ applied: false, ineligible_reason: 'queued_for_review', guidance_step_after: before.step });
    expect(outcome.record.reflection.proposal.operations).toEqual([{ op: 'modify', key: 'G1', text: HELPFUL_RULE, rationale: 'r', evidence: ['g1::fail'] }]);
    expect(calls).toHaveLength(0);
    const after = await guidance.read();
    expect(after.step).toBe(before.step);
    expect(after.experiences.G1).toBe('接地线应走线整齐并绑扎固定');
    const queue = await store.readReviewQueue();
    expect(queue).toHaveLength(1);
    expect(queue[0]).toMatchObject({
      type: 'proposal',
      item_id: outcome.record.reflection.review_items[0],
      reflection_id: outcome.record.reflection.reflection_id,
      guidance_step: before.step,
      targets: [{ key: 'G1', rule_id: before.metadata.G1.rule_id, text: '接地线应走线整齐并绑扎固定', reason: expect.stringMatching(/Li Wei/) }],
    });
    // A rerun of the same batch (resume) does not queue it twice.
    await reflectOnBatch(context({ backend: new ScriptedBackend([]) }));
    expect(await store.readReviewQueue()).toHaveLength(1);
  });

  it('gates and applies the rest of a plan while the G0 change goes to the queue', async () => {
    const outcome = await reflectOnBatch(context({
      backend: new ScriptedBackend([critique([addOp(HELPFUL_RULE), { op: 'modify', key: 'G0', text: '检查接地线与接地排的连接和紧固', rationale: 'r', evidence: ['g1::fail'] }])]),
      // Room for two operations in the critique's output limits.
      reflection: { max_new_tokens: 4096 },
    }));
    expect(outcome.applied).toBe(true);
    const after = await guidance.read();
    expect(after.experiences.G0).toBe('检查BBU接地线是否连接到接地排');
    expect(Object.values(after.experiences)).toContain(HELPFUL_RULE);
    expect(after.written_by).toMatchObject({ kind: 'reflection', author: null, reflection_id: outcome.record.reflection.reflection_id, epoch: 0, batch_index: 0 });
    expect(outcome.record.reflection.review_items).toHaveLength(1);
    expect(outcome.record.reflection.decision_detail).toMatch(/1 operation\(s\) on protected rules queued/);
    const update = BatchUpdateArtifactSchema.parse(JSON.parse(await readFile(join(dir, 'reflection_cache/epoch0_cycle0_batch_update.json'), 'utf8')));
    expect(update.proposed_guidance.experiences.G0).toBe('检查接地线与接地排的连接和紧固');
    expect(update.preview_guidance.experiences.G0).toBe('检查BBU接地线是否连接到接地排');
  });
});
