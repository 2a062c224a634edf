import { z } from 'zod';
import { AuthorNameSchema, RuleIdSchema } from './guidance';
import { ReflectionOperationSchema } from './records';

/** A protected rule an operation would change, as it was when reflection proposed the change. */
export const ReviewTargetSchema = z.object({
  key: z.string(),
  rule_id: RuleIdSchema.nullable(),
  /** Why reflection may not change it itself (protectionReason). */
  reason: z.string(),
  text: z.string().nullable(),
});
export type ReviewTarget = z.infer<typeof ReviewTargetSchema>;

/** review_queue.jsonl, append-only: a proposal row per queued operation, then at most one decision row for it. */
export const ReviewProposalSchema = z.object({
  type: z.literal('proposal'),
  item_id: z.string().min(1),
  mission: z.string(),
  reflection_id: z.string(),
  epoch: z.number().int().nonnegative(),
  batch_index: z.number().int().nonnegative(),
  cycle: z.number().int().nonnegative(),
  /** The guidance step the operation's keys refer to. */
  guidance_step: z.number().int().nonnegative(),
  operation: ReflectionOperationSchema,
  /** The rule_id behind every key the operation names (at guidance_step), so an accept finds the rules after renumbering. */
  rule_ids: z.record(z.string(), RuleIdSchema),
  targets: z.array(ReviewTargetSchema).min(1),
  created_at: z.string(),
});
export type ReviewProposal = z.infer<typeof ReviewProposalSchema>;

export const ReviewDecisionSchema = z.object({
  type: z.literal('decision'),
  item_id: z.string().min(1),
  decision: z.enum(['accepted', 'dismissed']),
  by: AuthorNameSchema.nullable(),
  /** Accepted: the guidance step the approval wrote. */
  guidance_step_after: z.number().int().nonnegative().nullable(),
  note: z.string().max(4000).default(''),
  created_at: z.string(),
});
export type ReviewDecision = z.infer<typeof ReviewDecisionSchema>;

export const ReviewQueueEntrySchema = z.discriminatedUnion('type', [ReviewProposalSchema, ReviewDecisionSchema]);
export type ReviewQueueEntry = z.infer<typeof ReviewQueueEntrySchema>;

/** A queue item as the workbench lists it: the proposal and its decision, if any. */
export const ReviewItemSchema = ReviewProposalSchema.omit({ type: true }).extend({
  status: z.enum(['pending', 'accepted', 'dismissed']),
  decision: ReviewDecisionSchema.omit({ type: true, item_id: true }).nullable(),
});
export type ReviewItem = z.infer<typeof ReviewItemSchema>;
