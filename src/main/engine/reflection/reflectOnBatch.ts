import { z } from 'zod';
import { StageBError } from '../../../shared/errors';
import type { GuidanceState } from '../../../shared/schemas/guidance';
import { ReflectionLogRecordSchema } from '../../../shared/schemas/records';
import type {
  IneligibleReason,
  ReflectionLogRecord,
  ReflectionOperation,
  ReflectionProposal,
  SelectionRecord,
  TrajectoryRecord,

} from '../../../shared/schemas/records';
import type { RunConfig } from '../../../shared/schemas/runConfig';
import type { Ticket } from '../../../shared/schemas/stageARecord';
import { writeReflectionPlan } from './writeReflectionPlan';
import { guidanceContentHashWithoutTimes } from '../../../shared/guidance/guidanceContentHash';
import { renderExperiences } from '../../../shared/guidance/renderExperiences';
import { operationTargets } from '../../../shared/guidance/protectedRules';
import type { ReviewProposal } from '../../../shared/schemas/reviewQueue';
import type { LlmBackend } from '../../llm/LlmBackend';
import type { ArtifactStore, GuidanceStore } from '../ports/ArtifactStore';
import { buildBundle, evaluateEligibility, type Eligibility } from './eligibility';
import {
  BatchUpdateArtifactSchema,
  CritiqueArtifactSchema,
  GateArtifactSchema,
  HoldoutBaselineArtifactSchema,
  SummaryArtifactSchema,
  SummaryGroupSchema,
  fingerprint,
  holdoutBaselineCacheName,
  readCachedArtifact,
  reflectionCacheName,
  type BatchUpdateArtifact,
  type CritiqueArtifact,
  type HoldoutRow,
  type SummaryArtifact,
  type SummaryGroup,
} from './reflectionArtifacts';
import { buildSummaryArtifact } from './summaryStage';
import { runCritiqueStage } from './critiqueStage';
import { buildBatchUpdate } from './batchUpdateStage';
import { decideGate, refuseHoldout, type GateDecision } from './holdoutGate';
import { reflectionDecode } from './reflectionDecode';
import type { SampleSummaryResult } from './sampleSummarizer';

export type ReflectionContext = {
  backend: LlmBackend;
  store: ArtifactStore;
  guidance: GuidanceStore;
  mission: string;
  epoch: number;
  batchIndex: number;
  /** Reflection cycle counter (names the cache artifacts). */
  cycle: number;
  /** The batch's selections and all their candidates. */
  selections: readonly SelectionRecord[];
  trajectories: readonly TrajectoryRecord[];
  /** Tickets by ticket_key (for the SampleSummarizer's view of the Stage-A text). */
  tickets: ReadonlyMap<string, Ticket> | readonly Ticket[];
  config: RunConfig['reflection'];
  seed: number;
  /**
   * Rolls the holdout tickets out under `experiences` with fixed seeds (the same for
   * baseline and preview) and returns one row per labelled holdout ticket; null or an
   * empty result means there is no holdout.
   */
  evaluateHoldout: ((experiences: Record<string, string>) => Promise<HoldoutRow[]>) | null;
  needReviewKeys: ReadonlySet<string>;
  /** guidance.max_tokens: a plan whose rendered guidance is longer is rejected (null: unchecked). */
  guidanceMaxTokens: number | null;
  /**
   * SampleSummarizer results the engine already got for this batch, by ticket_key. A group
   * found here is never summarised again, even when its result was an error (the same
   * greedy call would fail the same way). Without it, selection.summary/critique are used
   * and only groups lacking them are summarised.
   */
  sampleSummaries?: ReadonlyMap<string, SampleSummaryResult>;
  now(): string;
  signal?: AbortSignal;
};

export type ReflectionOutcome = {
  /** Append to reflection.jsonl. */
  record: ReflectionLogRecord;
  applied: boolean;
  /** The guidance in force after this step (re-read after a step conflict). */
  guidance: GuidanceState;
  /** Model calls this step made (0 when ineligible or fully cached). */
  llmCalls: number;
  /** Per-group summary/critique of the learnable groups (empty when no stage ran). */
  sampleSummaries: SummaryGroup[];
};

