import { z } from 'zod';
import { DecodeParamsSchema } from './decode';
import { SignalsSchema } from './signals';
import { GroupLabelSchema } from '../verdict';

const LabelSchema = GroupLabelSchema.nullable();

export const WarningCodeSchema = z.enum([
  'malformed_output',
  'missing_confidence',
  'low_self_consistency',
  'candidates_disagree_with_label',
  'all_candidates_malformed',
  'prompt_over_budget',
  'need_review',
  'step_conflict',
]);
export type WarningCode = z.infer<typeof WarningCodeSchema>;

export const TokenUsageSchema = z.object({
  prompt: z.number().int().nonnegative(),
  generated: z.number().int().nonnegative(),
});

/** trajectories.jsonl: one row per candidate. */
export const TrajectoryRecordSchema = z.object({
  run_name: z.string(),
  mission: z.string(),
  epoch: z.number().int().nonnegative(),
  batch_index: z.number().int().nonnegative(),
  group_id: z.string(),
  ticket_key: z.string(),
  label: LabelSchema,
  /**
   * The Stage-A input's label when a label corrections file replaced it (`label` is then the
   * corrected one); null otherwise. The engine always writes it; rows of older runs lack it.
   */
  original_label: LabelSchema.optional(),
  candidate_index: z.number().int().nonnegative(),
  decode: DecodeParamsSchema,
  response_text: z.string(),
  verdict: GroupLabelSchema.nullable(),
  reason: z.string().nullable(),
  confidence: z.number().min(0).max(1).nullable(),
  format_ok: z.boolean(),
  parse_error: z.string().nullable(),
  signals: SignalsSchema,
  guidance_step: z.number().int().nonnegative(),
  reflection_cycle: z.number().int().nonnegative(),
  summary: z.string().nullable(),
  critique: z.string().nullable(),
  tokens: TokenUsageSchema,
  warnings: z.array(WarningCodeSchema),
  created_at: z.string(),
});
export type TrajectoryRecord = z.infer<typeof TrajectoryRecordSchema>;

/** selections.jsonl: one row per group (and epoch). */
export const SelectionRecordSchema = z.object({
  run_name: z.string(),
  mission: z.string(),
  epoch: z.number().int().nonnegative(),
  batch_index: z.number().int().nonnegative(),
  group_id: z.string(),
  ticket_key: z.string(),
  label: LabelSchema,
  /**
   * The Stage-A input's label when a label corrections file replaced it (`label` is then the
   * corrected one); null otherwise. The engine always writes it; rows of older runs lack it.
   */
  original_label: LabelSchema.optional(),
  selected_candidate: z.number().int().nonnegative().nullable(),
  verdict: GroupLabelSchema.nullable(),
  reason: z.string().nullable(),
  confidence: z.number().min(0).max(1).nullable(),
  response_text: z.string(),
  vote: z.object({ pass: z.number().int().nonnegative(), fail: z.number().int().nonnegative(), malformed: z.number().int().nonnegative() }),
  selection_rule: z.string(),
  signals: SignalsSchema,
  guidance_step: z.number().int().nonnegative(),
  reflection_cycle: z.number().int().nonnegative(),
  /** Reflection whose apply produced the guidance in force; null while the initial guidance is in force. */
  reflection_id: z.string().nullable(),
  summary: z.string().nullable(),
  critique: z.string().nullable(),
  eligible: z.boolean().nullable(),
  ineligible_reason: z.string().nullable(),
  warnings: z.array(WarningCodeSchema),
  created_at: z.string(),
});
export type SelectionRecord = z.infer<typeof SelectionRecordSchema>;

export const ReflectionOperationSchema = z
  .object({
    op: z.enum(['add', 'modify', 'merge', 'remove']),
    key: z.string(),
    text: z.string().optional(),
    rationale: z.string().optional(),
    /** ticket_keys that justify the operation. */
    evidence: z.array(z.string()),
    /** For merge: the keys folded into `key`. */
    merge_from: z.array(z.string()).optional(),
  })
  .strict();
export type ReflectionOperation = z.infer<typeof ReflectionOperationSchema>;

export const ReflectionProposalSchema = z.object({
  action: z.enum(['refine', 'noop']),
  summary: z.string(),
  critique: z.string(),
  operations: z.array(ReflectionOperationSchema),
  evidence_group_ids: z.array(z.string()),
  uncertainty_note: z.string().nullable(),
});
export type ReflectionProposal = z.infer<typeof ReflectionProposalSchema>;

