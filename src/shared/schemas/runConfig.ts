import { z } from 'zod';
import { PromptVariantSchema } from './decode';
import { VerdictFormatSchema } from '../verdictProtocol';
import { RuleIdSchema } from './guidance';
import { RUN_FILES } from '../runFiles';
import { ModelConfigSchema } from './backends';

export { ModelConfigSchema, type ModelConfig, type BackendName } from './backends';
export { LlamaCppModelSchema, type LlamaCppModelConfig } from './backends/llamaCppModel';
export { OpenAiModelSchema, type OpenAiModelConfig } from './backends/openAiModel';

/**
 * The run config (YAML). Every key carries a description: the README's config
 * table is checked against these by test/shared/readmeConfigKeys.test.ts, so the
 * docs cannot drift from the schema.
 */
const DecodeGridEntrySchema = z
  .object({
    temperature: z.number().min(0).max(5).describe('Sampling temperature of this grid point.'),
    top_p: z.number().gt(0).max(1).describe('Nucleus sampling mass of this grid point.'),
    prompt_variant: PromptVariantSchema.default('default').describe('Prompt variant: default, checklist or evidence_first.'),
  })
  .strict();

/**
 * Rules reflection may propose to change but never applies itself: those operations go to
 * the review queue (review_queue.jsonl) for an annotator to accept or dismiss.
 */
export const ProtectedRulesSchema = z
  .object({
    mission_checklist: z.boolean().default(true).describe('G0, the mission checklist, is protected.'),
    person_authored: z
      .boolean()
      .default(true)
      .describe("Rules whose latest author is a person are protected: an annotator's save or merge, or an engine proposal a person accepted from the review queue (rules of the initial file count when its metadata names an author)."),
    rule_ids: z.array(RuleIdSchema).default([]).describe('More rule_ids that are always protected, whoever wrote them last.'),
  })
  .strict()
  .default({ mission_checklist: true, person_authored: true, rule_ids: [] })
  .describe('Which rules only people may modify, merge or remove; reflection queues its proposals for them instead.');
export type ProtectedRules = z.infer<typeof ProtectedRulesSchema>;


