import type { LlmBackend } from '../llm/LlmBackend';
import type { ArtifactStore } from './ports/ArtifactStore';
import type { RunControl } from './ports/RunControl';
import type { GuidancePort } from './ports/GuidancePort';
import type { RunConfig } from '../../shared/schemas/runConfig';
import type { Ticket } from '../../shared/schemas/stageARecord';
import type { GuidanceState } from '../../shared/schemas/guidance';
import type {
  ReflectionLogRecord,
  SelectionRecord,
  TrajectoryRecord,
  WarningCode,
  DistillRecord,
} from '../../shared/schemas/records';
import type { RunEvent, Telemetry, RunStatus } from '../../shared/schemas/telemetry';
import { StageBError, toStageBError } from '../../shared/errors';
import { planEpoch } from './epochPlan';
import { rolloutGroup, type GroupRollout } from './rolloutGroup';
import { evaluateHoldout } from './evaluateHoldout';
import { buildRolloutPrompt, promptToMessages } from './promptBuilder';
import { buildTelemetry, type CarriedTelemetry, type TelemetryTimings } from './buildTelemetry';
import { buildExportRows } from './buildExportRows';
import { rates } from '../../shared/metrics/rates';
import { renderExperiences } from '../../shared/guidance/renderExperiences';
import { summarizeSample, type SampleSummaryResult } from './reflection/sampleSummarizer';
import { reflectionDecode } from './reflection/reflectionDecode';
import { reflectOnBatch } from './reflection/reflectOnBatch';
import { findNeedReview } from './reflection/needReview';
import { batchReflectionReason, batchWarningEvents, type GroupWarningNotes } from './batchWarnings';
import { detectConvergedEpoch } from '../../shared/distill/detectConvergedEpoch';
import { buildDistillRecords, DISTILL_ASSISTANT_FORMAT } from '../../shared/distill/buildDistillRecords';
import { RUN_FILES } from '../../shared/runFiles';

export type PipelineInput = {
  config: RunConfig;
  /** Tickets the engine rolls out and learns from. */
  train: Ticket[];
  /** Labelled tickets that gate reflection proposals; never trained on. */
  holdout: Ticket[];
  store: ArtifactStore;
  guidance: GuidancePort;
  backend: LlmBackend;
  now: () => string;
  onEvent: (event: RunEvent) => void;
  signal?: AbortSignal;
  /** Pause / resume at batch boundaries (the workbench's engine host); none: the run never pauses. */
  control?: RunControl;
  /** Prompt token budget per request: context minus generation room. */
  promptBudget: number;
  timings?: Partial<TelemetryTimings>;
  /** When this process started the run (a resume's own start). */
  startedAt: string;
  /** What earlier processes of a resumed run spent (tokens, timings) and when the run first started. */
  carried?: CarriedTelemetry | null;
  /** The run's guidance file, named by errors about the guidance the run samples with. */
  guidanceFile?: string;
  /** This process, recorded while the run is running so a reader can tell a live run from an interrupted one. */
  host?: Telemetry['host'];
};

export type PipelineResult = {
  status: RunStatus;
  telemetry: Telemetry;
  exportPaths: { jsonl: string; parquet: string | null } | null;
  distillPath: string | null;
};

type BatchKey = `${number}:${number}`;
const batchKey = (epoch: number, batchIndex: number): BatchKey => `${epoch}:${batchIndex}`;

/**
 * The Stage-B loop (the spec's run_all without the IO): per epoch, per batch —
 * log the guidance step, roll out K candidates per group, compute signals, select,
 * summarise, append trajectories then selections, reflect, and record the decision.
 * Then need_review, export and the distill corpus. All IO goes through the ports.
 *
 * Resume: a batch is complete when every planned group has a selection row; rows of
 * an incomplete batch are dropped and the batch is redone with the same seeds, so
 * an interrupted run ends with the same artifacts as an uninterrupted one.
 */
