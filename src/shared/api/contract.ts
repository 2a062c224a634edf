import { z } from 'zod';
import { ERROR_CODES } from '../errors';
import { StageASummarySchema } from '../stageASummary';
import { ConfigKindSchema } from '../configKind';
import { GuidanceStateSchema, StoredExperienceMetaSchema, ExperienceKeySchema, AuthorNameSchema } from '../schemas/guidance';
import {
  TrajectoryRecordSchema,
  SelectionRecordSchema,
  ReflectionLogRecordSchema,
  NeedReviewRecordSchema,
  WarningCodeSchema,
  UpliftSchema,
} from '../schemas/records';
import { ReviewItemSchema } from '../schemas/reviewQueue';
import { QaReviewStatusSchema, FoldedQaReviewSchema, QaReviewExportRowSchema } from '../schemas/qaReview';
import { LabelCorrectionSchema } from '../schemas/labelCorrections';
import { RunStatusSchema, BatchTelemetrySchema, EpochTelemetrySchema, TelemetrySchema, RunEventSchema } from '../schemas/telemetry';
import { AttributionResultSchema, PreviewResultSchema } from '../schemas/holdoutComparison';
import { RunComparisonSchema, ComparisonRowSchema } from '../metrics/compareRuns';
import { ChangedGroupSchema, SliceRowSchema } from '../metrics/compareBreakdown';
import { VerdictFormatSchema } from '../verdictProtocol';

/**
 * The workbench API: one table, every method an input and an output schema.
 * Both transports (Electron IPC, loopback HTTP) and the implementation in
 * src/main/api are driven from this table, so a method added here shows up
 * everywhere at once.
 */

export const SerializedErrorSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  location: z.object({ file: z.string().optional(), line: z.number().optional(), field: z.string().optional() }),
});

/**
 * One path segment under a root (a run directory name, a mission, a snapshot file
 * name). The receiving side still resolves against the root; this is the first fence.
 */
export const PathSegmentSchema = z
  .string()
  .min(1)
  .max(200)
  .refine((value) => !/[\\/\0]/.test(value), 'must not contain /, \\ or NUL')
  .refine((value) => value !== '.' && value !== '..', 'must not be . or ..');

/** A path relative to a configured root; '..' segments, absolute paths and NUL are refused. */
export const RelativePathSchema = z
  .string()
  .min(1)
  .max(1000)
  .refine((value) => !value.includes('\0'), 'must not contain NUL')
  .refine((value) => !/^([\\/]|[A-Za-z]:)/.test(value), 'must be relative to the configured root')
  .refine((value) => !value.split(/[\\/]/).includes('..'), "must not contain '..'");

export const RunRefSchema = z.object({ runId: PathSegmentSchema, mission: PathSegmentSchema });
export type RunRef = z.infer<typeof RunRefSchema>;

const Offset = z.number().int().nonnegative().default(0);
const Limit = (max: number, fallback: number) => z.number().int().positive().max(max).default(fallback);
const Empty = z.object({}).strict().default({});

// ---------------------------------------------------------------- runs

