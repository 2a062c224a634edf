import type { LlmBackend } from '../llm/LlmBackend';
import type { RunConfig } from '../../shared/schemas/runConfig';
import type { ReflectionLogRecord, SelectionRecord, TrajectoryRecord } from '../../shared/schemas/records';
import type { Telemetry, RunStatus, BatchTelemetry, EpochTelemetry } from '../../shared/schemas/telemetry';
import type { SerializedError } from '../../shared/errors';
import { rates } from '../../shared/metrics/rates';

export type TelemetryTimings = Telemetry['timings_ms'];

/**
 * telemetry.json is derived from the artifacts rather than from counters, so a
 * resumed run reports the same counts as an uninterrupted one.
 */
export function buildTelemetry(args: {
  config: RunConfig;
  input: { train: unknown[]; holdout: unknown[]; startedAt: string };
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
    const step = decision ? decision.reflection.guidance_step_after : rows[0].guidance_step;
    batches.push({ epoch, batch_index: batchIndex, groups: rows.length, guidance_step: step, guidance_size: args.guidanceSizes[step] ?? 0, applied, ...rates(rows) });
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
  const lastEpoch = epochs.length > 0 ? epochs[epochs.length - 1].epoch : 0;
  const finalRows = selections.filter((row) => row.epoch === lastEpoch);
  const applied = reflections.filter((row) => row.reflection.applied).length;
  const ineligible = reflections.filter((row) => !row.reflection.eligible).length;
  const proposed = reflections.filter((row) => row.reflection.proposal.action === 'refine').length;
  const guidanceStep = Math.max(0, ...selections.map((row) => row.guidance_step), ...reflections.map((row) => row.reflection.guidance_step_after));
  return {
    run_name: config.run_name,
    mission: config.mission,
    status: args.status,
    started_at: args.input.startedAt,
    finished_at: args.finishedAt,
    guidance_step: guidanceStep,
    counts: {
      tickets: args.input.train.length + args.input.holdout.length,
      train_tickets: args.input.train.length,
      holdout_tickets: args.input.holdout.length,
      groups_processed: selections.length,
      candidates: trajectories.length,
      malformed: trajectories.filter((row) => !row.format_ok).length,
      warnings: selections.reduce((sum, row) => sum + row.warnings.length, 0),
      dropped_over_budget: selections.filter((row) => row.warnings.includes('prompt_over_budget')).length,
      selections: selections.length,
      reflections: { proposed, applied, rejected: proposed - applied, ineligible },
      need_review: args.needReview,
    },
    tokens: { prompt_evaluated: meter.promptEvaluated, prompt_unique: meter.promptUnique, prompt_total: meter.promptTotal, generated: meter.generated },
    timings_ms: args.timings,
    rates: rates(finalRows),
    epochs,
    batches,
    distill: args.distill ?? { status: 'pending', epoch: null, rows: 0, path: null, message: null },
    error: args.error,
  };
}
