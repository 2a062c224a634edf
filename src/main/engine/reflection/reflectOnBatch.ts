import { z } from 'zod';
import type { GuidanceState } from '../../../shared/schemas/guidance';
import { ReflectionLogRecordSchema } from '../../../shared/schemas/records';
import type { ReflectionLogRecord, ReflectionProposal, SelectionRecord, TrajectoryRecord } from '../../../shared/schemas/records';
import type { RunConfig } from '../../../shared/schemas/runConfig';
import type { Ticket } from '../../../shared/schemas/stageARecord';
import { writeReflectionPlan } from './writeReflectionPlan';
import { renderExperiences } from '../../../shared/guidance/renderExperiences';
import { operationTargets } from '../../../shared/guidance/protectedRules';
import type { ReviewProposal } from '../../../shared/schemas/reviewQueue';
import type { LlmBackend } from '../../llm/LlmBackend';
import type { ArtifactStore } from '../ports/ArtifactStore';
import type { GuidancePort } from '../ports/GuidancePort';
import { RUN_FILES } from '../../../shared/runFiles';
import { buildBundle, evaluateEligibility, type Eligibility } from './eligibility';
import {
  GateArtifactSchema,
  HoldoutBaselineArtifactSchema,
  SummaryGroupSchema,
  cacheArtifactPath,
  fingerprint,
  holdoutBaselineCacheName,
  reflectionCacheName,
  type BatchUpdateArtifact,
  type HoldoutRow,
  type SummaryGroup,
} from './reflectionArtifacts';
import { summaryStage } from './summaryStage';
import { critiqueStage } from './critiqueStage';
import { batchUpdateStage, withRuleTimes } from './batchUpdateStage';
import { decideGate, refuseHoldout, type GateDecision } from './holdoutGate';
import { runCachedStage, runReflectionStages, type AnyReflectionStage, type DecisionEnd, type ReflectionBatch, type StageLedger } from './runCachedStage';
import type { SampleSummaryResult } from './sampleSummarizer';

/**
 * The cached stages of a decision, in order: each reads the artifacts of those before it.
 * A new stage is one module (defineReflectionStage) and one line here.
 */
export const REFLECTION_STAGES: readonly AnyReflectionStage[] = [
  summaryStage,
  critiqueStage,
  batchUpdateStage,
];