export const RunSummarySchema = z.object({
  runId: z.string(),
  mission: z.string(),
  /**
   * 'unknown' when telemetry.json is missing or unreadable (e.g. a run that never started);
   * 'interrupted' when telemetry says running but no live process on this machine holds the run.
   */
  status: z.union([RunStatusSchema, z.literal('unknown'), z.literal('interrupted')]),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  label_match_rate: z.number().nullable(),
  false_release_rate: z.number().nullable(),
  guidance_step: z.number().int().nullable(),
  counts: TelemetrySchema.shape.counts.nullable(),
  /** Which artifacts exist in the mission directory. */
  files: z.object({
    trajectories: z.boolean(),
    selections: z.boolean(),
    reflection: z.boolean(),
    guidance: z.boolean(),
    need_review: z.boolean(),
    export: z.boolean(),
    distill: z.boolean(),
  }),
  seed: z.number().int().nullable(),
  model: z.string().nullable(),
  /** Problem reading telemetry.json / run.json, shown next to the run. */
  error: SerializedErrorSchema.nullable(),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;

export const MissionSummarySchema = z.object({ mission: z.string(), runIds: z.array(z.string()) });

// ---------------------------------------------------------------- rows

export const RowKindSchema = z.enum(['trajectories', 'selections']);
export type RowKind = z.infer<typeof RowKindSchema>;

/** Fields the columnar index can sort on. 'row' is file order. */
export const SortFieldSchema = z.enum([
  'row',
  'epoch',
  'batch_index',
  'group_id',
  'label',
  'verdict',
  'label_match',
  'confidence',
  'self_consistency',
  'guidance_step',
  'candidate_index',
  'eligible',
]);
export type SortField = z.infer<typeof SortFieldSchema>;

export const RowFiltersSchema = z
  .object({
    epoch: z.number().int().nonnegative().optional(),
    batch_index: z.number().int().nonnegative().optional(),
    /** 'none' = unlabelled / no verdict (malformed). */
    label: z.enum(['pass', 'fail', 'none']).optional(),
    verdict: z.enum(['pass', 'fail', 'none']).optional(),
    label_match: z.boolean().nullable().optional(),
    /** Selections only (trajectories have no eligibility); ignored for trajectories. */
    eligible: z.boolean().nullable().optional(),
    ineligible_reason: z.string().max(200).optional(),
    warning: WarningCodeSchema.optional(),
    group_id: z.string().max(500).optional(),
    /**
     * Case-insensitive substring over group_id, ticket_key, response_text, reason, summary,
     * critique, ineligible_reason, and the ticket's Stage-A image summaries (the run's input files).
     */
    text: z.string().max(200).optional(),
    /** Rows by the QA review of their item (group, epoch): 'reviewed', 'unreviewed', or one status. */
    review: z.union([z.enum(['reviewed', 'unreviewed']), QaReviewStatusSchema]).optional(),
  })
  .strict()
  .default({});
export type RowFilters = z.infer<typeof RowFiltersSchema>;

export const QueryRowsInputSchema = RunRefSchema.extend({
  kind: RowKindSchema,
  offset: Offset,
  limit: Limit(500, 100),
  sort: z.object({ field: SortFieldSchema, dir: z.enum(['asc', 'desc']) }).default({ field: 'row', dir: 'asc' }),
  filters: RowFiltersSchema,
});
export type QueryRowsInput = z.input<typeof QueryRowsInputSchema>;

const InvalidLineSchema = z.object({ line: z.number().int().positive(), message: z.string() });

const RowsCommon = {
  total: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  /** Lines in the file that are indexed (a torn last line is not counted until complete). */
  indexed_lines: z.number().int().nonnegative(),
  /** Lines skipped as malformed (first 50), with their 1-based line numbers. */
  invalid: z.array(InvalidLineSchema),
  /**
   * true while the file is still being indexed: total and rows cover only the
   * prefix indexed so far (indexed_rows rows, indexed_fraction of the bytes);
   * query again to get the complete answer. Absent or false: complete.
   */
  partial: z.boolean().optional(),
  indexed_rows: z.number().int().nonnegative().optional(),
  indexed_fraction: z.number().min(0).max(1).optional(),
};

/** The current QA review of the row's item (group, ticket, epoch); null when none. */
const RowReview = { review: FoldedQaReviewSchema.nullable().optional() };

export const QueryRowsOutputSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('trajectories'), ...RowsCommon, rows: z.array(z.object({ line: z.number().int().positive(), record: TrajectoryRecordSchema, ...RowReview })) }),
  z.object({ kind: z.literal('selections'), ...RowsCommon, rows: z.array(z.object({ line: z.number().int().positive(), record: SelectionRecordSchema, ...RowReview })) }),
]);
export type QueryRowsOutput = z.infer<typeof QueryRowsOutputSchema>;

// ---------------------------------------------------------------- group detail

export const TicketSummaryEntrySchema = z.object({
  image: z.string(),
  raw: z.string(),
  /** parseStageASummary(raw) from src/shared/stageASummary.ts. */
  parsed: StageASummarySchema,
});

export const GroupTicketSchema = z.object({
  group_id: z.string(),
  ticket_key: z.string(),
  /** The label the run used: the corrected one when the run's label_corrections file names the ticket. */
  label: z.enum(['pass', 'fail']).nullable(),
  /** The Stage-A file's label when a label correction replaced it; null otherwise. */
  original_label: z.enum(['pass', 'fail']).nullable().optional(),
  images: z.array(z.string()),
  summaries: z.array(TicketSummaryEntrySchema),
  gt_fail_reason_texts: z.array(z.string()),
  source: z.object({ file: z.string(), line: z.number().int().positive() }),
});
export type GroupTicket = z.infer<typeof GroupTicketSchema>;