export async function runStageBPipeline(input: PipelineInput): Promise<PipelineResult> {
  const { config, store, backend, now } = input;
  const mission = config.mission;
  const timings: TelemetryTimings = { ingest: 0, model_load: 0, rollout: 0, reflection: 0, export: 0, total: 0, ...input.timings };
  let started = Date.now();
  // Every phase of this process: ingest and model load happened before the pipeline started.
  const ownTotal = () => Date.now() - started + timings.ingest + timings.model_load;
  const emit = async (event: RunEvent) => {
    input.onEvent(event);
    await store.appendEvent(event);
  };
  const throwIfCancelled = () => {
    if (input.signal?.aborted) throw new StageBError('CANCELLED', 'run cancelled by the operator');
  };

  const plans = Array.from({ length: config.runner.epochs }, (_, epoch) =>
    planEpoch(input.train, { epoch, seed: config.seed, shuffle: config.runner.shuffle, batchSize: config.runner.batch_size }),
  );

  // Resume: keep only complete batches.
  let trajectories = await store.readTrajectories();
  let selections = await store.readSelections();
  const reflections = await store.readReflections();
  const plannedSize = new Map<BatchKey, number>();
  plans.forEach((batches, epoch) => batches.forEach((batch, index) => plannedSize.set(batchKey(epoch, index), batch.length)));
  const selectionCount = new Map<BatchKey, number>();
  for (const row of selections) {
    const key = batchKey(row.epoch, row.batch_index);
    selectionCount.set(key, (selectionCount.get(key) ?? 0) + 1);
  }
  const complete = new Set<BatchKey>([...selectionCount].filter(([key, count]) => plannedSize.get(key) === count).map(([key]) => key));
  const keptTrajectories = trajectories.filter((row) => complete.has(batchKey(row.epoch, row.batch_index)));
  const keptSelections = selections.filter((row) => complete.has(batchKey(row.epoch, row.batch_index)));
  if (keptTrajectories.length !== trajectories.length || keptSelections.length !== selections.length) {
    await store.replaceRollouts(keptTrajectories, keptSelections);
    trajectories = keptTrajectories;
    selections = keptSelections;
  }
  const reflected = new Set<BatchKey>(reflections.map((row) => batchKey(row.epoch, row.reflection.batch_index)));
  const history = await store.readGuidanceHistory();
  let lastHistoryStep = history.length > 0 ? history[history.length - 1].step : -1;
  const guidanceSizes: Record<number, number> = {};
  for (const entry of history) guidanceSizes[entry.step] = Object.keys(entry.experiences).length;

  const totalGroups = plans.reduce((sum, batches) => sum + batches.reduce((s, b) => s + b.length, 0), 0);
  let groupsDone = keptSelections.length;
  // Rate and ETA come from the groups this process rolled out, not from those a resume found done.
  let groupsRolledHere = 0;
  const epochGroupsTotal = (epoch: number) => plans[epoch].reduce((sum, batch) => sum + batch.length, 0);
  const epochGroupsDone = (epoch: number) => selections.filter((row) => row.epoch === epoch).length;
  let generatedAtStart = backend.tokenMeter().generated;
  let rolloutStarted = Date.now();
  let needReviewKeys = new Set<string>();
  // The guidance sampling uses can change under the run (resume, hand edit, apply): its
  // budget is checked each time before anything is sampled with it or written.
  const budgetChecked = new Set<string>();
  const checkBudget = async (guidance: GuidanceState) => {
    const block = renderExperiences(guidance.experiences);
    if (budgetChecked.has(block)) return;
    const tokens = await backend.countTextTokens(block);
    if (tokens > config.guidance.max_tokens) {
      throw new StageBError(
        'GUIDANCE_OVER_BUDGET',
        `guidance step ${guidance.step} has ${tokens} tokens in its experiences block, over guidance.max_tokens = ${config.guidance.max_tokens}; shorten it (or raise the budget) before the run samples with it`,
        { file: input.guidanceFile, field: `${mission}.experiences` },
      );
    }
    budgetChecked.add(block);
  };
  const progressEvent = (epoch: number, batchIndex: number): RunEvent => {
    const elapsed = (Date.now() - rolloutStarted) / 1000;
    const generated = backend.tokenMeter().generated - generatedAtStart;
    const remaining = totalGroups - groupsDone;
    const groupsPerSecond = elapsed > 0 && groupsRolledHere > 0 ? groupsRolledHere / elapsed : null;
    return {
      type: 'progress',
      ts: now(),
      epoch,
      epochs: config.runner.epochs,
      batch_index: batchIndex,
      batches: plans[epoch].length,
      groups_done: groupsDone,
      groups_total: totalGroups,
      epoch_groups_done: epochGroupsDone(epoch),
      epoch_groups_total: epochGroupsTotal(epoch),
      tokens_per_second: elapsed > 0 ? generated / elapsed : 0,
      eta_ms: remaining === 0 ? 0 : groupsPerSecond === null ? null : (remaining / groupsPerSecond) * 1000,
    };
  };

  try {
    await emit({ type: 'phase', ts: now(), phase: 'rollout', message: `${input.train.length} training tickets, ${input.holdout.length} holdout, ${config.runner.epochs} epoch(s)` });
    // A resumed run shows the progress it already has before its first batch finishes.
    if (plans.length > 0) {
      const resumeEpoch = plans.findIndex((_, epoch) => epochGroupsDone(epoch) < epochGroupsTotal(epoch));
      const epoch = resumeEpoch === -1 ? plans.length - 1 : resumeEpoch;
      const batchIndex = plans[epoch].findIndex((_, index) => !complete.has(batchKey(epoch, index)));
      input.onEvent(progressEvent(epoch, batchIndex === -1 ? Math.max(0, plans[epoch].length - 1) : batchIndex));
    }
    for (let epoch = 0; epoch < plans.length; epoch++) {
      const batches = plans[epoch];
      for (let batchIndex = 0; batchIndex < batches.length; batchIndex++) {
        throwIfCancelled();
        const key = batchKey(epoch, batchIndex);
        const needsReflection = config.reflection.enabled && !reflected.has(key);
        if (complete.has(key) && !needsReflection) continue;
        // Time spent paused is no run time: the clocks of the rate, the ETA and the timings start that much later.
        const pausedMs = (await input.control?.atBatchBoundary({ epoch, batchIndex, batches: batches.length }, emit)) ?? 0;
        started += pausedMs;
        rolloutStarted += pausedMs;

        let batchSelections: SelectionRecord[];
        let batchTrajectories: TrajectoryRecord[];
        // Fresh summaries of this process (errors included) so reflection does not re-ask;
        // a resumed batch falls back to the summaries stored in its selections.
        let batchSummaries: Map<string, SampleSummaryResult> | undefined;
        // What rollout knew about the groups' warnings beyond the records (a resumed batch has none).
        let warningNotes: Map<string, GroupWarningNotes> | undefined;
        // A batch's warnings carry the reason its reflection left the guidance as it was, so they
        // go out once the decision is known (at once when reflection is off or already decided).
        const emitBatchWarnings = async (decision: ReflectionLogRecord['reflection'] | undefined) => {
          const reason = batchReflectionReason(decision, config.reflection.enabled);
          for (const warning of batchWarningEvents({ selections: batchSelections, trajectories: batchTrajectories, ts: now(), reason, notes: warningNotes })) await emit(warning);
        };
        if (complete.has(key)) {
          batchSelections = selections.filter((row) => row.epoch === epoch && row.batch_index === batchIndex);
          batchTrajectories = trajectories.filter((row) => row.epoch === epoch && row.batch_index === batchIndex);
        } else {
          const guidance = await input.guidance.read();
          await checkBudget(guidance);
          // The spec asks for the step to be logged before sampling.
          await emit({ type: 'guidance', ts: now(), step: guidance.step, epoch, batch_index: batchIndex, message: `epoch ${epoch} batch ${batchIndex}: sampling with guidance step ${guidance.step}` });
          guidanceSizes[guidance.step] = Object.keys(guidance.experiences).length;
          if (guidance.step !== lastHistoryStep) {
            await store.appendGuidanceHistory({ step: guidance.step, experiences: guidance.experiences, epoch, batch_index: batchIndex, recorded_at: now() });
            lastHistoryStep = guidance.step;
          }
          const rolled = await rolloutBatch(input, batches[batchIndex], guidance, epoch, batchIndex, reflections);
          batchTrajectories = rolled.trajectories;
          batchSelections = rolled.selections;
          batchSummaries = rolled.summaries;
          warningNotes = rolled.warningNotes;
          await store.appendTrajectories(batchTrajectories);
          await store.appendSelections(batchSelections);
          trajectories = trajectories.concat(batchTrajectories);
          selections = selections.concat(batchSelections);
          complete.add(key);
          groupsDone += batchSelections.length;
          groupsRolledHere += batchSelections.length;
          if (!needsReflection) await emitBatchWarnings(reflections.find((row) => batchKey(row.epoch, row.reflection.batch_index) === key)?.reflection);
        }

        if (needsReflection) {
          const reflectionStarted = Date.now();
          const outcome = await reflectOnBatch({
            backend,
            store,
            guidance: input.guidance,
            mission,
            epoch,
            batchIndex,
            cycle: batchIndex,
            selections: batchSelections,
            trajectories: batchTrajectories,
            tickets: batches[batchIndex],
            config: config.reflection,
            seed: config.seed,
            evaluateHoldout: input.holdout.length > 0 ? (experiences) => evaluatePipelineHoldout(input, experiences) : null,
            needReviewKeys,
            guidanceMaxTokens: config.guidance.max_tokens,
            sampleSummaries: batchSummaries,
            now,
            signal: input.signal,
          });
          await store.appendReflection(outcome.record);
          reflections.push(outcome.record);
          reflected.add(key);
          timings.reflection += Date.now() - reflectionStarted;
          await emitBatchWarnings(outcome.record.reflection);
          await emit({
            type: 'reflection',
            ts: now(),
            epoch,
            batch_index: batchIndex,
            reflection_id: outcome.record.reflection.reflection_id,
            applied: outcome.applied,
            ineligible_reason: outcome.record.reflection.ineligible_reason,
          });
        }

        const batchRates = rates(batchSelections);
        const guidanceAfter = await input.guidance.read();
        guidanceSizes[guidanceAfter.step] = Object.keys(guidanceAfter.experiences).length;
        await emit({
          type: 'batch',
          ts: now(),
          epoch,
          batch_index: batchIndex,
          label_match_rate: batchRates.label_match_rate,
          false_release_rate: batchRates.false_release_rate,
          guidance_step: guidanceAfter.step,
        });
        input.onEvent(progressEvent(epoch, batchIndex));
        await store.writeTelemetry(buildTelemetry({ config, input, selections, trajectories, reflections, status: 'running', timings: { ...timings, rollout: Date.now() - rolloutStarted - timings.reflection, total: ownTotal() }, needReview: needReviewKeys.size, guidanceSizes, backend, finishedAt: null, error: null, distill: null }));
      }
      // Through this epoch only: a resumed run already holds later epochs' complete batches.
      const needReview = findNeedReview(selections, trajectories, config.reflection.need_review_min_epochs, now(), epoch);
      needReviewKeys = new Set(needReview.map((row) => row.ticket_key));
      await store.writeNeedReview(needReview);
    }
    timings.rollout = Date.now() - rolloutStarted - timings.reflection;

    await emit({ type: 'phase', ts: now(), phase: 'export', message: `writing ${RUN_FILES.export}/verdicts.{jsonl,parquet}` });
    const exportStarted = Date.now();
    const lastEpoch = config.runner.epochs - 1;
    const exportRows = buildExportRows(selections.filter((row) => row.epoch === lastEpoch), reflections);
    const exportPaths = await store.writeExport(exportRows, { parquet: config.output.parquet });
    timings.export = Date.now() - exportStarted;

    const { written: _written, ...distill } = await exportDistill(input, selections, reflections);
    if (distill.message) await emit({ type: 'phase', ts: now(), phase: 'distill', message: distill.message });

    timings.total = ownTotal();
    const telemetry = buildTelemetry({ config, input, selections, trajectories, reflections, status: 'completed', timings, needReview: needReviewKeys.size, guidanceSizes, backend, finishedAt: now(), error: null, distill });
    await store.writeTelemetry(telemetry);
    await emit({ type: 'done', ts: now(), status: 'completed', message: `run complete: ${selections.length} selections, guidance step ${telemetry.guidance_step}` });
    return { status: 'completed', telemetry, exportPaths, distillPath: distill.path };
  } catch (raw) {
    const error = toStageBError(raw);
    const status: RunStatus = error.code === 'CANCELLED' ? 'cancelled' : 'failed';
    if (timings.rollout === 0) timings.rollout = Math.max(0, Date.now() - rolloutStarted - timings.reflection);
    timings.total = ownTotal();
    // Partial outputs stay on disk for inspection; telemetry says why the run stopped.
    const telemetry = buildTelemetry({ config, input, selections, trajectories, reflections, status, timings, needReview: needReviewKeys.size, guidanceSizes, backend, finishedAt: now(), error: error.toJSON(), distill: null });
    await store.writeTelemetry(telemetry).catch(() => undefined);
    await store.appendEvent({ type: 'error', ts: now(), error: error.toJSON() }).catch(() => undefined);
    input.onEvent({ type: 'error', ts: now(), error: error.toJSON() });
    throw error;
  }
}

