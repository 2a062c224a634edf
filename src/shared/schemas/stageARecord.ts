import { z } from 'zod';
import { RawLabelSchema } from '../verdict';

/**
 * One Stage-A ticket line. `per_image` maps image_1..N to a summary string in
 * either the old text form or the JSON form (see src/shared/stageASummary.ts);
 * the literal 无关图片 marks an irrelevant photo. Labels are optional so
 * inference-only runs can ingest unlabeled tickets.
 */
export const StageARecordSchema = z
  .object({
    group_id: z.string().trim().min(1, 'group_id must be a non-empty string'),
    mission: z.string().trim().min(1, 'mission must be a non-empty string'),
    label: RawLabelSchema.optional().nullable(),
    images: z.array(z.string()).default([]),
    per_image: z
      .record(
        z.string().regex(/^image_\d+$/, 'per_image keys must look like image_1'),
        // The spec's "fail fast when Stage-A summaries are missing": an empty summary is a missing one
        // (an irrelevant photo is marked 无关图片, never left blank; no real ticket has a blank one).
        z.string().refine((summary) => summary.trim() !== '', 'the summary is empty or only whitespace; Stage-A must describe every image (无关图片 marks an irrelevant one)'),
      )
      .refine((value) => Object.keys(value).length > 0, 'per_image must hold at least one summary'),
    gt_fail_reason_text: z.string().optional().nullable(),
    gt_fail_reason_texts: z.array(z.string()).optional().nullable(),
  })
  .passthrough();

export type StageARecord = z.infer<typeof StageARecordSchema>;

/** A ticket after ingest: the record plus its identity and source position. */
export const TicketSchema = z.object({
  ticket_key: z.string(),
  group_id: z.string(),
  mission: z.string(),
  label: z.enum(['pass', 'fail']).nullable(),
  /** The input's label when a label correction replaced it (see src/main/io/loadLabelCorrections.ts); null otherwise. */
  original_label: z.enum(['pass', 'fail']).nullable().optional(),
  images: z.array(z.string()),
  /** Ordered by image number (image_2 before image_10). */
  summaries: z.array(z.object({ image: z.string(), text: z.string() })),
  source: z.object({ file: z.string(), line: z.number().int().positive() }),
});
export type Ticket = z.infer<typeof TicketSchema>;
