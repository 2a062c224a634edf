import { z } from 'zod';
import { GroupLabelSchema } from '../verdict';

/**
 * qa_reviews.jsonl, the QA reviewer's log: append-only, so an undo is a retraction row
 * that names the review it takes back, never an edit. The fold (src/shared/qaReviews/
 * foldQaReviews.ts) reads it as "the latest review per item that is not retracted".
 */

export const QaReviewStatusSchema = z.enum(['ok', 'label_wrong', 'guidance_gap', 'model_error', 'other']);
export type QaReviewStatus = z.infer<typeof QaReviewStatusSchema>;

export const QaReviewRecordSchema = z.object({
  /**
   * Names the review for an undo. Rows written before review ids existed have none on disk;
   * the reader gives them `line-N` (their line in the file, which an append never moves).
   */
  review_id: z.string().min(1).max(200).optional(),
  group_id: z.string(),
  ticket_key: z.string().nullable(),
  epoch: z.number().int().nonnegative().nullable(),
  status: QaReviewStatusSchema,
  note: z.string(),
  reviewer: z.string().nullable(),
  created_at: z.string(),
});
export type QaReviewRecord = z.infer<typeof QaReviewRecordSchema>;

/** An undo: review `retracts` no longer counts; the item's review before it (if any) is current again. */
export const QaReviewRetractionSchema = z.object({
  type: z.literal('retraction'),
  retracts: z.string().min(1).max(200),
  group_id: z.string(),
  ticket_key: z.string().nullable(),
  epoch: z.number().int().nonnegative().nullable(),
  reviewer: z.string().nullable(),
  created_at: z.string(),
});
export type QaReviewRetraction = z.infer<typeof QaReviewRetractionSchema>;

/** One line of qa_reviews.jsonl: a retraction (it has `type`) or a review (older rows have no `type`). */
export const QaReviewLogRowSchema = z.union([QaReviewRetractionSchema, QaReviewRecordSchema]);
export type QaReviewLogRow = z.infer<typeof QaReviewLogRowSchema>;

/** A review after the fold: always has its id. */
export const FoldedQaReviewSchema = QaReviewRecordSchema.extend({ review_id: z.string() });
export type FoldedQaReview = z.infer<typeof FoldedQaReviewSchema>;

/** `stageb reviews export` and the qaExportReviews API method: one row per item's current review. */
export const QaReviewExportRowSchema = z.object({
  mission: z.string(),
  review_id: z.string(),
  group_id: z.string(),
  ticket_key: z.string().nullable(),
  epoch: z.number().int().nonnegative().nullable(),
  /** The ticket's label in the run (from selections.jsonl); null when the run has no selection of it. */
  label: GroupLabelSchema.nullable(),
  status: QaReviewStatusSchema,
  note: z.string(),
  reviewer: z.string().nullable(),
  reviewed_at: z.string(),
});
export type QaReviewExportRow = z.infer<typeof QaReviewExportRowSchema>;
