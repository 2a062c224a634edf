import { z } from 'zod';

const ErrorShape = z.object({
  code: z.string(),
  message: z.string(),
  location: z.object({ file: z.string().optional(), line: z.number().optional(), field: z.string().optional() }),
});

export const RateSchema = z.object({
  label_match_rate: z.number().min(0).max(1).nullable(),
  false_release_rate: z.number().min(0).max(1).nullable(),
  labelled: z.number().int().nonnegative(),
});

export const BatchTelemetrySchema = RateSchema.extend({
  epoch: z.number().int().nonnegative(),
  batch_index: z.number().int().nonnegative(),
  groups: z.number().int().nonnegative(),
  guidance_step: z.number().int().nonnegative(),
  guidance_size: z.number().int().nonnegative(),
  applied: z.boolean(),
});
export type BatchTelemetry = z.infer<typeof BatchTelemetrySchema>;

export const EpochTelemetrySchema = RateSchema.extend({
  epoch: z.number().int().nonnegative(),
  guidance_step_start: z.number().int().nonnegative(),
  guidance_step_end: z.number().int().nonnegative(),
  applied_updates: z.number().int().nonnegative(),
  converged: z.boolean(),
});
export type EpochTelemetry = z.infer<typeof EpochTelemetrySchema>;

export const RunStatusSchema = z.enum(['running', 'completed', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** telemetry.json: counts, tokens and timings for one mission run. */
export const TelemetrySchema = z.object({
  run_name: z.string(),
  mission: z.string(),
  status: RunStatusSchema,
  started_at: z.string(),
  finished_at: z.string().nullable(),
  guidance_step: z.number().int().nonnegative(),
  counts: z.object({
    tickets: z.number().int().nonnegative(),
    train_tickets: z.number().int().nonnegative(),
    holdout_tickets: z.number().int().nonnegative(),
    groups_processed: z.number().int().nonnegative(),
    candidates: z.number().int().nonnegative(),
    malformed: z.number().int().nonnegative(),
    warnings: z.number().int().nonnegative(),
    dropped_over_budget: z.number().int().nonnegative(),
    selections: z.number().int().nonnegative(),
    reflections: z.object({
      proposed: z.number().int().nonnegative(),
      applied: z.number().int().nonnegative(),
      rejected: z.number().int().nonnegative(),
      ineligible: z.number().int().nonnegative(),
    }),
    need_review: z.number().int().nonnegative(),
  }),
  tokens: z.object({
    prompt_evaluated: z.number().int().nonnegative(),
    prompt_unique: z.number().int().nonnegative(),
    prompt_total: z.number().int().nonnegative(),
    generated: z.number().int().nonnegative(),
  }),
  timings_ms: z.object({
    ingest: z.number().nonnegative(),
    model_load: z.number().nonnegative(),
    rollout: z.number().nonnegative(),
    reflection: z.number().nonnegative(),
    export: z.number().nonnegative(),
    total: z.number().nonnegative(),
  }),
  rates: RateSchema,
  epochs: z.array(EpochTelemetrySchema),
  batches: z.array(BatchTelemetrySchema),
  distill: z.object({
    status: z.enum(['disabled', 'written', 'not_converged', 'written_unconverged', 'pending']),
    epoch: z.number().int().nonnegative().nullable(),
    rows: z.number().int().nonnegative(),
    path: z.string().nullable(),
    message: z.string().nullable(),
  }),
  error: ErrorShape.nullable(),
});
export type Telemetry = z.infer<typeof TelemetrySchema>;

/** events.jsonl and the live progress stream share this union. */
export const RunEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('phase'), ts: z.string(), phase: z.enum(['validate', 'ingest', 'model_load', 'rollout', 'reflection', 'export', 'distill', 'attribution', 'preview', 'done']), message: z.string() }),
  z.object({
    type: z.literal('progress'),
    ts: z.string(),
    epoch: z.number().int().nonnegative(),
    epochs: z.number().int().positive(),
    batch_index: z.number().int().nonnegative(),
    batches: z.number().int().nonnegative(),
    groups_done: z.number().int().nonnegative(),
    groups_total: z.number().int().nonnegative(),
    tokens_per_second: z.number().nonnegative(),
    eta_ms: z.number().nonnegative().nullable(),
  }),
  z.object({ type: z.literal('guidance'), ts: z.string(), step: z.number().int().nonnegative(), epoch: z.number().int().nonnegative(), batch_index: z.number().int().nonnegative(), message: z.string() }),
  z.object({ type: z.literal('batch'), ts: z.string(), epoch: z.number().int().nonnegative(), batch_index: z.number().int().nonnegative(), label_match_rate: z.number().nullable(), false_release_rate: z.number().nullable(), guidance_step: z.number().int().nonnegative() }),
  z.object({ type: z.literal('warning'), ts: z.string(), group_id: z.string().nullable(), code: z.string(), message: z.string(), guidance_step: z.number().int().nonnegative().nullable(), ineligible_reason: z.string().nullable() }),
  z.object({ type: z.literal('reflection'), ts: z.string(), epoch: z.number().int().nonnegative(), batch_index: z.number().int().nonnegative(), reflection_id: z.string(), applied: z.boolean(), ineligible_reason: z.string().nullable() }),
  z.object({ type: z.literal('done'), ts: z.string(), status: RunStatusSchema, message: z.string() }),
  z.object({ type: z.literal('error'), ts: z.string(), error: ErrorShape }),
]);
export type RunEvent = z.infer<typeof RunEventSchema>;

/**
 * How a llama-cpp backend decodes candidates (model.batch_decode resolved at load):
 * `batched` = all candidates in flight share each decode step; `exact` = their text
 * is bit-identical to the sequential path's for the same seed (null: not known).
 */
export const DecodeBatchingSchema = z.object({
  batched: z.boolean(),
  exact: z.boolean().nullable(),
  reason: z.string(),
});
export type DecodeBatching = z.infer<typeof DecodeBatchingSchema>;

/** run.json: the config as resolved plus provenance. */
export const RunManifestSchema = z.object({
  run_name: z.string(),
  mission: z.string(),
  seed: z.number().int(),
  config: z.record(z.string(), z.unknown()),
  config_hash: z.string(),
  /** fingerprint = sha256 over size + first and last MiB: cheap for a 20 GB model, still changes when the file does. */
  model: z.object({
    backend: z.string(),
    path: z.string().nullable(),
    fingerprint: z.string().nullable(),
    name: z.string().nullable(),
    /** llama-cpp only; absent in run.json files written before it was recorded. */
    decode_batching: DecodeBatchingSchema.nullable().optional(),
  }),
  versions: z.record(z.string(), z.string()),
  inputs: z.array(z.object({ path: z.string(), sha256: z.string(), lines: z.number().int().nonnegative() })),
  created_at: z.string(),
});
export type RunManifest = z.infer<typeof RunManifestSchema>;