const CACHE_DIR = 'reflection_cache';

/**
 * The decision of an apply, written to the cache just BEFORE the guidance write. A crash
 * after the write but before reflection.jsonl gets its record leaves the guidance one
 * step ahead of the log; on resume the batch's reflection re-runs against the moved
 * guidance, every fingerprint differs, and the rerun would reflect anew (another apply,
 * or a record saying "not applied" for a step that was applied). When the guidance is
 * exactly the state this intent says the apply produced, the rerun returns the recorded
 * decision instead (test/reliability/engineCrash.test.ts kills a run in that window).
 */
const ApplyIntentSchema = z.object({
  stage: z.literal('apply'),
  schema_version: z.literal(1),
  epoch: z.number().int().nonnegative(),
  cycle: z.number().int().nonnegative(),
  batch_index: z.number().int().nonnegative(),
  guidance_step_after: z.number().int().nonnegative(),
  experiences_after: z.string(),
  record: ReflectionLogRecordSchema,
  sample_summaries: z.array(SummaryGroupSchema),
});
const applyIntentName = (epoch: number, cycle: number) => `epoch${epoch}_cycle${cycle}_apply.json`;

/** In-memory holdout baselines per store, keyed by the baseline fingerprint. */
const baselineMemory = new WeakMap<ArtifactStore, Map<string, HoldoutRow[]>>();
/**
 * In-memory holdout rows of previewed guidance per store: a later batch proposing a plan with
 * the same result (a model repeats itself) is gated without another holdout pass. The rows are
 * a function of the experiences, the seed and the holdout, so a resumed process that has no
 * memory evaluates them again and gets the same ones.
 */
const previewMemory = new WeakMap<ArtifactStore, Map<string, HoldoutRow[]>>();

/**
 * The learning step after one complete batch: eligibility → summary → critique →
 * batch update → holdout gate → compare-and-swap apply. Each stage's artifact is cached
 * (reflection_cache/epoch{E}_cycle{C}_{stage}.json) and reused on rerun when well-formed
 * and made from the same inputs, so a rerun with a complete cache makes no model call.
 *
 * Decisions (recorded as ineligible_reason, guidance untouched unless applied):
 * - reflection disabled → 'reflection_disabled'; bundle without conflict → 'non_conflict_bundle'
 *   (no model call);
 * - eligible only through need_review flags, no learnable group left → 'no_operations'
 *   (no model call: there is nothing to learn from);
 * - critique output not JSON / truncated / schema-invalid, or ZERO operations →
 *   'generation_error' (stage-b-three-step-reflection; the error is in debug_info);
 * - a plan applyOperations refuses → 'rejected_operation';
 * - operations on protected rules (reflection.protected_rules) → queued in review_queue.jsonl,
 *   never applied; when that is every operation → 'queued_for_review';
 * - uncertainty_note with allow_uncertain=false → 'uncertain_rejected' (checked before the
 *   holdout, which it saves);
 * - rendered guidance over guidance.max_tokens → 'guidance_over_budget';
 * - no labelled holdout → 'no_holdout', one without a fail ticket → 'holdout_no_fail_ticket'
 *   (never applied blind; the proposal stays in the log for an annotator);
 * - gate failures (holdoutGate.ts) → 'holdout_false_release_increase' /
 *   'holdout_no_verdict_change' / 'holdout_no_uplift' / 'holdout_uplift_uncertain';
 * - the guidance moved since it was read (annotator edit) → 'step_conflict'.
 */