export const RunConfigSchema = z
  .object({
    run_name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'run_name may use letters, digits, . _ and -').describe('Run directory name under output.root.'),
    seed: z.number().int().nonnegative().default(17).describe('Master seed: shuffling, decode seeds, holdout split.'),
    mission: z.string().min(1).describe('Mission name; every ticket and the guidance entry must match it.'),
    stage_a_paths: z.array(z.string().min(1)).min(1).describe('Stage-A JSONL files to ingest (UTF-8, one ticket per line; every per_image summary must be non-blank).'),
    guidance: z
      .object({
        path: z.string().min(1).describe('Initial guidance file ({mission: {step, updated_at, experiences, metadata}}), UTF-8; `updated_at` and every rule\'s `metadata.*.updated_at` are ISO 8601 timestamps. Copied into the run directory on first start.'),
        max_tokens: z.number().int().positive().default(2048).describe('Token budget for the rendered experiences block (model tokenizer); over it the run stops before any rollout and before anything is written.'),
        snapshot_retention: z.number().int().positive().default(50).describe(`Snapshots kept in ${RUN_FILES.snapshots}/; older ones are pruned.`),
      })
      .strict()
      .describe('Mission guidance.'),
    model: ModelConfigSchema.describe('LLM backend.'),
    label_corrections: z
      .object({
        path: z
          .string()
          .min(1)
          .nullable()
          .default(null)
          .describe(
            'A label corrections file (JSONL, as `stageb reviews corrections` writes it). Ingest replaces the label of each ticket it names with `corrected_label`, so the run trains and gates on the corrected labels, and every record of that ticket keeps the input\'s label as `original_label`. A correction for a ticket not in the input, of another mission, or whose `original_label` is not the input\'s is refused (typed error naming file, line and field). Relative paths resolve against the config file. null = the labels as the input has them.',
          ),
      })
      .strict()
      .default({ path: null })
      .describe('Label corrections from QA review.'),
    sampler: z
      .object({
        candidates: z.number().int().positive().default(4).describe('K: candidate verdicts per group.'),
        grid: z.array(DecodeGridEntrySchema).min(1).default([
          { temperature: 0.7, top_p: 0.9, prompt_variant: 'default' },
          { temperature: 1.0, top_p: 0.95, prompt_variant: 'checklist' },
        ]).describe('Decode grid; candidate i uses grid[i mod len].'),
        max_new_tokens: z.number().int().positive().default(256).describe('Generation cap per candidate.'),
        max_reason_chars: z.number().int().positive().default(80).describe('Upper bound on the Reason line enforced by the grammar.'),
        format: VerdictFormatSchema.default('three_line').describe('Verdict protocol: three_line (Verdict/Reason/Confidence) or two_line (Verdict/Reason).'),
        max_prompt_tokens: z.number().int().positive().nullable().default(null).describe('Per-prompt token budget; a ticket over it is dropped and reported, never truncated. null = context_size - max_new_tokens.'),
      })
      .strict()
      .default({
        candidates: 4,
        grid: [
          { temperature: 0.7, top_p: 0.9, prompt_variant: 'default' },
          { temperature: 1.0, top_p: 0.95, prompt_variant: 'checklist' },
        ],
        max_new_tokens: 256,
        max_reason_chars: 80,
        format: 'three_line',
        max_prompt_tokens: null,
      })
      .describe('Rollout sampling.'),
    runner: z
      .object({
        epochs: z.number().int().positive().default(1).describe('Passes over the training tickets.'),
        batch_size: z.number().int().positive().default(8).describe('Groups per batch; reflection runs after each complete batch.'),
        shuffle: z.boolean().default(true).describe('Shuffle tickets each epoch with the seed.'),
        max_tickets: z.number().int().positive().nullable().default(null).describe('Use only N tickets after ingest (quick runs), stratified by label: every label of the input stays in whenever N allows it; within a label the first ones in file order.'),
      })
      .strict()
      .default({ epochs: 1, batch_size: 8, shuffle: true, max_tickets: null })
      .describe('Epochs and batches.'),
    reflection: z
      .object({
        enabled: z.boolean().default(true).describe('Run the three-stage reflection after each batch.'),
        holdout_fraction: z.number().min(0).max(0.9).default(0.2).describe('Share of labelled tickets held out (stratified, seeded) to gate proposals.'),
        holdout_max: z.number().int().positive().default(64).describe('Cap on holdout size.'),
        apply_if_delta: z.number().default(0).describe('Minimum holdout label_match uplift required to apply a plan.'),
        min_uplift_probability: z
          .number()
          .min(0)
          .max(1)
          .default(0.9)
          .describe('Second gate condition: the paired-bootstrap probability that the holdout uplift is positive must reach this (0 turns the condition off).'),
        apply_unchanged_verdicts: z
          .boolean()
          .default(false)
          .describe('Apply a plan that changes no holdout verdict when the other conditions pass (by default such a plan is never applied: it has shown nothing).'),
        allow_holdout_without_fail: z
          .boolean()
          .default(false)
          .describe('Gate plans on a holdout that has no fail ticket; such a holdout cannot see false releases, so by default plans are then refused (reason holdout_no_fail_ticket).'),
        protected_rules: ProtectedRulesSchema,
        allow_uncertain: z.boolean().default(false).describe('When false, proposals carrying an uncertainty_note are rejected.'),
        max_false_release_increase: z.number().min(0).default(0).describe('Reject a plan that raises the holdout false-release rate by more than this.'),
        bootstrap_samples: z.number().int().positive().default(1000).describe('Paired-bootstrap resamples for the probability that the uplift is real.'),
        max_new_tokens: z.number().int().positive().default(512).describe('Generation cap per reflection stage.'),
        need_review_min_epochs: z.number().int().positive().default(2).describe(`Epochs in which all candidates agree against the label before a group goes to ${RUN_FILES.needReview}.`),
      })
      .strict()
      .default({
        enabled: true,
        holdout_fraction: 0.2,
        holdout_max: 64,
        apply_if_delta: 0,
        min_uplift_probability: 0.9,
        apply_unchanged_verdicts: false,
        allow_holdout_without_fail: false,
        protected_rules: { mission_checklist: true, person_authored: true, rule_ids: [] },
        allow_uncertain: false,
        max_false_release_increase: 0,
        bootstrap_samples: 1000,
        max_new_tokens: 512,
        need_review_min_epochs: 2,
      })
      .describe('Reflection and its holdout gate.'),
    output: z
      .object({
        root: z.string().min(1).default('runs').describe('Root of run directories: {root}/{run_name}/{mission}/.'),
        export_dir: z.string().min(1).default(RUN_FILES.export).describe('Export folder, relative to the mission run directory unless absolute.'),
        parquet: z.boolean().default(true).describe(`Also write ${RUN_FILES.export}/verdicts.parquet.`),
      })
      .strict()
      .default({ root: 'runs', export_dir: RUN_FILES.export, parquet: true })
      .describe('Where artifacts go.'),
    stage_b_distillation: z
      .object({
        enabled: z.boolean().default(true).describe('Write the converged epoch as a ChatML corpus.'),
        output_path: z.string().nullable().default(null).describe(`Corpus path; null = {run}/{mission}/${RUN_FILES.distill}.`),
        export_last_if_unconverged: z.boolean().default(false).describe('When no epoch converged, export the last epoch anyway, with a warning.'),
      })
      .strict()
      .default({ enabled: true, output_path: null, export_last_if_unconverged: false })
      .describe('Distillation export.'),
  })
  .strict();

export type RunConfig = z.infer<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;