export const GuidanceInForceSchema = z.object({
  step: z.number().int().nonnegative(),
  /** null when no snapshot or current file holds that step any more. */
  state: GuidanceStateSchema.nullable(),
});

/** The table order a group was opened from (the trajectories table's query), for previous/next group. */
export const GroupOrderSchema = z.object({
  kind: RowKindSchema,
  filters: RowFiltersSchema,
  sort: z.object({ field: SortFieldSchema, dir: z.enum(['asc', 'desc']) }).default({ field: 'row', dir: 'asc' }),
  /** The row the group was opened at; the first row of the group in that order when absent or stale. */
  index: z.number().int().nonnegative().optional(),
});
export type GroupOrder = z.input<typeof GroupOrderSchema>;

const GroupNeighborSchema = z.object({ group_id: z.string(), index: z.number().int().nonnegative() });

export const GroupNeighborsSchema = z.object({
  /** table: the order the request named; run: the run's selections in file order (a group opened directly). */
  source: z.enum(['table', 'run']),
  /** The group's row in that order; null when the group has no row there (filtered out). */
  index: z.number().int().nonnegative().nullable(),
  /** Rows in that order. */
  total: z.number().int().nonnegative(),
  previous: GroupNeighborSchema.nullable(),
  next: GroupNeighborSchema.nullable(),
});
export type GroupNeighbors = z.infer<typeof GroupNeighborsSchema>;

export const PromptWarningSchema = z.enum(['stage_a_changed', 'guidance_from_snapshot', 'format_not_recorded']);

/**
 * The prompt a candidate was sampled with, rebuilt by the engine's prompt builder from what
 * the run recorded: the guidance step's experiences (guidance_history.jsonl), the ticket's
 * Stage-A line and the decode's prompt_variant. The system and the user message as the
 * backend received them, before it applied the model's chat template.
 */
export const CandidatePromptSchema = z.object({
  system: z.string(),
  user: z.string(),
  /** sha256 of system + NUL + user (the record holds no hash of its own to check it against). */
  sha256: z.string(),
  guidance_step: z.number().int().nonnegative(),
  guidance_source: z.enum(['history', 'snapshot']),
  stage_a: z.object({ file: z.string(), line: z.number().int().positive() }),
  warnings: z.array(PromptWarningSchema),
});
export type CandidatePrompt = z.infer<typeof CandidatePromptSchema>;

/** The output constraint every rollout candidate of the run shared (run.json's sampler). */
export const RolloutConstraintSchema = z.object({
  format: VerdictFormatSchema,
  max_reason_chars: z.number().int().positive(),
  /** The GBNF grammar verdictGrammar(format, max_reason_chars) builds. */
  grammar: z.string(),
  /** false: run.json holds no sampler settings and the defaults were assumed. */
  recorded: z.boolean(),
});

export const GroupDetailOutputSchema = z.object({
  groupId: z.string(),
  /** Every ticket with this group_id (the same group can be resubmitted with the other label). */
  tickets: z.array(GroupTicketSchema),
  /** Why the tickets could not be read (Stage-A file moved, etc.); null when fine. */
  ticketError: SerializedErrorSchema.nullable(),
  candidates: z.array(TrajectoryRecordSchema),
  selections: z.array(SelectionRecordSchema),
  needReview: NeedReviewRecordSchema.nullable(),
  /** The guidance step of the latest selection (or candidate), with its text when recoverable. */
  guidance: GuidanceInForceSchema.nullable(),
  /** The group's reviews that no undo retracted, in the order they were made. */
  reviews: z.lazy(() => z.array(FoldedQaReviewSchema)),
  /** prompts[i]: candidates[i]'s prompt, or why it cannot be rebuilt. */
  prompts: z.array(z.object({ prompt: CandidatePromptSchema.nullable(), error: SerializedErrorSchema.nullable() })).default([]),
  constraint: RolloutConstraintSchema.nullable().default(null),
  neighbors: GroupNeighborsSchema.nullable().default(null),
});
export type GroupDetailOutput = z.infer<typeof GroupDetailOutputSchema>;

// ---------------------------------------------------------------- reflection

