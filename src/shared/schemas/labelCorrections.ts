import { z } from 'zod';
import { GroupLabelSchema } from '../verdict';

/**
 * A label corrections file (`stageb reviews corrections`, read through the run config's
 * `label_corrections.path`): one JSONL row per Stage-A ticket whose label a QA reviewer
 * marked wrong. Ingest replaces the ticket's label with `corrected_label` and keeps the
 * input's label as `original_label` on every record of that ticket.
 */
export const LabelCorrectionSchema = z.object({
  /** The ticket as the Stage-A input names it: `{group_id}::{original_label}`. */
  ticket_key: z.string().min(1),
  group_id: z.string().min(1),
  mission: z.string().min(1),
  original_label: GroupLabelSchema,
  corrected_label: GroupLabelSchema,
  reviewer: z.string().nullable(),
  note: z.string(),
  reviewed_at: z.string(),
});
export type LabelCorrection = z.infer<typeof LabelCorrectionSchema>;