export async function reflectOnBatch(ctx: ReflectionContext): Promise<ReflectionOutcome> {
  const current = await ctx.guidance.read();
  const stepBefore = current.step;
  const experiencesFp = fingerprint(current.experiences);
  const intentName = applyIntentName(ctx.epoch, ctx.cycle);
  if (ctx.config.enabled) {
    const intent = ApplyIntentSchema.safeParse(await ctx.store.readCacheArtifact(intentName));
    if (
      intent.success &&
      intent.data.batch_index === ctx.batchIndex &&
      intent.data.guidance_step_after === stepBefore &&
      intent.data.experiences_after === experiencesFp
    ) {
      // This batch's apply already reached the guidance file; only its log record was lost.
      return { record: intent.data.record, applied: true, guidance: current, llmCalls: 0, sampleSummaries: intent.data.sample_summaries };
    }
  }
  const bundle = buildBundle(ctx.selections, ctx.trajectories);
  const eligibility = evaluateEligibility(bundle, ctx.needReviewKeys);
  const learnable = bundle.filter((g) => eligibility.learnable.includes(g.selection.ticket_key));
  const summaryFp = fingerprint({
    mission: ctx.mission,
    epoch: ctx.epoch,
    cycle: ctx.cycle,
    batch_index: ctx.batchIndex,
    guidance_step: stepBefore,
    experiences: experiencesFp,
    max_new_tokens: ctx.config.max_new_tokens,
    groups: learnable.map(({ selection: s }) => [s.ticket_key, s.label, s.verdict, s.reason, s.vote, s.signals]),
    excluded: eligibility.need_review,
  });
  const reflectionId = `refl-e${ctx.epoch}-c${ctx.cycle}-${summaryFp.slice(0, 8)}`;
  const cacheArtifacts: string[] = [];
  const debug: Record<string, unknown> = {
    eligibility: { conditions: eligibility.conditions, learnable: eligibility.learnable, need_review: eligibility.need_review },
    stages: {} as Record<string, string>,
  };
  const stages = debug.stages as Record<string, string>;
  let llmCalls = 0;
  let sampleSummaries: SummaryGroup[] = [];
  let reviewItems: string[] = [];

  const finish = async (input: {
    reason: IneligibleReason | null;
    applied?: boolean;
    operations?: ReflectionOperation[];
    uncertainty?: string | null;
    evidenceGroupIds?: string[];
    gate?: GateDecision | null;
    guidance?: GuidanceState;
    detail?: string | null;
  }): Promise<ReflectionOutcome> => {
    const operations = input.operations ?? [];
    const proposal: ReflectionProposal = {
      action: operations.length > 0 ? 'refine' : 'noop',
      summary: describeBundle(ctx, eligibility, bundle.length),
      critique: joinCritiques(sampleSummaries),
      operations,
      evidence_group_ids: input.evidenceGroupIds ?? mismatchedGroupIds(learnable.map((g) => g.selection)),
      uncertainty_note: input.uncertainty ?? null,
    };
    const guidance = input.guidance ?? current;
    const record: ReflectionLogRecord = {
      epoch: ctx.epoch,
      reflection: {
        reflection_id: reflectionId,
        mission: ctx.mission,
        batch_index: ctx.batchIndex,
        cycle: ctx.cycle,
        proposal,
        eligible: eligibility.eligible && ctx.config.enabled,
        ineligible_reason: input.reason,
        applied: input.applied ?? false,
        pre_uplift: input.gate?.pre ?? null,
        post_uplift: input.gate?.post ?? null,
        uplift_probability: input.gate?.uplift_probability ?? null,
        guidance_step_before: stepBefore,
        guidance_step_after: input.applied ? guidance.step : stepBefore,
        debug_info: debug,
        cache_artifacts: cacheArtifacts,
        decision_detail: input.detail ?? input.gate?.why ?? null,
        review_items: reviewItems,
      },
      created_at: ctx.now(),
    };
    return { record, applied: input.applied ?? false, guidance, llmCalls, sampleSummaries };
  };

  if (!ctx.config.enabled) return finish({ reason: 'reflection_disabled' });
  if (!eligibility.eligible) return finish({ reason: 'non_conflict_bundle' });
  if (learnable.length === 0) {
    debug.detail = 'eligible only through need_review groups; no learnable group left';
    return finish({ reason: 'no_operations' });
  }

  const tickets = ctx.tickets instanceof Map ? (ctx.tickets as ReadonlyMap<string, Ticket>) : new Map((ctx.tickets as readonly Ticket[]).map((t) => [t.ticket_key, t]));
  const header = {
    mission: ctx.mission,
    epoch: ctx.epoch,
    cycle: ctx.cycle,
    batch_index: ctx.batchIndex,
    guidance_step: stepBefore,
  };

  // Stage 1: summary.
  const summaryName = reflectionCacheName(ctx.epoch, ctx.cycle, 'summary');
  let summary: SummaryArtifact;
  const cachedSummary = await readCachedArtifact(ctx.store, summaryName, SummaryArtifactSchema, summaryFp);
  if (cachedSummary.value) {
    summary = cachedSummary.value;
    stages.summary = 'reused';
  } else {
    const built = await buildSummaryArtifact({
      backend: ctx.backend,
      groups: learnable,
      tickets,
      header: { ...header, inputs_fingerprint: summaryFp, created_at: ctx.now() },
      excludedNeedReview: eligibility.need_review,
      known: ctx.sampleSummaries,
      experiences: current.experiences,
      seed: ctx.seed,
      maxNewTokens: ctx.config.max_new_tokens,
      signal: ctx.signal,
    });
    llmCalls += built.llmCalls;
    summary = built.artifact;
    await ctx.store.writeCacheArtifact(summaryName, summary);
    stages.summary = `generated (${cachedSummary.status})`;
  }
  cacheArtifacts.push(`${CACHE_DIR}/${summaryName}`);
  sampleSummaries = summary.groups;
  const summaryWarnings = summary.groups.filter((g) => g.summary_error).map((g) => ({ ticket_key: g.ticket_key, error: g.summary_error }));
  if (summaryWarnings.length > 0) debug.summary_warnings = summaryWarnings;

  // Stage 2: critique.
  const critiqueName = reflectionCacheName(ctx.epoch, ctx.cycle, 'critique');
  const critiqueFp = fingerprint({ summary: summary.inputs_fingerprint, groups: summary.groups, experiences: experiencesFp, max_new_tokens: ctx.config.max_new_tokens });
  let critique: CritiqueArtifact;
  const cachedCritique = await readCachedArtifact(ctx.store, critiqueName, CritiqueArtifactSchema, critiqueFp);
  if (cachedCritique.value) {
    critique = cachedCritique.value;
    stages.critique = 'reused';
  } else {
    llmCalls++;
    const result = await runCritiqueStage({
      backend: ctx.backend,
      mission: ctx.mission,
      experiences: current.experiences,
      summary,
      decode: reflectionDecode(ctx.seed, ctx.config.max_new_tokens, 'critique', ctx.epoch, ctx.cycle),
      signal: ctx.signal,
    });
    if (!result.ok) {
      stages.critique = 'failed';
      debug.error = { stage: 'critique', message: result.error, finish_reason: result.finish_reason, raw_text: result.raw_text.slice(0, 4000) };
      return finish({ reason: 'generation_error' });
    }
    critique = {
      stage: 'critique',
      schema_version: 1,
      ...header,
      inputs_fingerprint: critiqueFp,
      created_at: ctx.now(),
      operations: result.operations,
      uncertainty_note: result.uncertainty_note,
      raw_text: result.raw_text,
    };
    await ctx.store.writeCacheArtifact(critiqueName, critique);
    stages.critique = `generated (${cachedCritique.status})`;
  }
  cacheArtifacts.push(`${CACHE_DIR}/${critiqueName}`);
  if (critique.operations.length === 0) {
    debug.error = { stage: 'critique', message: 'the critique returned zero operations' };
    return finish({ reason: 'generation_error', uncertainty: critique.uncertainty_note });
  }

  // Stage 3: batch update (deterministic).
  const updateName = reflectionCacheName(ctx.epoch, ctx.cycle, 'batch_update');
  const updateFp = fingerprint({
    critique: critiqueFp,
    operations: critique.operations,
    uncertainty: critique.uncertainty_note,
    // Rule metadata minus its times: a fingerprint that read the wall clock would differ between identical runs.
    guidance: guidanceContentHashWithoutTimes(current),
    reflection_id: reflectionId,
    protected_rules: ctx.config.protected_rules,
  });
  let update: BatchUpdateArtifact;
  const cachedUpdate = await readCachedArtifact(ctx.store, updateName, BatchUpdateArtifactSchema, updateFp);
  if (cachedUpdate.value) {
    update = cachedUpdate.value;
    stages.batch_update = 'reused';
  } else {
    const now = ctx.now();
    try {
      const built = buildBatchUpdate({
        current,
        operations: critique.operations,
        uncertaintyNote: critique.uncertainty_note,
        reflectionId,
        now,
        groupIdByTicketKey: new Map(summary.groups.map((g) => [g.ticket_key, g.group_id])),
        protectedRules: ctx.config.protected_rules,
      });
      update = {
        stage: 'batch_update',
        schema_version: 1,
        ...header,
        inputs_fingerprint: updateFp,
        created_at: now,
        ...built,
        provenance: {
          reflection_id: reflectionId,
          mission: ctx.mission,
          epoch: ctx.epoch,
          cycle: ctx.cycle,
          batch_index: ctx.batchIndex,
          guidance_step_before: stepBefore,
          summary_artifact: `${CACHE_DIR}/${summaryName}`,
          critique_artifact: `${CACHE_DIR}/${critiqueName}`,
          evidence_ticket_keys: [...new Set(built.plan.operations.flatMap((op) => op.evidence))],
        },
      };
    } catch (error) {
      if (error instanceof StageBError && error.code === 'GUIDANCE_REJECTED_OPERATION') {
        stages.batch_update = 'rejected';
        debug.error = { stage: 'batch_update', message: error.format() };
        return finish({ reason: 'rejected_operation', operations: critique.operations, uncertainty: critique.uncertainty_note });
      }
      throw error;
    }
    await ctx.store.writeCacheArtifact(updateName, update);
    stages.batch_update = `generated (${cachedUpdate.status})`;
  }
  cacheArtifacts.push(`${CACHE_DIR}/${updateName}`);
  // The record shows the whole proposal; only update.plan.operations are gated and applied.
  const plan = { operations: update.plan.proposed_operations, uncertainty: update.plan.uncertainty_note, evidenceGroupIds: update.plan.evidence_group_ids };
  debug.plan_fingerprint = update.plan.plan_fingerprint;
  if (update.plan.dropped.length > 0) debug.dropped_operations = update.plan.dropped;

  // Operations on protected rules go to the review queue, whatever the gate says: people decide about them.
  reviewItems = await enqueueProtectedOperations(ctx, update, reflectionId, current);
  if (update.plan.operations.length === 0) {
    const count = update.plan.queued.length;
    return finish({ reason: 'queued_for_review', detail: `all ${count} operation${count === 1 ? '' : 's'} touch protected rules; queued for an annotator (review_queue.jsonl), nothing gated or applied`, ...plan });
  }
  const queuedNote = reviewItems.length > 0 ? `; ${reviewItems.length} operation(s) on protected rules queued for review` : '';

  // Gate.
  if (plan.uncertainty !== null && !ctx.config.allow_uncertain) {
    return finish({ reason: 'uncertain_rejected', detail: `the proposal carries an uncertainty note and reflection.allow_uncertain is false${queuedNote}`, ...plan });
  }
  if (ctx.guidanceMaxTokens !== null) {
    const tokens = await ctx.backend.countTextTokens(renderExperiences(update.preview_guidance.experiences));
    if (tokens > ctx.guidanceMaxTokens) {
      debug.guidance_tokens = tokens;
      return finish({ reason: 'guidance_over_budget', detail: `the rendered guidance would be ${tokens} tokens, over guidance.max_tokens = ${ctx.guidanceMaxTokens}${queuedNote}`, ...plan });
    }
  }
  if (!ctx.evaluateHoldout) return finish({ reason: 'no_holdout', detail: `there is no labelled holdout; a plan is never applied blind${queuedNote}`, ...plan });
  const baselineFp = fingerprint({ experiences: experiencesFp, seed: ctx.seed, holdout: [ctx.config.holdout_fraction, ctx.config.holdout_max] });
  const baselineRows = await holdoutBaseline(ctx, current, baselineFp);
  cacheArtifacts.push(`${CACHE_DIR}/${holdoutBaselineCacheName(baselineFp)}`);
  const refused = refuseHoldout(baselineRows, ctx.config);
  if (refused) return finish({ reason: refused.reason, detail: refused.why + queuedNote, ...plan });
  const gateName = reflectionCacheName(ctx.epoch, ctx.cycle, 'gate');
  const gateFp = fingerprint({ baseline: baselineFp, plan: update.plan.plan_fingerprint, preview: fingerprint(update.preview_guidance.experiences) });
  const cachedGate = await readCachedArtifact(ctx.store, gateName, GateArtifactSchema, gateFp);
  let previewRows: HoldoutRow[];
  if (cachedGate.value) {
    previewRows = cachedGate.value.preview_rows;
    stages.gate = 'reused';
  } else {
    let memory = previewMemory.get(ctx.store);
    if (!memory) previewMemory.set(ctx.store, (memory = new Map()));
    const previewFp = fingerprint({ experiences: fingerprint(update.preview_guidance.experiences), seed: ctx.seed, holdout: [ctx.config.holdout_fraction, ctx.config.holdout_max] });
    const remembered = memory.get(previewFp);
    previewRows = remembered ?? (await ctx.evaluateHoldout(update.preview_guidance.experiences));
    memory.set(previewFp, previewRows);
    await ctx.store.writeCacheArtifact(gateName, {
      stage: 'gate',
      schema_version: 1,
      ...header,
      inputs_fingerprint: gateFp,
      created_at: ctx.now(),
      preview_rows: previewRows,
    });
    stages.gate = `evaluated (${cachedGate.status})`;
  }
  cacheArtifacts.push(`${CACHE_DIR}/${gateName}`);
  const gate = decideGate({ baselineRows, previewRows, config: ctx.config, seed: ctx.seed });
  debug.gate = gate.checks;
  if (!gate.apply) return finish({ reason: gate.reason, gate, detail: gate.why + queuedNote, ...plan });

  // Apply: compare-and-swap on the step read at the start. The intent goes first (see ApplyIntentSchema).
  cacheArtifacts.push(`${CACHE_DIR}/${intentName}`);
  const intended = await finish({
    reason: null,
    applied: true,
    gate,
    detail: gate.why + queuedNote,
    guidance: { step: stepBefore + 1, updated_at: ctx.now(), experiences: update.preview_guidance.experiences, metadata: update.preview_guidance.metadata },
    ...plan,
  });
  await ctx.store.writeCacheArtifact(intentName, {
    stage: 'apply',
    schema_version: 1,
    epoch: ctx.epoch,
    cycle: ctx.cycle,
    batch_index: ctx.batchIndex,
    guidance_step_after: stepBefore + 1,
    experiences_after: fingerprint(update.preview_guidance.experiences),
    record: intended.record,
    sample_summaries: sampleSummaries,
  });
  const write = await writeReflectionPlan(ctx.guidance, update.preview_guidance, stepBefore, { reflection_id: reflectionId, epoch: ctx.epoch, batch_index: ctx.batchIndex });
  if (write.status === 'applied') return finish({ reason: null, applied: true, gate, guidance: write.guidance, detail: gate.why + queuedNote, ...plan });
  debug.error = { stage: 'apply', message: write.error.format() };
  if (write.status === 'step_conflict') return finish({ reason: 'step_conflict', gate, guidance: await ctx.guidance.read(), ...plan });
  return finish({ reason: 'rejected_operation', gate, ...plan });
}