export const ReflectionLogOutputSchema = z.object({
  total: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  invalid: z.array(InvalidLineSchema),
  rows: z.array(
    z.object({
      line: z.number().int().positive(),
      record: ReflectionLogRecordSchema,
      /** For applied rows: guidance at guidance_step_before / _after (snapshots, current file, or the cached batch_update preview). */
      guidance_before: GuidanceStateSchema.nullable(),
      guidance_after: GuidanceStateSchema.nullable(),
      /**
       * Every decision that reached the batch update, applied or not: the guidance its whole
       * proposal would give (queued operations on protected rules included), from the
       * batch_update artifact; `step` is the step it was proposed on. null when there is none.
       */
      proposed_guidance: GuidanceStateSchema.nullable().default(null),
      /** The guidance at guidance_step_before, to diff the proposal against (by rule_id); null when no longer recoverable. */
      proposed_base: GuidanceStateSchema.nullable().default(null),
    }),
  ),
});
export type ReflectionLogOutput = z.infer<typeof ReflectionLogOutputSchema>;

// ---------------------------------------------------------------- guidance

export const SnapshotInfoSchema = z.object({
  name: z.string(),
  step: z.number().int().nonnegative().nullable(),
  updated_at: z.string().nullable(),
  size_bytes: z.number().int().nonnegative(),
});
export type SnapshotInfo = z.infer<typeof SnapshotInfoSchema>;

export const GuidanceEditSchema = z.object({
  experiences: z.record(ExperienceKeySchema, z.string().max(20_000)),
  metadata: z.record(z.string(), StoredExperienceMetaSchema).optional(),
});

/** The reviewer's name (reviewerStore), sent with every write a person makes; null when none was given. */
export const AuthorFieldSchema = AuthorNameSchema.nullable().default(null);

/** A save or rollback: either the new state, or the three sides of a conflict for a merge view. */
export const GuidanceWriteResultSchema = z.discriminatedUnion('status', [
  /** `hash`: content hash of the new file; send it back as baseHash with the next save. */
  z.object({ status: z.literal('ok'), state: GuidanceStateSchema, hash: z.string().optional() }),
  z.object({
    status: z.literal('conflict'),
    /** The state the editor started from (null when no snapshot of baseStep survives). */
    base: GuidanceStateSchema.nullable(),
    /** The state now on disk. */
    theirs: GuidanceStateSchema,
    /** What this writer tried to save (the snapshot's content for a rollback). */
    mine: GuidanceEditSchema,
    error: SerializedErrorSchema,
  }),
]);
export type GuidanceWriteResult = z.infer<typeof GuidanceWriteResultSchema>;

// ---------------------------------------------------------------- review queue (protected rules)

/** A queue item with what its target rules say now (null key: the rule no longer exists). */
export const ReviewQueueItemSchema = ReviewItemSchema.extend({
  now: z.array(z.object({ rule_id: z.string(), key: z.string().nullable(), text: z.string().nullable() })),
});
export type ReviewQueueItem = z.infer<typeof ReviewQueueItemSchema>;

// ---------------------------------------------------------------- QA

/**
 * Why a selection is in the QA queue. need_review, ineligible, label_mismatch and
 * low_confidence are the ones that need a person (the queue's default scope); every
 * selection has a critique, so `critique` alone would queue every group.
 */
export const QaReasonSchema = z.enum(['critique', 'ineligible', 'need_review', 'warning', 'label_mismatch', 'low_confidence']);
export type QaReason = z.infer<typeof QaReasonSchema>;
export const QA_NEEDS_PERSON_REASONS: readonly QaReason[] = ['need_review', 'ineligible', 'label_mismatch', 'low_confidence'];

export { QaReviewStatusSchema, QaReviewRecordSchema, FoldedQaReviewSchema, QaReviewExportRowSchema } from '../schemas/qaReview';
export type { QaReviewRecord, FoldedQaReview, QaReviewExportRow } from '../schemas/qaReview';

export const QaItemSchema = z.object({
  group_id: z.string(),
  ticket_key: z.string(),
  epoch: z.number().int().nonnegative().nullable(),
  label: z.enum(['pass', 'fail']).nullable(),
  verdict: z.enum(['pass', 'fail']).nullable(),
  reasons: z.array(QaReasonSchema),
  critique: z.string().nullable(),
  ineligible_reason: z.string().nullable(),
  warnings: z.array(WarningCodeSchema),
  need_review: z.boolean(),
  review: FoldedQaReviewSchema.nullable(),
});
export type QaItem = z.infer<typeof QaItemSchema>;

