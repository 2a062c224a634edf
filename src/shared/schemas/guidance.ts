import { z } from 'zod';
import { withRuleIds } from '../guidance/withRuleIds';
import { Iso8601TimestampSchema } from './timestamp';

/** G0 is the mission checklist, G1+ are learned, S<n> are read-only invariants. */
export const ExperienceKeySchema = z.string().regex(/^(G|S)\d+$/, 'experience keys look like G0, G12 or S1');

/** A rule's identity across steps: the dense G-keys are renumbered, the rule_id never changes. */
export const RuleIdSchema = z.string().regex(/^R-[0-9a-z]{4,40}$/, 'rule ids look like R-3f9a0c12b7e4');

/** A person's name as the workbench sends it (reviewerStore); the engine writes null. */
export const AuthorNameSchema = z.string().trim().min(1).max(200);

const experienceMetaFields = {
  origin: z.enum(['initial', 'reflection', 'annotator', 'rollback']).default('initial'),
  reflection_id: z.string().nullable().default(null),
  /** ticket_keys of the evidence that justified the text. */
  sources: z.array(z.string()).default([]),
  rationale: z.string().nullable().default(null),
  updated_at: Iso8601TimestampSchema,
  /** The person who wrote the current text; null when the engine (or an unknown hand) wrote it. */
  author: AuthorNameSchema.nullable().default(null),
  /** The person who accepted the engine's proposal for this text from the review queue. */
  approved_by: AuthorNameSchema.nullable().default(null),
  /** rule_ids folded into this rule by merges (and deduplication), oldest first. */
  merged_rule_ids: z.array(RuleIdSchema).default([]),
};

/** Metadata of one rule in memory: always with its rule_id (GuidanceStateSchema assigns missing ones). */
export const ExperienceMetaSchema = z.object({ rule_id: RuleIdSchema, ...experienceMetaFields });
export type ExperienceMeta = z.infer<typeof ExperienceMetaSchema>;

/** Metadata as files and editors may hold it: older runs and hand-written files have no rule_id. */
export const StoredExperienceMetaSchema = z.object({ rule_id: RuleIdSchema.optional(), ...experienceMetaFields });
export type StoredExperienceMeta = z.infer<typeof StoredExperienceMetaSchema>;

/** Who made a guidance step, for the notice an open editor shows when the guidance moves under it. */
export const GuidanceWriteInfoSchema = z.object({
  kind: z.enum(['initial', 'save', 'merge', 'reflection', 'rollback', 'approval']),
  /** The person (annotator, approver, whoever rolled back); null for the engine. */
  author: AuthorNameSchema.nullable(),
  reflection_id: z.string().nullable().default(null),
  epoch: z.number().int().nonnegative().nullable().default(null),
  batch_index: z.number().int().nonnegative().nullable().default(null),
  /** Rollbacks: the snapshot restored and the step it held. */
  restored_snapshot: z.string().nullable().default(null),
  restored_step: z.number().int().nonnegative().nullable().default(null),
  /** Approvals: the review-queue item accepted. */
  review_item_id: z.string().nullable().default(null),
  /** The step this write produced: a file whose step differs was changed by hand afterwards. */
  step: z.number().int().nonnegative(),
  at: Iso8601TimestampSchema,
});
export type GuidanceWriteInfo = z.infer<typeof GuidanceWriteInfoSchema>;

/** What a writer says about itself; the repository adds the step and the time. */
export const GuidanceWriteBySchema = GuidanceWriteInfoSchema.omit({ step: true, at: true });
export type GuidanceWriteBy = z.input<typeof GuidanceWriteBySchema>;

const guidanceStateFields = {
  step: z.number().int().nonnegative(),
  updated_at: Iso8601TimestampSchema,
  experiences: z
    .record(ExperienceKeySchema, z.string())
    .refine((value) => Object.keys(value).length > 0, 'experiences must not be empty'),
  /** Fingerprints (planFingerprint) of the reflection plans already applied, newest last, so a replayed plan is a no-op. */
  applied_plans: z.array(z.string()).optional(),
  written_by: GuidanceWriteInfoSchema.optional(),
};

/** A guidance state in memory: every experience has metadata with a rule_id. */
export const ResolvedGuidanceStateSchema = z.object({ ...guidanceStateFields, metadata: z.record(z.string(), ExperienceMetaSchema) });
export type GuidanceState = z.infer<typeof ResolvedGuidanceStateSchema>;

/**
 * A guidance state as read from a file. Experiences without metadata or without a
 * rule_id (older runs, hand-written files) get them here, deterministically
 * (withRuleIds), so every reader sees the same ids and older files keep working.
 */
export const GuidanceStateSchema = z
  .object({ ...guidanceStateFields, metadata: z.record(z.string(), StoredExperienceMetaSchema).default({}) })
  .transform((state): GuidanceState => withRuleIds(state));
export type StoredGuidanceState = z.input<typeof GuidanceStateSchema>;

/** The guidance file: one state per mission. */
export const GuidanceFileSchema = z.record(z.string().min(1), GuidanceStateSchema);
export type GuidanceFile = z.infer<typeof GuidanceFileSchema>;

/** guidance_history.jsonl: the experiences the engine actually used, once per distinct step. */
export const GuidanceHistoryEntrySchema = z.object({
  step: z.number().int().nonnegative(),
  experiences: z.record(z.string(), z.string()),
  epoch: z.number().int().nonnegative(),
  batch_index: z.number().int().nonnegative(),
  recorded_at: z.string(),
});
export type GuidanceHistoryEntry = z.infer<typeof GuidanceHistoryEntrySchema>;