async function rolloutBatch(
  input: PipelineInput,
  tickets: Ticket[],
  guidance: GuidanceState,
  epoch: number,
  batchIndex: number,
  reflections: ReflectionLogRecord[],
): Promise<{ trajectories: TrajectoryRecord[]; selections: SelectionRecord[]; warningNotes: Map<string, GroupWarningNotes>; summaries: Map<string, SampleSummaryResult> }> {
  const { config, backend, now } = input;
  const rolled: GroupRollout[] = await Promise.all(
    tickets.map((ticket) =>
      rolloutGroup({
        backend,
        ticket,
        mission: config.mission,
        experiences: guidance.experiences,
        sampler: config.sampler,
        seed: config.seed,
        epoch,
        purpose: 'rollout',
        promptBudget: input.promptBudget,
        signal: input.signal,
      }),
    ),
  );
  // The reflection whose apply produced the guidance in force (null for the initial guidance).
  const producing = [...reflections].reverse().find((row) => row.reflection.applied && row.reflection.guidance_step_after === guidance.step);
  const reflectionId = producing?.reflection.reflection_id ?? null;

  const trajectories: TrajectoryRecord[] = [];
  const selections: SelectionRecord[] = [];
  const warningNotes = new Map<string, GroupWarningNotes>();
  const summaries = await Promise.all(
    rolled.map((group) => {
      if (group.status !== 'ok' || group.selection.selected === null) return Promise.resolve({ summary: null, critique: null, error: null });
      const selected = group.candidates[group.selection.selected];
      return summarizeSample({
        backend,
        sample: {
          mission: config.mission,
          experiences: guidance.experiences,
          ticket: group.ticket,
          label: group.ticket.label,
          verdict: group.selection.verdict,
          reason: selected.reason,
          vote: group.selection.vote,
          signals: selected.signals,
        },
        decode: reflectionDecode(config.seed, config.reflection.max_new_tokens, 'sample_summary', epoch, group.ticket.ticket_key),
        signal: input.signal,
      });
    }),
  );
  const createdAt = now();
  rolled.forEach((group, index) => {
    const { ticket } = group;
    const base = { run_name: config.run_name, mission: config.mission, epoch, batch_index: batchIndex, group_id: ticket.group_id, ticket_key: ticket.ticket_key, label: ticket.label, original_label: ticket.original_label ?? null };
    if (group.status === 'dropped') {
      warningNotes.set(ticket.ticket_key, { dropped: group.reason });
      selections.push({
        ...base,
        selected_candidate: null,
        verdict: null,
        reason: null,
        confidence: null,
        response_text: '',
        vote: { pass: 0, fail: 0, malformed: 0 },
        selection_rule: 'dropped: prompt over budget',
        signals: { label_match: null, self_consistency: null, candidate_agreement: null, confidence: null, label_trust: null },
        guidance_step: guidance.step,
        reflection_cycle: batchIndex,
        reflection_id: reflectionId,
        summary: null,
        critique: null,
        eligible: null,
        ineligible_reason: null,
        warnings: ['prompt_over_budget'],
        created_at: createdAt,
      });
      return;
    }
    const summary = summaries[index];
    for (const candidate of group.candidates) {
      trajectories.push({
        ...base,
        candidate_index: candidate.candidate_index,
        decode: candidate.decode,
        response_text: candidate.response_text,
        verdict: candidate.verdict,
        reason: candidate.reason,
        confidence: candidate.confidence,
        format_ok: candidate.format_ok,
        parse_error: candidate.parse_error,
        signals: candidate.signals,
        guidance_step: guidance.step,
        reflection_cycle: batchIndex,
        summary: summary.summary,
        critique: summary.critique,
        tokens: candidate.tokens,
        warnings: candidate.warnings,
        created_at: createdAt,
      });
    }
    const selected = group.selection.selected === null ? null : group.candidates[group.selection.selected];
    const groupWarnings: WarningCode[] = [...group.warnings];
    selections.push({
      ...base,
      selected_candidate: group.selection.selected,
      verdict: group.selection.verdict,
      reason: selected?.reason ?? null,
      confidence: selected?.confidence ?? null,
      response_text: selected?.response_text ?? '',
      vote: group.selection.vote,
      selection_rule: group.selection.rule,
      signals: selected?.signals ?? { label_match: null, self_consistency: null, candidate_agreement: group.candidates[0]?.signals.candidate_agreement ?? null, confidence: null, label_trust: group.candidates[0]?.signals.label_trust ?? null },
      guidance_step: guidance.step,
      reflection_cycle: batchIndex,
      reflection_id: reflectionId,
      summary: summary.summary,
      critique: summary.critique,
      eligible: null,
      ineligible_reason: null,
      warnings: groupWarnings,
      created_at: createdAt,
    });
    if (summary.error) warningNotes.set(ticket.ticket_key, { summaryError: summary.error });
  });
  const summaryByTicket = new Map<string, SampleSummaryResult>();
  rolled.forEach((group, index) => {
    if (group.status === 'ok' && group.selection.selected !== null) summaryByTicket.set(group.ticket.ticket_key, summaries[index] as SampleSummaryResult);
  });
  return { trajectories, selections, warningNotes, summaries: summaryByTicket };
}