// ---------------------------------------------------------------- charts

export const ChartsOutputSchema = z.object({
  batches: z.array(BatchTelemetrySchema),
  epochs: z.array(EpochTelemetrySchema),
  guidanceSizes: z.array(z.object({ step: z.number().int().nonnegative(), size: z.number().int().nonnegative() })),
  /** 'telemetry' when read from telemetry.json, 'selections' when recomputed. */
  source: z.enum(['telemetry', 'selections', 'none']),
  /** Each reflection decision the holdout gate measured (reflection.jsonl): the holdout under the guidance before (pre_uplift) and with the plan (post_uplift). */
  holdout: z.array(
    z.object({
      reflection_id: z.string(),
      epoch: z.number().int().nonnegative(),
      batch_index: z.number().int().nonnegative(),
      applied: z.boolean(),
      ineligible_reason: z.string().nullable(),
      guidance_step_before: z.number().int().nonnegative(),
      guidance_step_after: z.number().int().nonnegative(),
      before: UpliftSchema,
      after: UpliftSchema,
    }),
  ),
  /** Generated tokens per second at the end of each batch (the last progress event of the batch in events.jsonl: the average since the rollout started). */
  throughput: z.array(z.object({ epoch: z.number().int().nonnegative(), batch_index: z.number().int().nonnegative(), tokens_per_second: z.number().nonnegative() })),
});
export type ChartsOutput = z.infer<typeof ChartsOutputSchema>;

// ---------------------------------------------------------------- configs & jobs

export const ConfigValidationSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), config: z.record(z.string(), z.unknown()) }),
  z.object({ ok: z.literal(false), errors: z.array(SerializedErrorSchema).min(1) }),
]);
export type ConfigValidation = z.infer<typeof ConfigValidationSchema>;

/**
 * A file of the configs folder. kind: see src/shared/configKind.ts; run configs also carry
 * run_name and mission as written, and distill = stage_b_distillation.enabled (it starts as a distill job).
 */
export const ConfigEntrySchema = z.object({
  path: z.string(),
  size_bytes: z.number().int().nonnegative(),
  modified_at: z.string(),
  kind: ConfigKindSchema,
  run_name: z.string().nullable(),
  mission: z.string().nullable(),
  distill: z.boolean(),
});
export type ConfigEntry = z.infer<typeof ConfigEntrySchema>;

