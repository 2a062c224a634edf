import type { LlmBackend } from '../llm/LlmBackend';
import type { RunConfig } from '../../shared/schemas/runConfig';
import type { ReflectionLogRecord, SelectionRecord, TrajectoryRecord } from '../../shared/schemas/records';
import type { Telemetry, RunStatus, BatchTelemetry, EpochTelemetry } from '../../shared/schemas/telemetry';
import type { SerializedError } from '../../shared/errors';
import { rates } from '../../shared/metrics/rates';
import { batchReflectionReason } from './batchWarnings';

export type TelemetryTimings = Telemetry['timings_ms'];

/**
 * What earlier processes of a resumed run measured: counts come from the artifacts,
 * but tokens and timings exist only in the telemetry those processes left.
 */
export type CarriedTelemetry = Pick<Telemetry, 'started_at' | 'resumed_at' | 'tokens' | 'timings_ms'>;

/** The part of a resumed run's last telemetry the next process adds to. */
export function carriedTelemetryOf(previous: Telemetry | null): CarriedTelemetry | null {
  if (!previous) return null;
  return { started_at: previous.started_at, resumed_at: previous.resumed_at, tokens: previous.tokens, timings_ms: previous.timings_ms };
}

/** Timings of this process plus those carried from earlier ones, phase by phase. */
export function addTimings(own: TelemetryTimings, carried: TelemetryTimings | undefined): TelemetryTimings {
  if (!carried) return own;
  return {
    ingest: own.ingest + carried.ingest,
    model_load: own.model_load + carried.model_load,
    rollout: own.rollout + carried.rollout,
    reflection: own.reflection + carried.reflection,
    export: own.export + carried.export,
    total: own.total + carried.total,
  };
}

/**
 * telemetry.json is derived from the artifacts rather than from counters, so a
 * resumed run reports the same counts as an uninterrupted one; tokens and timings
 * are this process's plus what `carried` says earlier processes spent.
 */
export function buildTelemetry(args: {
  config: RunConfig;
  input: { train: unknown[]; holdout: unknown[]; startedAt: string; carried?: CarriedTelemetry | null; host?: Telemetry['host'] };
  selections: SelectionRecord[];
  trajectories: TrajectoryRecord[];
  reflections: ReflectionLogRecord[];
  status: RunStatus;
  timings: TelemetryTimings;
  needReview: number;
  /** Experience count per guidance step, for the guidance-size chart. */
  guidanceSizes: Record<number, number>;
  backend: LlmBackend;
  finishedAt: string | null;
  error: SerializedError | null;
  distill: Telemetry['distill'] | null;
}): Telemetry {
  const { config, selections, trajectories, reflections } = args;
  const meter = args.backend.tokenMeter();
  const batches: BatchTelemetry[] = [];
  const batchKeys = [...new Set(selections.map((row) => `${row.epoch}:${row.batch_index}`))];
  for (const key of batchKeys) {
    const [epoch, batchIndex] = key.split(':').map(Number);
    const rows = selections.filter((row) => row.epoch === epoch && row.batch_index === batchIndex);
    const decision = reflections.find((row) => row.epoch === epoch && row.reflection.batch_index === batchIndex);
    const applied = decision?.reflection.applied ?? false;
    const sampledWith = rows[0].guidance_step;
    const stepAfter = decision ? decision.reflection.guidance_step_after : sampledWith;
    batches.push({ epoch, batch_index: batchIndex, groups: rows.length, guidance_step: sampledWith, guidance_step_after: stepAfter, guidance_size: args.guidanceSizes[sampledWith] ?? 0, applied, ...rates(rows) });
  }
  batches.sort((a, b) => a.epoch - b.epoch || a.batch_index - b.batch_index);
  const epochs: EpochTelemetry[] = [];
  for (let epoch = 0; epoch < config.runner.epochs; epoch++) {
    const rows = selections.filter((row) => row.epoch === epoch);
    if (rows.length === 0) continue;
    const epochReflections = reflections.filter((row) => row.epoch === epoch);
    const applied = epochReflections.filter((row) => row.reflection.applied).length;
    const steps = rows.map((row) => row.guidance_step);
    const stepEnd = Math.max(...steps, ...epochReflections.map((row) => row.reflection.guidance_step_after));
    epochs.push({ epoch, guidance_step_start: Math.min(...steps), guidance_step_end: stepEnd, applied_updates: applied, converged: applied === 0, ...rates(rows) });
  }
  const decisionByBatch = new Map(reflections.map((row) => [`${row.epoch}:${row.reflection.batch_index}`, row.reflection]));
  const warnings = selections.flatMap((row) => {
    const reason = batchReflectionReason(decisionByBatch.get(`${row.epoch}:${row.batch_index}`), config.reflection.enabled);
    return row.warnings.map((code) => ({ epoch: row.epoch, batch_index: row.batch_index, group_id: row.group_id, ticket_key: row.ticket_key, code, guidance_step: row.guidance_step, ineligible_reason: reason }));
  });
  const lastEpoch = epochs.length > 0 ? epochs[epochs.length - 1].epoch : 0;
  const finalRows = selections.filter((row) => row.epoch === lastEpoch);
  const applied = reflections.filter((row) => row.reflection.applied).length;
  const generationError = reflections.filter((row) => !row.reflection.applied && row.reflection.ineligible_reason === 'generation_error').length;
  const ineligible = reflections.filter((row) => !row.reflection.applied && !row.reflection.eligible && row.reflection.ineligible_reason !== 'generation_error').length;
  const rejected = reflections.filter((row) => !row.reflection.applied && row.reflection.eligible).length;
  const proposed = reflections.filter((row) => row.reflection.proposal.action === 'refine').length;
  const carried = args.input.carried ?? null;
  const running = args.status === 'running';
  const guidanceStep = Math.max(0, ...selections.map((row) => row.guidance_step), ...reflections.map((row) => row.reflection.guidance_step_after));
  return {
    run_name: config.run_name,
    mission: config.mission,
    status: args.status,
    started_at: carried?.started_at ?? args.input.startedAt,
    resumed_at: carried ? [...carried.resumed_at, args.input.startedAt] : [],
    finished_at: running ? null : args.finishedAt,
    host: running ? (args.input.host ?? null) : null,
    guidance_step: guidanceStep,
    counts: {
      tickets: args.input.train.length + args.input.holdout.length,
      train_tickets: args.input.train.length,
      holdout_tickets: args.input.holdout.length,
      groups_processed: selections.length,
      candidates: trajectories.length,
      malformed: trajectories.filter((row) => !row.format_ok).length,
      warnings: warnings.length,
      dropped_over_budget: selections.filter((row) => row.warnings.includes('prompt_over_budget')).length,
      selections: selections.length,
      reflections: { records: reflections.length, proposed, applied, rejected, ineligible, generation_error: generationError },
      need_review: args.needReview,
    },
    tokens: {
      prompt_evaluated: meter.promptEvaluated + (carried?.tokens.prompt_evaluated ?? 0),
      prompt_unique: meter.promptUnique + (carried?.tokens.prompt_unique ?? 0),
      prompt_total: meter.promptTotal + (carried?.tokens.prompt_total ?? 0),
      generated: meter.generated + (carried?.tokens.generated ?? 0),
    },
    timings_ms: addTimings(args.timings, carried?.timings_ms),
    rates: rates(finalRows),
    epochs,
    batches,
    warnings,
    distill: args.distill ?? { status: 'pending', epoch: null, rows: 0, skipped: 0, path: null, message: null },
    error: args.error,
  };
}
