import { z } from 'zod';
import { canonicalJson } from '../../../shared/guidance/canonicalJson';
import { sha256Hex } from '../../../shared/guidance/sha256Hex';
import { GroupLabelSchema } from '../../../shared/verdict';
import { SignalsSchema } from '../../../shared/schemas/signals';
import { ExperienceKeySchema, ExperienceMetaSchema } from '../../../shared/schemas/guidance';
import { ReflectionOperationSchema } from '../../../shared/schemas/records';
import { ReviewTargetSchema } from '../../../shared/schemas/reviewQueue';
import type { ArtifactStore } from '../ports/ArtifactStore';
import { RUN_FILES } from '../../../shared/runFiles';

/**
 * The cached artifacts of one reflection, under reflection_cache/ with deterministic
 * names. Each carries the fingerprint of the inputs it was made from: a rerun reuses an
 * artifact only when it parses against its schema AND its fingerprint equals the one
 * recomputed from the current inputs, so a stale file (other guidance, other batch) is
 * regenerated instead of trusted.
 *
 * No artifact carries a wall-clock time: two fresh identical runs leave byte-identical
 * caches. When a decision was made is in reflection.jsonl; when a rule was written is
 * stamped where the guidance is written (batchUpdateStage.withRuleTimes). Artifacts of
 * older versions, which carried created_at and timed rule metadata, still parse (the
 * extra fields are dropped) and are reused when their fingerprint matches.
 */
export const REFLECTION_CACHE_DIR = RUN_FILES.reflectionCache;

/** A stage's artifact of one decision: named by epoch, cycle and the stage's name (summary, critique, batch_update, gate, apply). */
export function reflectionCacheName(epoch: number, cycle: number, stage: string): string {
  return `epoch${epoch}_cycle${cycle}_${stage}.json`;
}

/** How a decision's record lists a cache file (cache_artifacts): relative to the mission's run directory. */
export function cacheArtifactPath(name: string): string {
  return `${REFLECTION_CACHE_DIR}/${name}`;
}

/** Holdout baselines are per guidance content, shared by every batch that sees it. */
export function holdoutBaselineCacheName(experiencesHash: string): string {
  return `holdout_baseline_${experiencesHash.slice(0, 16)}.json`;
}

/** A short stable hash of any JSON value (key order does not matter). */
export function fingerprint(value: unknown): string {
  return sha256Hex(canonicalJson(value)).slice(0, 32);
}

const VoteSchema = z.object({ pass: z.number().int().nonnegative(), fail: z.number().int().nonnegative(), malformed: z.number().int().nonnegative() });

const ArtifactHeader = {
  schema_version: z.literal(1),
  mission: z.string(),
  epoch: z.number().int().nonnegative(),
  cycle: z.number().int().nonnegative(),
  batch_index: z.number().int().nonnegative(),
  guidance_step: z.number().int().nonnegative(),
  inputs_fingerprint: z.string(),
};

export const SummaryGroupSchema = z.object({
  group_id: z.string(),
  ticket_key: z.string(),
  label: GroupLabelSchema.nullable(),
  verdict: GroupLabelSchema.nullable(),
  reason: z.string().nullable(),
  vote: VoteSchema,
  summary: z.string().nullable(),
  critique: z.string().nullable(),
  /** Why summary/critique are null (the SampleSummarizer's parse error), else null. */
  summary_error: z.string().nullable(),
  signals: SignalsSchema,
});
export type SummaryGroup = z.infer<typeof SummaryGroupSchema>;

/** Stage 1: the batch compressed to the learnable groups' decisions and critic notes. */
export const SummaryArtifactSchema = z.object({
  stage: z.literal('summary'),
  ...ArtifactHeader,
  group_ids: z.array(z.string()),
  groups: z.array(SummaryGroupSchema).min(1),
  /** ticket_keys left out as need_review (not learnable). */
  excluded_need_review: z.array(z.string()),
});
export type SummaryArtifact = z.infer<typeof SummaryArtifactSchema>;

/** Stage 2: the operations the model proposed, already in ReflectionOperation form. */
export const CritiqueArtifactSchema = z.object({
  stage: z.literal('critique'),
  ...ArtifactHeader,
  operations: z.array(ReflectionOperationSchema),
  uncertainty_note: z.string().nullable(),
  /** The model's raw JSON, for audit. */
  raw_text: z.string(),
});
export type CritiqueArtifact = z.infer<typeof CritiqueArtifactSchema>;

