import { z } from 'zod';

/**
 * Deterministic signals, stored with every candidate and selection.
 * Definitions (also in docs/signals.md):
 * - label_match: the candidate's verdict equals the human label (null when unlabelled or malformed).
 * - self_consistency: share of the group's well-formed candidates that agree with this candidate's verdict.
 * - candidate_agreement: every well-formed candidate of the group gave the same verdict.
 * - confidence: the model's own Confidence line (null in two_line format or when malformed).
 * - label_trust: how far the label can be trusted as supervision, 1 - share of well-formed
 *   candidates that unanimously contradict it (null when unlabelled).
 */
export const SignalsSchema = z.object({
  label_match: z.boolean().nullable(),
  self_consistency: z.number().min(0).max(1).nullable(),
  candidate_agreement: z.boolean().nullable(),
  confidence: z.number().min(0).max(1).nullable(),
  label_trust: z.number().min(0).max(1).nullable(),
});
export type Signals = z.infer<typeof SignalsSchema>;