/**
 * Appends the batch update's operations on protected rules to the review queue, once:
 * item ids are derived from the reflection and the operation, so a resumed run that
 * reflects on the same batch again does not queue them twice. Returns the item ids.
 */
async function enqueueProtectedOperations(ctx: ReflectionContext, update: BatchUpdateArtifact, reflectionId: string, current: GuidanceState): Promise<string[]> {
  if (update.plan.queued.length === 0) return [];
  const existing = new Set((await ctx.store.readReviewQueue()).filter((e) => e.type === 'proposal').map((e) => e.item_id));
  const proposals: ReviewProposal[] = update.plan.queued.map(({ operation, targets }, index) => ({
    type: 'proposal',
    item_id: `rq-${fingerprint({ reflectionId, index, operation }).slice(0, 16)}`,
    mission: ctx.mission,
    reflection_id: reflectionId,
    epoch: ctx.epoch,
    batch_index: ctx.batchIndex,
    cycle: ctx.cycle,
    guidance_step: current.step,
    operation,
    rule_ids: Object.fromEntries(operationTargets(operation).filter((key) => current.metadata[key]).map((key) => [key, current.metadata[key].rule_id])),
    targets,
    created_at: ctx.now(),
  }));
  await ctx.store.appendReviewQueue(proposals.filter((p) => !existing.has(p.item_id)));
  return proposals.map((p) => p.item_id);
}