export const IneligibleReasonSchema = z.enum([
  'non_conflict_bundle',
  'generation_error',
  'no_operations',
  'holdout_no_uplift',
  'holdout_false_release_increase',
  'uncertain_rejected',
  'step_conflict',
  'rejected_operation',
  'reflection_disabled',
  'no_holdout',
  /** The holdout has no fail ticket, so it cannot see a false release (reflection.allow_holdout_without_fail). */
  'holdout_no_fail_ticket',
  /** The plan changed no holdout verdict (reflection.apply_unchanged_verdicts). */
  'holdout_no_verdict_change',
  /** The paired-bootstrap probability of an uplift stayed below reflection.min_uplift_probability. */
  'holdout_uplift_uncertain',
  /** The rendered guidance would exceed guidance.max_tokens. */
  'guidance_over_budget',
  /** Every operation touched a protected rule: all of them went to the review queue, nothing was gated. */
  'queued_for_review',
]);
export type IneligibleReason = z.infer<typeof IneligibleReasonSchema>;

export const UpliftSchema = z.object({
  label_match_rate: z.number().min(0).max(1),
  false_release_rate: z.number().min(0).max(1),
  n: z.number().int().nonnegative(),
});
export type Uplift = z.infer<typeof UpliftSchema>;

/** reflection.jsonl: one row per reflection decision, in the spec's shape. */
export const ReflectionLogRecordSchema = z.object({
  epoch: z.number().int().nonnegative(),
  reflection: z.object({
    reflection_id: z.string(),
    mission: z.string(),
    batch_index: z.number().int().nonnegative(),
    cycle: z.number().int().nonnegative(),
    proposal: ReflectionProposalSchema,
    eligible: z.boolean(),
    ineligible_reason: IneligibleReasonSchema.nullable(),
    applied: z.boolean(),
    pre_uplift: UpliftSchema.nullable(),
    post_uplift: UpliftSchema.nullable(),
    /** Paired-bootstrap probability that the holdout uplift is > 0. */
    uplift_probability: z.number().min(0).max(1).nullable(),
    guidance_step_before: z.number().int().nonnegative(),
    guidance_step_after: z.number().int().nonnegative(),
    debug_info: z.record(z.string(), z.unknown()).nullable(),
    cache_artifacts: z.array(z.string()),
    /** The decision in words (the gate's reading of the holdout, why nothing was applied). */
    decision_detail: z.string().nullable().default(null),
    /** review_queue.jsonl items this reflection queued: its operations on protected rules. */
    review_items: z.array(z.string()).default([]),
  }),
  created_at: z.string(),
});
export type ReflectionLogRecord = z.infer<typeof ReflectionLogRecordSchema>;

/** need_review.jsonl: groups whose candidates agree with each other against the label in several epochs. */
export const NeedReviewRecordSchema = z.object({
  mission: z.string(),
  group_id: z.string(),
  ticket_key: z.string(),
  label: GroupLabelSchema,
  agreed_verdict: GroupLabelSchema,
  epochs: z.array(z.number().int().nonnegative()),
  evidence: z.array(z.object({ epoch: z.number().int().nonnegative(), vote: z.object({ pass: z.number().int(), fail: z.number().int(), malformed: z.number().int() }), reason: z.string().nullable() })),
  created_at: z.string(),
});
export type NeedReviewRecord = z.infer<typeof NeedReviewRecordSchema>;

/** export/verdicts.{jsonl,parquet}: one flat row per group, a stable column set. */
export const ExportRowSchema = z.object({
  run_name: z.string(),
  mission: z.string(),
  group_id: z.string(),
  ticket_key: z.string(),
  epoch: z.number().int().nonnegative(),
  label: z.string().nullable(),
  /** The Stage-A input's label when a label corrections file replaced it (`label` is then the corrected one); null otherwise. Always written. */
  original_label: z.string().nullable().optional(),
  verdict: z.string().nullable(),
  reason: z.string().nullable(),
  confidence: z.number().nullable(),
  response_text: z.string(),
  label_match: z.boolean().nullable(),
  self_consistency: z.number().nullable(),
  candidate_agreement: z.boolean().nullable(),
  label_trust: z.number().nullable(),
  guidance_step: z.number().int(),
  reflection_id: z.string().nullable(),
  summary: z.string().nullable(),
  critique: z.string().nullable(),
  ineligible_reason: z.string().nullable(),
  /** Comma-separated warning codes ('' when none): a flat column for Parquet consumers. */
  warnings: z.string(),
});
export type ExportRow = z.infer<typeof ExportRowSchema>;
export const EXPORT_COLUMNS = Object.keys(ExportRowSchema.shape) as (keyof ExportRow)[];

export const ChatMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
}).strict();
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

/** distill_chatml.jsonl: exactly these four fields. */
export const DistillRecordSchema = z
  .object({
    group_id: z.string(),
    mission: z.string(),
    label: GroupLabelSchema.nullable(),
    messages: z.array(ChatMessageSchema).length(3),
  })
  .strict();
export type DistillRecord = z.infer<typeof DistillRecordSchema>;
