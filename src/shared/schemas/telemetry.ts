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
  /** The step the batch was sampled with. */
  guidance_step: z.number().int().nonnegative(),
  /** The step after the batch's reflection (equal to guidance_step when nothing was applied; absent in runs made before it was recorded). */
  guidance_step_after: z.number().int().nonnegative().optional(),
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

/**
 * One warning of one group (a code of its selection), with the reason its batch's
 * reflection left the guidance as it was: the decision's ineligible_reason, null when it
 * applied or has not run yet, 'reflection_disabled' when reflection is off.
 */
export const TelemetryWarningSchema = z.object({
  epoch: z.number().int().nonnegative(),
  batch_index: z.number().int().nonnegative(),
  group_id: z.string(),
  ticket_key: z.string(),
  code: z.string(),
  guidance_step: z.number().int().nonnegative(),
  ineligible_reason: z.string().nullable(),
});
export type TelemetryWarning = z.infer<typeof TelemetryWarningSchema>;

export const RunStatusSchema = z.enum(['running', 'completed', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** telemetry.json: counts, tokens and timings for one mission run. */
export const TelemetrySchema = z.object({
  run_name: z.string(),
  mission: z.string(),
  status: RunStatusSchema,
  /** The first start of the run; a resume keeps it. */
  started_at: z.string(),
  /** When each resume started, oldest first. */
  resumed_at: z.array(z.string()).default([]),
  finished_at: z.string().nullable(),
  /** The process that runs it while status is running; the runs list shows a run no live process holds as interrupted. */
  host: z.object({ pid: z.number().int().positive(), hostname: z.string() }).nullable().default(null),
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
    /** applied + rejected + ineligible + generation_error = records; proposed counts refine proposals among them. */
    reflections: z.object({
      records: z.number().int().nonnegative().default(0),
      proposed: z.number().int().nonnegative(),
      applied: z.number().int().nonnegative(),
      /** Eligible, gated and not applied. */
      rejected: z.number().int().nonnegative(),
      /** Not eligible for a reason other than a generation error. */
      ineligible: z.number().int().nonnegative(),
      generation_error: z.number().int().nonnegative().default(0),
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
  /** Every group warning counted in counts.warnings, with its batch's reflection reason (absent in runs made before it was recorded). */
  warnings: z.array(TelemetryWarningSchema).default([]),
  distill: z.object({
    status: z.enum(['disabled', 'written', 'not_converged', 'written_unconverged', 'pending']),
    epoch: z.number().int().nonnegative().nullable(),
    rows: z.number().int().nonnegative(),
    /** Groups of the exported epoch left out for want of a well-formed selected verdict. */
    skipped: z.number().int().nonnegative().default(0),
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
    /** Over all epochs: the overall bar is groups_done / groups_total. */
    groups_done: z.number().int().nonnegative(),
    groups_total: z.number().int().nonnegative(),
    /** This epoch's: the epoch bar. */
    epoch_groups_done: z.number().int().nonnegative(),
    epoch_groups_total: z.number().int().nonnegative(),
    tokens_per_second: z.number().nonnegative(),
    eta_ms: z.number().nonnegative().nullable(),
  }),
  z.object({ type: z.literal('guidance'), ts: z.string(), step: z.number().int().nonnegative(), epoch: z.number().int().nonnegative(), batch_index: z.number().int().nonnegative(), message: z.string() }),
  z.object({ type: z.literal('batch'), ts: z.string(), epoch: z.number().int().nonnegative(), batch_index: z.number().int().nonnegative(), label_match_rate: z.number().nullable(), false_release_rate: z.number().nullable(), guidance_step: z.number().int().nonnegative() }),
  /** ineligible_reason: why the group's batch reflection left the guidance as it was (see TelemetryWarningSchema); a batch's warnings are emitted once its decision is known. */
  z.object({ type: z.literal('warning'), ts: z.string(), group_id: z.string().nullable(), code: z.string(), message: z.string(), guidance_step: z.number().int().nonnegative().nullable(), ineligible_reason: z.string().nullable() }),
  z.object({ type: z.literal('reflection'), ts: z.string(), epoch: z.number().int().nonnegative(), batch_index: z.number().int().nonnegative(), reflection_id: z.string(), applied: z.boolean(), ineligible_reason: z.string().nullable() }),
  z.object({ type: z.literal('done'), ts: z.string(), status: RunStatusSchema, message: z.string() }),
  z.object({ type: z.literal('error'), ts: z.string(), error: ErrorShape }),
  /**
   * Paused at a batch boundary (the operator asked; every batch before it and its reflection are done):
   * batch_index is the batch the run continues with, of `batches` in epoch `epoch`.
   */
  z.object({ type: z.literal('paused'), ts: z.string(), epoch: z.number().int().nonnegative(), batch_index: z.number().int().nonnegative(), batches: z.number().int().nonnegative() }),
  /** Resumed at the boundary it paused at; paused_ms is the time it waited (not run time: no rate or timing counts it). */
  z.object({ type: z.literal('resumed'), ts: z.string(), epoch: z.number().int().nonnegative(), batch_index: z.number().int().nonnegative(), paused_ms: z.number().nonnegative() }),
]);
export type RunEvent = z.infer<typeof RunEventSchema>;

/** A warning as the CLI and the launcher log print it: code, message, and the batch's reflection reason when it has one. */
export function warningText(event: Extract<RunEvent, { type: 'warning' }>): string {
  return `${event.code}: ${event.message}${event.ineligible_reason ? ` (reflection: ${event.ineligible_reason})` : ''}`;
}

/**
 * What the workbench sends an engine host it started (one JSON object per stdin line, or a
 * utilityProcess message): pause at the next batch boundary, or resume. Cancel stays a signal.
 */
export const RunControlMessageSchema = z.discriminatedUnion('type', [z.object({ type: z.literal('pause') }), z.object({ type: z.literal('resume') })]);
export type RunControlMessage = z.infer<typeof RunControlMessageSchema>;

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

/**
 * What produced a run. Fields are optional so that run.json files written before one was
 * recorded still load (resume, set-aside); the writer (src/main/runVersions.ts) fills
 * app, node, node-llama-cpp and zod always, and the others where they apply.
 */
export const RunVersionsSchema = z
  .object({
    /** This app's package.json version. */
    app: z.string(),
    node: z.string(),
    'node-llama-cpp': z.string(),
    zod: z.string(),
    /** The llama.cpp release the loaded binary was built from (e.g. b6123); absent when the model runs on a server. */
    'llama.cpp': z.string(),
    /** process.versions.electron, when the engine ran inside Electron. */
    electron: z.string(),
  })
  .partial()
  .catchall(z.string());
export type RunVersions = z.infer<typeof RunVersionsSchema>;

/** The hardware llama.cpp ran the model on (llama-cpp backend only; a server picks its own). */
export const ComputeSchema = z.object({
  /** llama.cpp's compute backend: what `model.gpu` resolved to on this machine. */
  backend: z.enum(['cpu', 'cuda', 'metal', 'vulkan']),
  /** The devices llama.cpp picked (Llama.getGpuDeviceNames); empty on the CPU. */
  devices: z.array(z.string()),
  /** prebuilt: a binary node-llama-cpp ships; localBuild: one built on this machine. */
  build: z.enum(['prebuilt', 'localBuild']),
});
export type Compute = z.infer<typeof ComputeSchema>;

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
  versions: RunVersionsSchema,
  /** null: the model ran on an OpenAI-compatible server; absent in run.json files written before it was recorded. */
  compute: ComputeSchema.nullable().optional(),
  inputs: z.array(z.object({ path: z.string(), sha256: z.string(), lines: z.number().int().nonnegative() })),
  /** The label corrections file the run applied (config label_corrections.path); null or absent: none. */
  label_corrections: z.object({ path: z.string(), sha256: z.string(), lines: z.number().int().nonnegative() }).nullable().optional(),
  created_at: z.string(),
});
export type RunManifest = z.infer<typeof RunManifestSchema>;

/**
 * The run.json fields the workbench shows, derived from RunManifestSchema but lenient,
 * so a run written by an older or newer engine still opens for review.
 */
export const RunManifestViewSchema = z.object({
  seed: RunManifestSchema.shape.seed.optional(),
  created_at: RunManifestSchema.shape.created_at.optional(),
  model: RunManifestSchema.shape.model.partial().optional(),
  config: z.object({ stage_a_paths: z.array(z.string()).optional() }).passthrough().optional(),
  inputs: z.array(RunManifestSchema.shape.inputs.element.partial({ sha256: true, lines: true })).optional(),
  label_corrections: RunManifestSchema.shape.label_corrections,
});