export type ReflectionContext = {
  backend: LlmBackend;
  store: ArtifactStore;
  guidance: GuidancePort;
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

/**
 * The decision of an apply, written to the cache just BEFORE the guidance write. A crash
 * after the write but before reflection.jsonl gets its record leaves the guidance one
 * step ahead of the log; on resume the batch's reflection re-runs against the moved
 * guidance, every fingerprint differs, and the rerun would reflect anew (another apply,
 * or a record saying "not applied" for a step that was applied). When the guidance is
 * exactly the state this intent says the apply produced, the rerun returns the recorded
 * decision instead (test/reliability/engineCrash.test.ts kills a run in that window).
 * The record is kept without created_at (the cache holds no wall-clock time): it is
 * dated when it is logged. An intent of an older version, with created_at, still parses.
 */
const ApplyIntentSchema = z.object({
  stage: z.literal('apply'),
  schema_version: z.literal(1),
  epoch: z.number().int().nonnegative(),
  cycle: z.number().int().nonnegative(),
  batch_index: z.number().int().nonnegative(),
  guidance_step_after: z.number().int().nonnegative(),
  experiences_after: z.string(),
  record: ReflectionLogRecordSchema.omit({ created_at: true }),
  sample_summaries: z.array(SummaryGroupSchema),
});
const applyIntentName = (epoch: number, cycle: number) => reflectionCacheName(epoch, cycle, 'apply');

/**
 * In-memory holdout rows of previewed guidance per store: a later batch proposing a plan with
 * the same result (a model repeats itself) is gated without another holdout pass. The rows are
 * a function of the experiences, the seed and the holdout, so a resumed process that has no
 * memory evaluates them again and gets the same ones.
 */
const previewMemory = new WeakMap<ArtifactStore, Map<string, HoldoutRow[]>>();

/**
 * The learning step after one complete batch: eligibility, then the cached stages
 * (REFLECTION_STAGES: summary → critique → batch update), then the holdout gate, then
 * the compare-and-swap apply. Each artifact is cached (reflection_cache/epoch{E}_cycle{C}_{stage}.json,
 * holdout baselines by their guidance) through runCachedStage and reused on rerun when
 * well-formed and made from the same inputs, so a rerun with a complete cache makes no model call.
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
      return { record: { ...intent.data.record, created_at: ctx.now() }, applied: true, guidance: current, llmCalls: 0, sampleSummaries: intent.data.sample_summaries };
    }
  }
  const bundle = buildBundle(ctx.selections, ctx.trajectories);
  const eligibility = evaluateEligibility(bundle, ctx.needReviewKeys);
  const learnable = bundle.filter((g) => eligibility.learnable.includes(g.selection.ticket_key));
  const decisionInputs = {
    mission: ctx.mission,
    epoch: ctx.epoch,
    cycle: ctx.cycle,
    batch_index: ctx.batchIndex,
    guidance_step: stepBefore,
    experiences: experiencesFp,
    max_new_tokens: ctx.config.max_new_tokens,
    groups: learnable.map(({ selection: s }) => [s.ticket_key, s.label, s.verdict, s.reason, s.vote, s.signals]),
    excluded: eligibility.need_review,
  };
  const reflectionId = `refl-e${ctx.epoch}-c${ctx.cycle}-${fingerprint(decisionInputs).slice(0, 8)}`;
  const debug: Record<string, unknown> = {
    eligibility: { conditions: eligibility.conditions, learnable: eligibility.learnable, need_review: eligibility.need_review },
    stages: {} as Record<string, string>,
  };
  const ledger: StageLedger = { store: ctx.store, cacheArtifacts: [], stages: debug.stages as Record<string, string> };
  let llmCalls = 0;
  let sampleSummaries: SummaryGroup[] = [];
  let reviewItems: string[] = [];

  /** The decision's record, dated by the caller (a cached intent holds it undated). */
  const decide = (input: Omit<DecisionEnd, 'reason'> & { reason: DecisionEnd['reason'] | null; applied?: boolean; gate?: GateDecision | null; stepAfter?: number }) => {
    const operations = input.operations ?? [];
    const proposal: ReflectionProposal = {
      action: operations.length > 0 ? 'refine' : 'noop',
      summary: describeBundle(ctx, eligibility, bundle.length),
      critique: joinCritiques(sampleSummaries),
      operations,
      evidence_group_ids: input.evidenceGroupIds ?? mismatchedGroupIds(learnable.map((g) => g.selection)),
      uncertainty_note: input.uncertainty ?? null,
    };
    return {
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
        guidance_step_after: input.applied ? input.stepAfter ?? stepBefore : stepBefore,
        debug_info: debug,
        cache_artifacts: [...ledger.cacheArtifacts],
        decision_detail: input.detail ?? input.gate?.why ?? null,
        review_items: reviewItems,
      },
    } satisfies Omit<ReflectionLogRecord, 'created_at'>;
  };
  const finish = (input: Parameters<typeof decide>[0] & { guidance?: GuidanceState }): ReflectionOutcome => {
    const guidance = input.guidance ?? current;
    const record: ReflectionLogRecord = { ...decide({ ...input, stepAfter: guidance.step }), created_at: ctx.now() };
    return { record, applied: input.applied ?? false, guidance, llmCalls, sampleSummaries };
  };

  if (!ctx.config.enabled) return finish({ reason: 'reflection_disabled' });
  if (!eligibility.eligible) return finish({ reason: 'non_conflict_bundle' });
  if (learnable.length === 0) {
    debug.detail = 'eligible only through need_review groups; no learnable group left';
    return finish({ reason: 'no_operations' });
  }

  const batch: ReflectionBatch = {
    ctx,
    current,
    experiencesFingerprint: experiencesFp,
    decisionInputs,
    reflectionId,
    learnable,
    eligibility,
    tickets: ctx.tickets instanceof Map ? (ctx.tickets as ReadonlyMap<string, Ticket>) : new Map((ctx.tickets as readonly Ticket[]).map((t) => [t.ticket_key, t])),
    header: { mission: ctx.mission, epoch: ctx.epoch, cycle: ctx.cycle, batch_index: ctx.batchIndex, guidance_step: stepBefore },
    debug,
  };
  const staged = await runReflectionStages(REFLECTION_STAGES, batch, ledger);
  llmCalls += staged.llmCalls;
  sampleSummaries = staged.artifacts.find(summaryStage)?.groups ?? [];
  if (staged.end) return finish(staged.end);
  const update = staged.artifacts.get(batchUpdateStage);

  // The record shows the whole proposal; only update.plan.operations are gated and applied.
  const plan = { operations: update.plan.proposed_operations, uncertainty: update.plan.uncertainty_note, evidenceGroupIds: update.plan.evidence_group_ids };
  debug.plan_fingerprint = update.plan.plan_fingerprint;
  if (update.plan.dropped.length > 0) debug.dropped_operations = update.plan.dropped;

  // Operations on protected rules go to the review queue, whatever the gate says: people decide about them.
  reviewItems = await enqueueProtectedOperations(ctx, update, reflectionId, current);
  if (update.plan.operations.length === 0) {
    const count = update.plan.queued.length;
    return finish({ reason: 'queued_for_review', detail: `all ${count} operation${count === 1 ? '' : 's'} touch protected rules; queued for an annotator (${RUN_FILES.reviewQueue}), nothing gated or applied`, ...plan });
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
  const evaluateHoldout = ctx.evaluateHoldout;
  if (!evaluateHoldout) return finish({ reason: 'no_holdout', detail: `there is no labelled holdout; a plan is never applied blind${queuedNote}`, ...plan });
  const holdoutSetup = { seed: ctx.seed, holdout: [ctx.config.holdout_fraction, ctx.config.holdout_max] };
  // Holdout baselines are per guidance content, shared by every batch that sees it.
  const baseline = await runCachedStage(ledger, {
    label: 'holdout_baseline',
    file: holdoutBaselineCacheName,
    schema: HoldoutBaselineArtifactSchema,
    inputs: { experiences: experiencesFp, ...holdoutSetup },
    madeAs: 'evaluated',
    run: async (inputsFingerprint) => ({
      artifact: { stage: 'holdout_baseline', schema_version: 1, guidance_step: stepBefore, inputs_fingerprint: inputsFingerprint, rows: await evaluateHoldout(current.experiences) },
    }),
  });
  if (!('artifact' in baseline)) throw new Error('the holdout baseline never ends a decision');
  const baselineRows = baseline.artifact.rows;
  const refused = refuseHoldout(baselineRows, ctx.config);
  if (refused) return finish({ reason: refused.reason, detail: refused.why + queuedNote, ...plan });
  const previewFp = fingerprint(update.preview_guidance.experiences);
  const gateRun = await runCachedStage(ledger, {
    label: 'gate',
    file: reflectionCacheName(ctx.epoch, ctx.cycle, 'gate'),
    schema: GateArtifactSchema,
    inputs: { baseline: baseline.artifact.inputs_fingerprint, plan: update.plan.plan_fingerprint, preview: previewFp },
    madeAs: 'evaluated',
    run: async (inputsFingerprint) => {
      let memory = previewMemory.get(ctx.store);
      if (!memory) previewMemory.set(ctx.store, (memory = new Map()));
      const memoryKey = fingerprint({ experiences: previewFp, ...holdoutSetup });
      const previewRows = memory.get(memoryKey) ?? (await evaluateHoldout(update.preview_guidance.experiences));
      memory.set(memoryKey, previewRows);
      return { artifact: { stage: 'gate', schema_version: 1, ...batch.header, inputs_fingerprint: inputsFingerprint, preview_rows: previewRows } };
    },
  });
  if (!('artifact' in gateRun)) throw new Error('the gate evaluation never ends a decision');
  const gate = decideGate({ baselineRows, previewRows: gateRun.artifact.preview_rows, config: ctx.config, seed: ctx.seed });
  debug.gate = gate.checks;
  if (!gate.apply) return finish({ reason: gate.reason, gate, detail: gate.why + queuedNote, ...plan });

  // Apply: compare-and-swap on the step read at the start. The intent goes first (see ApplyIntentSchema).
  ledger.cacheArtifacts.push(cacheArtifactPath(intentName));
  await ctx.store.writeCacheArtifact(intentName, {
    stage: 'apply',
    schema_version: 1,
    epoch: ctx.epoch,
    cycle: ctx.cycle,
    batch_index: ctx.batchIndex,
    guidance_step_after: stepBefore + 1,
    experiences_after: previewFp,
    record: decide({ reason: null, applied: true, gate, detail: gate.why + queuedNote, stepAfter: stepBefore + 1, ...plan }),
    sample_summaries: sampleSummaries,
  });
  // The rules this plan wrote get their time here, where the guidance is written, not in the cached preview.
  const write = await writeReflectionPlan(ctx.guidance, withRuleTimes(current, update.preview_guidance, ctx.now()), stepBefore, { reflection_id: reflectionId, epoch: ctx.epoch, batch_index: ctx.batchIndex });
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

