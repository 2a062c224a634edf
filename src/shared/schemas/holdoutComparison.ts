import { z } from 'zod';
import { GroupLabelSchema } from '../verdict';
import { ExperienceKeySchema, RuleIdSchema, StoredExperienceMetaSchema } from './guidance';

/**
 * Measured effects of guidance on a run's holdout: the per-rule attribution
 * (`stageb attribute`, attribution/step-<N>.json) and the preview of a draft
 * against the current guidance (`stageb preview`, preview/<id>.json). Both compare
 * two guidance texts on the SAME holdout tickets with the same decode seeds, so every
 * difference is paired by ticket_key.
 */

/** One holdout ticket's selected verdict under one guidance (null: malformed / dropped). */
export const HoldoutVerdictSchema = z.object({ ticket_key: z.string(), label: GroupLabelSchema, verdict: GroupLabelSchema.nullable() });
export type HoldoutVerdict = z.infer<typeof HoldoutVerdictSchema>;

/** The two headline rates of one guidance on the holdout (src/shared/metrics/rates.ts). */
export const HoldoutRatesSchema = z.object({
  label_match_rate: z.number().min(0).max(1).nullable(),
  false_release_rate: z.number().min(0).max(1).nullable(),
  /** Labelled tickets (label_match denominator). */
  labelled: z.number().int().nonnegative(),
  /** Tickets labelled fail (false_release denominator). */
  fail_tickets: z.number().int().nonnegative(),
});
export type HoldoutRates = z.infer<typeof HoldoutRatesSchema>;

/**
 * candidate - baseline of a rate over paired tickets, with the 95 % paired-bootstrap
 * percentile interval (src/shared/metrics/pairedBootstrap.ts). All null when there
 * is no ticket to pair (e.g. false release on a holdout without a fail ticket).
 */
export const PairedDifferenceSchema = z.object({
  estimate: z.number().min(-1).max(1).nullable(),
  lower: z.number().min(-1).max(1).nullable(),
  upper: z.number().min(-1).max(1).nullable(),
  /** Paired tickets the difference is over. */
  n: z.number().int().nonnegative(),
});
export type PairedDifference = z.infer<typeof PairedDifferenceSchema>;

export const VerdictChangeSchema = z.object({
  ticket_key: z.string(),
  label: GroupLabelSchema,
  before: GroupLabelSchema.nullable(),
  after: GroupLabelSchema.nullable(),
});
export type VerdictChange = z.infer<typeof VerdictChangeSchema>;

/** Baseline vs candidate guidance on the same holdout tickets. */
export const HoldoutComparisonSchema = z.object({
  baseline: HoldoutRatesSchema,
  candidate: HoldoutRatesSchema,
  /** label_match candidate - baseline (the uplift). */
  label_match_difference: PairedDifferenceSchema,
  /** false_release candidate - baseline, over the fail tickets (positive = more bad installations released). */
  false_release_difference: PairedDifferenceSchema,
  /** Paired-bootstrap probability that candidate label_match > baseline (the gate's number); null without paired tickets. */
  uplift_probability: z.number().min(0).max(1).nullable(),
  /** Tickets whose verdict differs between baseline (before) and candidate (after). */
  changed_tickets: z.array(VerdictChangeSchema),
  bootstrap: z.object({ samples: z.number().int().positive(), seed: z.number().int().nonnegative() }),
});
export type HoldoutComparison = z.infer<typeof HoldoutComparisonSchema>;

/** What the holdout was: the run's own split, recomputed from its config. */
export const HoldoutDescriptionSchema = z.object({
  tickets: z.number().int().nonnegative(),
  pass: z.number().int().nonnegative(),
  fail: z.number().int().nonnegative(),
  /** Candidates per ticket (sampler.candidates); the verdict is the run's own selection rule. */
  candidates: z.number().int().positive(),
  /** fingerprint of the sorted holdout ticket_keys, so a result is never read against another holdout. */
  fingerprint: z.string(),
});

/**
 * One rule's measured effect: baseline = the guidance with the rule left out (the
 * remaining learned keys renumbered as a removal would), candidate = the guidance as it
 * is. A positive label_match difference means the rule helps on this holdout.
 */
export const RuleAttributionSchema = z.object({
  key: ExperienceKeySchema,
  rule_id: RuleIdSchema,
  text: z.string(),
  comparison: HoldoutComparisonSchema,
  /** Per-ticket verdicts with the rule left out (the with-rule verdicts are the result's rows_with). */
  rows_without: z.array(HoldoutVerdictSchema),
});
export type RuleAttribution = z.infer<typeof RuleAttributionSchema>;

const ResultHeader = {
  schema_version: z.literal(1),
  run_name: z.string(),
  mission: z.string(),
  /** The guidance step measured (the run's current guidance when the job started). */
  guidance_step: z.number().int().nonnegative(),
  /** experiencesHash of that guidance (the text the model sees): a hand edit without a step change makes the result stale. */
  experiences_hash: z.string(),
  holdout: HoldoutDescriptionSchema,
  created_at: z.string(),
};

/** attribution/step-<N>.json (owner: src/main/io/attributionFiles.ts). */
export const AttributionResultSchema = z.object({
  kind: z.literal('attribution'),
  ...ResultHeader,
  /** Per-ticket verdicts of the whole guidance. */
  rows_with: z.array(HoldoutVerdictSchema),
  rules: z.array(RuleAttributionSchema),
});
export type AttributionResult = z.infer<typeof AttributionResultSchema>;

/** The gate's reading of a draft, as the reflection gate would decide it (src/main/engine/reflection/holdoutGate.ts). */
export const PreviewGateReadingSchema = z.object({ apply: z.boolean(), reason: z.string().nullable(), why: z.string() });

/** preview/<id>.json (owner: src/main/io/previewFiles.ts): a draft against the current guidance. */
export const PreviewResultSchema = z.object({
  kind: z.literal('preview'),
  ...ResultHeader,
  preview_id: z.string(),
  draft: z.object({ experiences: z.record(ExperienceKeySchema, z.string()), metadata: z.record(z.string(), StoredExperienceMetaSchema).optional() }),
  rows_current: z.array(HoldoutVerdictSchema),
  rows_draft: z.array(HoldoutVerdictSchema),
  /** baseline = the current guidance, candidate = the draft. */
  comparison: HoldoutComparisonSchema,
  gate: PreviewGateReadingSchema,
});
export type PreviewResult = z.infer<typeof PreviewResultSchema>;
