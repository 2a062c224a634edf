import { z } from 'zod';

/**
 * Two file kinds that wire the Stage-B distill corpus into the student's SFT:
 * a fusion config (configs/fusion/*.yaml) names the corpora that can be mixed,
 * and an SFT config (configs/sft/*.yaml) picks sources from one fusion config
 * with a ratio each.
 */
const SourceNameSchema = z.string().regex(/^[a-z][a-z0-9_]*$/, 'source names are snake_case');

export const FusionSourceSchema = z
  .object({
    owner: z.enum(['user', 'stage_b']).describe("Who produces the corpus: the user's existing data pipeline or `stageb distill split`."),
    dataset: z.enum(['dense', 'summary', 'chat']).describe('Loader kind: dense captions, Stage-A summaries, or ChatML conversations.'),
    template: z.string().min(1).describe('Prompt template the trainer applies (chatml for chat corpora).'),
    mode: z.enum(['dense', 'summary']).describe('Output mode the samples train.'),
    train: z.string().min(1).describe('Training JSONL.'),
    val: z.string().min(1).nullable().default(null).describe('Validation JSONL, or null.'),
    high_value: z.string().min(1).nullable().default(null).describe('Sidecar listing high-value rows (label=fail & verdict=fail) to up-weight, or null.'),
    description: z.string().default('').describe('What the corpus is.'),
  })
  .strict();
export type FusionSource = z.infer<typeof FusionSourceSchema>;

export const FusionConfigSchema = z
  .object({
    version: z.literal(1),
    name: z.string().min(1),
    sources: z.record(SourceNameSchema, FusionSourceSchema).refine((s) => Object.keys(s).length > 0, 'at least one source'),
  })
  .strict();
export type FusionConfig = z.infer<typeof FusionConfigSchema>;

const RATIO_TOLERANCE = 1e-6;

export const SftConfigSchema = z
  .object({
    version: z.literal(1),
    name: z.string().min(1),
    fusion: z.string().min(1).describe('Path of the fusion config whose sources `mix` names.'),
    base_model: z.string().min(1).describe('Student checkpoint to fine-tune.'),
    mix: z
      .record(SourceNameSchema, z.number().gt(0).max(1))
      .refine((m) => Object.keys(m).length > 0, 'at least one source in mix')
      .refine((m) => Math.abs(Object.values(m).reduce((s, r) => s + r, 0) - 1) <= RATIO_TOLERANCE, 'mix ratios must sum to 1')
      .describe('Share of training samples drawn from each fusion source; sums to 1.'),
    high_value_repeat: z
      .number()
      .int()
      .min(1)
      .max(4)
      .default(1)
      .describe("How many times a source's high-value rows are drawn relative to its other rows (1 = no up-weighting)."),
    training: z
      .object({
        epochs: z.number().positive(),
        learning_rate: z.number().positive(),
        max_length: z.number().int().positive(),
        global_batch_size: z.number().int().positive(),
        warmup_ratio: z.number().min(0).max(0.5),
      })
      .strict(),
    eval: z
      .object({
        stage_b_config: z.string().min(1).describe('Stage-B run config used to judge the fine-tuned student (compare with `stageb compare`).'),
      })
      .strict(),
  })
  .strict();
export type SftConfig = z.infer<typeof SftConfigSchema>;

/** Cross-file checks a schema alone cannot express; returns human-readable problems (empty = consistent). */
export function checkSftAgainstFusion(sft: SftConfig, fusion: FusionConfig): string[] {
  const problems: string[] = [];
  for (const source of Object.keys(sft.mix)) {
    if (!(source in fusion.sources)) problems.push(`mix names source "${source}", which fusion config "${fusion.name}" does not define`);
  }
  if (sft.high_value_repeat > 1 && !Object.keys(sft.mix).some((s) => fusion.sources[s]?.high_value)) {
    problems.push('high_value_repeat > 1 but no mixed source has a high_value sidecar');
  }
  return problems;
}