/** A new config's name: a plain file name ending .yaml, written at the top of the configs folder. */
export const ConfigFileNameSchema = z
  .string()
  .max(120)
  .regex(/^[^\\/\u0000-\u001f:*?"<>|]+\.yaml$/, 'a plain file name ending .yaml (no folder)')
  .refine((name) => !name.startsWith('.'), 'a file name that does not start with a dot');

/** stage_b / distill run a config; attribution / preview measure guidance on a finished run's holdout. */
export const JobKindSchema = z.enum(['stage_b', 'distill', 'attribution', 'preview']);
export type JobKind = z.infer<typeof JobKindSchema>;
/** The kinds startRun launches from a config file (attribution and preview have their own methods). */
export const RunJobKindSchema = z.enum(['stage_b', 'distill']);
/** pausing: a pause was asked for and the batch in flight is finishing; paused: waiting at a batch boundary, model loaded. */
export const JobStatusSchema = z.enum(['starting', 'running', 'pausing', 'paused', 'completed', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatusSchema>;

export const JobInfoSchema = z.object({
  jobId: z.string(),
  kind: JobKindSchema,
  configPath: z.string(),
  status: JobStatusSchema,
  started_at: z.string(),
  finished_at: z.string().nullable(),
  exit_code: z.number().int().nullable(),
  error: SerializedErrorSchema.nullable(),
  /** The last RunEvent seen, for a progress bar after a reload. */
  last_event: RunEventSchema.nullable(),
  /** The run the job measures (attribution / preview; configPath is then its run directory) or writes (stage_b / distill: {run_name}/{mission}). */
  run: RunRefSchema.optional(),
});
export type JobInfo = z.infer<typeof JobInfoSchema>;

// ---------------------------------------------------------------- compare

/** One side of a comparison: a mission run, or only the selections it sampled with one guidance step. */
export const CompareSideSchema = RunRefSchema.extend({ step: z.number().int().nonnegative().nullable().default(null) });
export type CompareSide = z.input<typeof CompareSideSchema>;

export const CompareOutputSchema = z.object({
  sides: z.object({
    a: RunRefSchema.extend({ step: z.number().int().nullable(), name: z.string() }),
    b: RunRefSchema.extend({ step: z.number().int().nullable(), name: z.string() }),
  }),
  /** What `stageb compare --json` prints for the same selections (src/shared/metrics/compareRuns.ts). */
  comparison: RunComparisonSchema,
  /** The two sides' missions when they differ: the rates then compare different tickets. */
  mission_mismatch: z.object({ a: z.string(), b: z.string() }).nullable(),
  /** The same rates over only the groups both sides judged (paired by mission and ticket_key). */
  common: z.object({ groups: z.number().int().nonnegative(), row: ComparisonRowSchema }),
  changed: z.object({ total: z.number().int().nonnegative(), rows: z.array(ChangedGroupSchema) }),
  slices: z.array(SliceRowSchema),
  /** Why the Stage-A categories are missing from the slices (input moved, unreadable); null when fine. */
  slices_error: SerializedErrorSchema.nullable(),
  /** What is compared, in words (shown above the numbers). */
  note: z.string(),
});
export type CompareOutput = z.infer<typeof CompareOutputSchema>;

export const RunStepInfoSchema = z.object({
  step: z.number().int().nonnegative(),
  /** Groups with a selection sampled with this step, and the epochs those selections are of. */
  groups: z.number().int().nonnegative(),
  epochs: z.array(z.number().int().nonnegative()),
});
export type RunStepInfo = z.infer<typeof RunStepInfoSchema>;

// ---------------------------------------------------------------- the table

export const api = {
  listRuns: { input: Empty, output: z.object({ runs: z.array(RunSummarySchema) }) },
  listMissions: { input: Empty, output: z.object({ missions: z.array(MissionSummarySchema) }) },
  queryRows: { input: QueryRowsInputSchema, output: QueryRowsOutputSchema },
  groupDetail: { input: RunRefSchema.extend({ groupId: z.string().min(1).max(500), order: GroupOrderSchema.optional() }), output: GroupDetailOutputSchema },
  reflectionLog: {
    input: RunRefSchema.extend({ offset: Offset, limit: Limit(200, 50), appliedOnly: z.boolean().default(false) }),
    output: ReflectionLogOutputSchema,
  },
  listSnapshots: { input: RunRefSchema, output: z.object({ snapshots: z.array(SnapshotInfoSchema) }) },
  readSnapshot: { input: RunRefSchema.extend({ name: PathSegmentSchema }), output: z.object({ name: z.string(), state: GuidanceStateSchema }) },
  /** `hash` is the content hash of the file read; a hand edit changes it without moving the step. */
  guidanceRead: { input: RunRefSchema, output: z.object({ state: GuidanceStateSchema, hash: z.string().optional() }) },
  /** Compare-and-swap on baseStep (and baseHash when given): a lost race comes back as status 'conflict', not as an error. */
  guidanceSave: {
    input: RunRefSchema.extend({
      baseStep: z.number().int().nonnegative(),
      baseHash: z.string().max(200).optional(),
      ...GuidanceEditSchema.shape,
      author: AuthorFieldSchema,
      /** 'merge' when the text comes from the conflict merge view. */
      kind: z.enum(['save', 'merge']).default('save'),
    }),
    output: GuidanceWriteResultSchema,
  },
  guidanceRollback: {
    input: RunRefSchema.extend({ snapshot: PathSegmentSchema, baseStep: z.number().int().nonnegative(), baseHash: z.string().max(200).optional(), author: AuthorFieldSchema }),
    output: GuidanceWriteResultSchema,
  },
  qaQueue: {
    input: RunRefSchema.extend({
      /** Only items with this reason (within `scope`). */
      reason: QaReasonSchema.optional(),
      /** 'needs_person' (default): need_review, ineligible, label_mismatch or low_confidence; 'all': any reason, critique and warning included. */
      scope: z.enum(['needs_person', 'all']).default('needs_person'),
      /** A selected candidate's confidence below this is low_confidence. */
      lowConfidence: z.number().min(0).max(1).default(0.6),
      includeReviewed: z.boolean().default(true),
      offset: Offset,
      limit: Limit(500, 100),
    }),
    output: z.object({
      total: z.number().int().nonnegative(),
      offset: z.number().int().nonnegative(),
      items: z.array(QaItemSchema),
      /** Of the items in scope (reviewed ones included, whatever includeReviewed says), how many have a current review. */
      progress: z.object({ reviewed: z.number().int().nonnegative(), total: z.number().int().nonnegative() }),
      /** qa_reviews.jsonl lines that could not be read (reported, never hiding the rest), and a torn last line. */
      invalid_reviews: z.array(InvalidLineSchema),
      torn_reviews_tail: z.boolean(),
    }),
  },
  markReviewed: {
    input: RunRefSchema.extend({
      groupId: z.string().min(1).max(500),
      ticketKey: z.string().max(600).nullable().default(null),
      epoch: z.number().int().nonnegative().nullable().default(null),
      status: QaReviewStatusSchema,
      note: z.string().max(4000).default(''),
      reviewer: z.string().max(200).nullable().default(null),
    }),
    output: z.object({ review: FoldedQaReviewSchema }),
  },
  /**
   * Undo: appends a retraction of review `reviewId` (or, without one, of the latest review,
   * of `reviewer` when given). The item's earlier review, if any, is current again.
   */
  qaUndoReview: {
    input: RunRefSchema.extend({
      reviewId: z.string().min(1).max(200).optional(),
      reviewer: z.string().max(200).nullable().default(null),
    }),
    output: z.object({ retracted: FoldedQaReviewSchema, current: FoldedQaReviewSchema.nullable() }),
  },
  /** The current review of every reviewed item, as `stageb reviews export` writes them. */
  qaExportReviews: {
    input: RunRefSchema,
    output: z.object({ rows: z.array(QaReviewExportRowSchema), invalid_reviews: z.array(InvalidLineSchema) }),
  },
  /** The label corrections the reviews call for, as `stageb reviews corrections` writes them. */
  qaLabelCorrections: {
    input: RunRefSchema,
    output: z.object({
      corrections: z.array(LabelCorrectionSchema),
      skipped: z.array(z.object({ review_id: z.string(), group_id: z.string(), reason: z.string() })),
    }),
  },
  charts: { input: RunRefSchema, output: ChartsOutputSchema },
  /** review_queue.jsonl: reflection's operations on protected rules, newest first. */
  reviewQueue: {
    input: RunRefSchema.extend({ status: z.enum(['pending', 'accepted', 'dismissed', 'all']).default('all') }),
    output: z.object({ items: z.array(ReviewQueueItemSchema), pending: z.number().int().nonnegative() }),
  },
  /** Applies a queued operation through the guidance compare-and-swap, recorded as approved by `author`. */
  reviewAccept: {
    input: RunRefSchema.extend({ itemId: z.string().min(1).max(200), author: AuthorFieldSchema, note: z.string().max(4000).default('') }),
    output: z.object({ item: ReviewQueueItemSchema, state: GuidanceStateSchema, hash: z.string().optional() }),
  },
  reviewDismiss: {
    input: RunRefSchema.extend({ itemId: z.string().min(1).max(200), author: AuthorFieldSchema, note: z.string().max(4000).default('') }),
    output: z.object({ item: ReviewQueueItemSchema }),
  },
  listConfigs: {
    input: Empty,
    output: z.object({ configs: z.array(ConfigEntrySchema) }),
  },
  readConfig: { input: z.object({ path: RelativePathSchema }), output: z.object({ path: z.string(), text: z.string() }) },
  validateConfig: { input: z.object({ text: z.string().max(1_000_000) }), output: ConfigValidationSchema },
  /** Refuses (CONFIG_INVALID) to save a config that does not validate, unless it is new text being drafted with force. */
  saveConfig: {
    input: z.object({ path: RelativePathSchema, text: z.string().max(1_000_000), force: z.boolean().default(false) }),
    output: z.object({ path: z.string(), validation: ConfigValidationSchema }),
  },
  startRun: { input: z.object({ configPath: RelativePathSchema, kind: RunJobKindSchema.default('stage_b') }), output: z.object({ jobId: z.string() }) },
  cancelRun: { input: z.object({ jobId: z.string().min(1).max(100) }), output: z.object({ cancelled: z.boolean() }) },
  listJobs: { input: Empty, output: z.object({ jobs: z.array(JobInfoSchema) }) },
  /**
   * Starts a job measuring every rule of the run's current guidance on its holdout (left
   * out vs kept). Progress comes as run_event (progress) events of jobId; cancel with
   * cancelRun. With force false a result cached for the current step is reused (the job
   * then finishes at once).
   */
  attributionStart: { input: RunRefSchema.extend({ force: z.boolean().default(false) }), output: z.object({ jobId: z.string() }) },
  /**
   * The cached attribution of a step (default: the current one), null when none was
   * measured; `stale` when the guidance of that step changed since (hand edit), `steps`
   * every step with a result, newest last.
   */
  attributionResult: {
    input: RunRefSchema.extend({ step: z.number().int().nonnegative().optional() }),
    output: z.object({
      current_step: z.number().int().nonnegative(),
      steps: z.array(z.number().int().nonnegative()),
      result: AttributionResultSchema.nullable(),
      stale: z.boolean(),
    }),
  },
  /** Starts a job evaluating a draft guidance against the current guidance on the run's holdout. */
  previewStart: { input: RunRefSchema.extend({ draft: GuidanceEditSchema }), output: z.object({ jobId: z.string() }) },
  /** The preview of job jobId: null while the job runs (or when it failed or was cancelled: see listJobs). */
  previewResult: { input: RunRefSchema.extend({ jobId: z.string().min(1).max(100) }), output: z.object({ result: PreviewResultSchema.nullable() }) },
  /**
   * Asks a running stage_b / distill job to pause at its next batch boundary (status pausing, then
   * paused when the engine waits there, model loaded). false when the job is not running.
   */
  pauseJob: { input: z.object({ jobId: z.string().min(1).max(100) }), output: z.object({ requested: z.boolean() }) },
  /** Resumes a paused job with its next batch (or withdraws a pause not reached yet). false when it is neither. */
  resumeJob: { input: z.object({ jobId: z.string().min(1).max(100) }), output: z.object({ requested: z.boolean() }) },
  /** The guidance steps a run's selections were sampled with: what compare can put side by side within one run. */
  runSteps: { input: RunRefSchema, output: z.object({ steps: z.array(RunStepInfoSchema) }) },
  /** label_match and false-release of two runs (or two guidance steps of one) with 95% intervals, as `stageb compare` computes them, plus the groups whose verdict changed and a breakdown by slice. */
  compare: {
    input: z.object({ a: CompareSideSchema, b: CompareSideSchema, changedLimit: Limit(5000, 1000) }),
    output: CompareOutputSchema,
  },
  /**
   * Writes `text` as a new config `name` in the configs folder (a template saved under a new
   * name, or "save as"). Refuses FILE_EXISTS when the file exists, unless overwrite, and
   * CONFIG_INVALID when the text does not validate.
   */
  saveConfigAs: {
    input: z.object({ name: ConfigFileNameSchema, text: z.string().max(1_000_000), overwrite: z.boolean().default(false) }),
    output: z.object({ path: z.string(), validation: ConfigValidationSchema }),
  },
} as const;

export type Api = typeof api;
export type ApiMethod = keyof Api;
export const API_METHODS = Object.keys(api) as ApiMethod[];
export type ApiInput<M extends ApiMethod> = z.input<Api[M]['input']>;
export type ApiParsedInput<M extends ApiMethod> = z.output<Api[M]['input']>;
export type ApiOutput<M extends ApiMethod> = z.output<Api[M]['output']>;

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(api, name);
}

// ---------------------------------------------------------------- pushed events

export const ApiEventSchema = z.discriminatedUnion('type', [
  /** A RunEvent from the engine of job `jobId`. */
  z.object({ type: z.literal('run_event'), jobId: z.string(), event: RunEventSchema }),
  /** Job lifecycle; 'failed' carries the error (engine crash, non-zero exit). */
  z.object({ type: z.literal('job_status'), jobId: z.string(), status: JobStatusSchema, exit_code: z.number().int().nullable(), error: SerializedErrorSchema.nullable() }),
  /** A stderr line from the engine process (bounded length), for a log panel. */
  z.object({ type: z.literal('job_log'), jobId: z.string(), line: z.string() }),
]);
export type ApiEvent = z.infer<typeof ApiEventSchema>;

/** What both transports carry back for a call: the output, or the error to show verbatim. */
export const ApiEnvelopeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: SerializedErrorSchema }),
]);
export type ApiEnvelope = z.infer<typeof ApiEnvelopeSchema>;
