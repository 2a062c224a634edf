import { z } from 'zod';

/** G0 is the mission checklist, G1+ are learned, S<n> are read-only invariants. */
export const ExperienceKeySchema = z.string().regex(/^(G|S)\d+$/, 'experience keys look like G0, G12 or S1');

export const ExperienceMetaSchema = z.object({
  origin: z.enum(['initial', 'reflection', 'annotator', 'rollback']).default('initial'),
  reflection_id: z.string().nullable().default(null),
  /** ticket_keys of the evidence that justified the text. */
  sources: z.array(z.string()).default([]),
  rationale: z.string().nullable().default(null),
  updated_at: z.string(),
});
export type ExperienceMeta = z.infer<typeof ExperienceMetaSchema>;

export const GuidanceStateSchema = z.object({
  step: z.number().int().nonnegative(),
  updated_at: z.string().min(1),
  experiences: z
    .record(ExperienceKeySchema, z.string())
    .refine((value) => Object.keys(value).length > 0, 'experiences must not be empty'),
  metadata: z.record(z.string(), ExperienceMetaSchema).default({}),
  /** Fingerprints (planFingerprint) of the reflection plans already applied, newest last, so a replayed plan is a no-op. */
  applied_plans: z.array(z.string()).optional(),
});
export type GuidanceState = z.infer<typeof GuidanceStateSchema>;

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