async function holdoutBaseline(ctx: ReflectionContext, current: GuidanceState, baselineFp: string): Promise<HoldoutRow[]> {
  let memory = baselineMemory.get(ctx.store);
  if (!memory) {
    memory = new Map();
    baselineMemory.set(ctx.store, memory);
  }
  const remembered = memory.get(baselineFp);
  if (remembered) return remembered;
  const name = holdoutBaselineCacheName(baselineFp);
  const cached = await readCachedArtifact(ctx.store, name, HoldoutBaselineArtifactSchema, baselineFp);
  let rows: HoldoutRow[];
  if (cached.value) rows = cached.value.rows;
  else {
    rows = await ctx.evaluateHoldout!(current.experiences);
    await ctx.store.writeCacheArtifact(name, {
      stage: 'holdout_baseline',
      schema_version: 1,
      guidance_step: current.step,
      inputs_fingerprint: baselineFp,
      rows,
      created_at: ctx.now(),
    });
  }
  memory.set(baselineFp, rows);
  return rows;
}

function mismatchedGroupIds(selections: readonly SelectionRecord[]): string[] {
  return [...new Set(selections.filter((s) => s.signals.label_match === false).map((s) => s.group_id))];
}

function describeBundle(ctx: ReflectionContext, eligibility: Eligibility, groups: number): string {
  const learnable = ctx.selections.filter((s) => eligibility.learnable.includes(s.ticket_key));
  const mismatched = learnable.filter((s) => s.signals.label_match === false).map((s) => s.ticket_key);
  const parts = [
    `epoch ${ctx.epoch} batch ${ctx.batchIndex}: ${groups} groups, ${learnable.length} learnable, ${mismatched.length} selected verdicts mismatch their label`,
  ];
  if (mismatched.length > 0) parts.push(`(${mismatched.slice(0, 8).join(', ')}${mismatched.length > 8 ? ', …' : ''})`);
  if (eligibility.need_review.length > 0) parts.push(`; need_review excluded: ${eligibility.need_review.join(', ')}`);
  parts.push(eligibility.conditions.length > 0 ? `; conditions: ${eligibility.conditions.join(', ')}` : '; no conflict');
  return parts.join(' ');
}

/** The groups' critic notes, mismatched groups first, bounded for the log. */
function joinCritiques(groups: readonly SummaryGroup[]): string {
  const ordered = [...groups].sort((a, b) => Number(a.signals.label_match !== false) - Number(b.signals.label_match !== false));
  const text = ordered.filter((g) => g.critique).map((g) => `${g.ticket_key}: ${g.critique}`).join('\n');
  return text.length > 1200 ? `${text.slice(0, 1199)}…` : text;
}