/** Holdout preview: the same seeds for every guidance, so baseline and preview are paired (evaluateHoldout). */
function evaluatePipelineHoldout(input: PipelineInput, experiences: Record<string, string>) {
  return evaluateHoldout({ backend: input.backend, config: input.config, tickets: input.holdout, promptBudget: input.promptBudget, signal: input.signal }, experiences);
}

/**
 * The distill corpus of a run (when stage_b_distillation is on and an epoch converged), written
 * unless the file already holds it: the run's end calls it, and so does a rerun of a finished
 * run, which recreates a missing or changed corpus without the model.
 */
export async function exportDistill(
  input: Pick<PipelineInput, 'config' | 'store' | 'train'>,
  selections: SelectionRecord[],
  reflections: ReflectionLogRecord[],
): Promise<Telemetry['distill'] & { written: boolean }> {
  const { config, store } = input;
  const settings = config.stage_b_distillation;
  if (!settings.enabled) return { status: 'disabled', epoch: null, rows: 0, skipped: 0, path: null, message: null, written: false };
  const epochs = Array.from({ length: config.runner.epochs }, (_, epoch) => {
    const steps = selections.filter((row) => row.epoch === epoch).map((row) => row.guidance_step);
    return {
      epoch,
      applied_updates: reflections.filter((row) => row.epoch === epoch && row.reflection.applied).length,
      // A hand edit during the epoch also breaks convergence: its prompts did not share one guidance.
      guidance_step_start: Math.min(...steps),
      guidance_step_end: Math.max(...steps),
    };
  });
  const decision = detectConvergedEpoch(epochs, { exportLastIfUnconverged: settings.export_last_if_unconverged });
  if (decision.epoch === null) return { status: 'not_converged', epoch: null, rows: 0, skipped: 0, path: null, message: decision.message, written: false };
  const history = await store.readGuidanceHistory();
  const experiencesAt = (step: number) => history.find((entry) => entry.step === step)?.experiences;
  const ticketByGroup = new Map(input.train.map((ticket) => [ticket.group_id, ticket]));
  const built = buildDistillRecords(selections, decision.epoch, (groupId, selection) => {
    const experiences = experiencesAt(selection.guidance_step);
    const ticket = ticketByGroup.get(groupId);
    if (!experiences || !ticket) throw new StageBError('INTERNAL', `no guidance history for step ${selection.guidance_step} of group ${groupId}`);
    const variant = selection.selected_candidate === null ? 'default' : config.sampler.grid[selection.selected_candidate % config.sampler.grid.length].prompt_variant;
    // The system prompt states the protocol of the record's assistant turn, not the rollout's.
    return promptToMessages(buildRolloutPrompt({ mission: config.mission, experiences, ticket, variant, format: DISTILL_ASSISTANT_FORMAT }));
  });
  const records: DistillRecord[] = built.records;
  const { path, written } = await store.writeDistill(records, settings.output_path);
  return {
    status: decision.status,
    epoch: decision.epoch,
    rows: records.length,
    skipped: built.skipped.length,
    path,
    message: decision.message,
    written,
  };
}
