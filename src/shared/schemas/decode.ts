import { z } from 'zod';

export const PromptVariantSchema = z.enum(['default', 'checklist', 'evidence_first']);
export type PromptVariant = z.infer<typeof PromptVariantSchema>;

/** The decode parameters of one candidate; stored with every trajectory row. */
export const DecodeParamsSchema = z.object({
  temperature: z.number().min(0).max(5),
  top_p: z.number().gt(0).max(1),
  seed: z.number().int().nonnegative(),
  max_new_tokens: z.number().int().positive(),
  prompt_variant: PromptVariantSchema,
});
export type DecodeParams = z.infer<typeof DecodeParamsSchema>;