/** A rule's metadata as a cached preview holds it: everything but its wall-clock time. */
export const UntimedRuleMetaSchema = ExperienceMetaSchema.omit({ updated_at: true });
export type UntimedRuleMeta = z.infer<typeof UntimedRuleMetaSchema>;

export const PreviewGuidanceSchema = z.object({
  experiences: z.record(ExperienceKeySchema, z.string()).refine((v) => Object.keys(v).length > 0, 'preview experiences must not be empty'),
  metadata: z.record(z.string(), UntimedRuleMetaSchema),
});
export type PreviewGuidance = z.infer<typeof PreviewGuidanceSchema>;

/** Stage 3: one merged plan, the guidance it would produce, and where it came from. */
export const BatchUpdateArtifactSchema = z.object({
  stage: z.literal('batch_update'),
  ...ArtifactHeader,
  plan: z.object({
    reflection_id: z.string(),
    /** Fingerprint of `operations`, the part reflection may apply itself. */
    plan_fingerprint: z.string(),
    /** The operations gated and applied by reflection (none when every one touched a protected rule). */
    operations: z.array(ReflectionOperationSchema),
    /** Operations on protected rules: they go to review_queue.jsonl, never applied by the engine. */
    queued: z.array(z.object({ operation: ReflectionOperationSchema, targets: z.array(ReviewTargetSchema).min(1) })),
    /** Everything proposed after merging (operations + queued, in the model's order). */
    proposed_operations: z.array(ReflectionOperationSchema).min(1),
    evidence_group_ids: z.array(z.string()),
    uncertainty_note: z.string().nullable(),
    /** Operations dropped while merging (duplicates, second edits of one key). */
    dropped: z.array(z.object({ operation: ReflectionOperationSchema, why: z.string() })),
  }),
  /** The guidance after `operations`: what the holdout gate evaluates and what an apply writes. */
  preview_guidance: PreviewGuidanceSchema,
  /** The guidance the whole proposal would give (queued operations included), for the timeline's diff. */
  proposed_guidance: PreviewGuidanceSchema,
  key_map: z.record(z.string(), z.string()),
  provenance: z.object({
    reflection_id: z.string(),
    mission: z.string(),
    epoch: z.number().int().nonnegative(),
    cycle: z.number().int().nonnegative(),
    batch_index: z.number().int().nonnegative(),
    guidance_step_before: z.number().int().nonnegative(),
    summary_artifact: z.string(),
    critique_artifact: z.string(),
    evidence_ticket_keys: z.array(z.string()),
  }),
});
export type BatchUpdateArtifact = z.infer<typeof BatchUpdateArtifactSchema>;

export const HoldoutRowSchema = z.object({ ticket_key: z.string(), label: GroupLabelSchema, verdict: GroupLabelSchema.nullable() });
export type HoldoutRow = z.infer<typeof HoldoutRowSchema>;

export const HoldoutBaselineArtifactSchema = z.object({
  stage: z.literal('holdout_baseline'),
  schema_version: z.literal(1),
  guidance_step: z.number().int().nonnegative(),
  inputs_fingerprint: z.string(),
  rows: z.array(HoldoutRowSchema),
});
export type HoldoutBaselineArtifact = z.infer<typeof HoldoutBaselineArtifactSchema>;

/** The preview's holdout evaluation, so a rerun does not roll the holdout out again. */
export const GateArtifactSchema = z.object({
  stage: z.literal('gate'),
  ...ArtifactHeader,
  preview_rows: z.array(HoldoutRowSchema),
});
export type GateArtifact = z.infer<typeof GateArtifactSchema>;

export type CachedRead<T> = { value: T; status: 'reused' } | { value: null; status: 'missing' | 'invalid' | 'stale'; detail?: string };

/** Reads an artifact and reuses it only when it is well-formed and made from the same inputs. */
export async function readCachedArtifact<T extends { inputs_fingerprint: string }>(
  store: ArtifactStore,
  name: string,
  schema: z.ZodType<T>,
  expectedFingerprint: string,
): Promise<CachedRead<T>> {
  let raw: unknown;
  try {
    raw = await store.readCacheArtifact(name);
  } catch (error) {
    // An unreadable file (truncated JSON, bad encoding) is an invalid artifact: regenerate it.
    return { value: null, status: 'invalid', detail: error instanceof Error ? error.message : String(error) };
  }
  if (raw === null || raw === undefined) return { value: null, status: 'missing' };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { value: null, status: 'invalid', detail: parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  if (parsed.data.inputs_fingerprint !== expectedFingerprint) return { value: null, status: 'stale' };
  return { value: parsed.data, status: 'reused' };
}
