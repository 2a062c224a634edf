import { readdir, readFile, stat } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { hostname } from 'node:os';
import { isProcessAlive } from '../io/isProcessAlive';
import { StageBError, toStageBError } from '../../shared/errors';
import type { ApiOutput, ApiParsedInput, GroupTicket, QaItem, QaReason, RunSummary } from '../../shared/api/contract';
import { QA_NEEDS_PERSON_REASONS } from '../../shared/api/contract';
import { LabelCorrectionSchema } from '../../shared/schemas/labelCorrections';
import { FoldedQaReviewSchema, type FoldedQaReview, type QaReviewRetraction } from '../../shared/schemas/qaReview';
import {
  currentReviewFor,
  exportReviewRows,
  foldQaReviews,
  labelCorrectionsFromReviews,
  lastLiveReview,
  runTicketRowsOf,
  type QaReviewFold,
  type RunTicketRow,
} from '../../shared/qaReviews/foldQaReviews';
import { appendQaReviews, readQaReviews, type QaReviewsRead } from '../io/qaReviewsFile';
import { readRunLabelCorrections } from '../io/loadLabelCorrections';
import { parseStageASummary } from '../../shared/stageASummary';
import { normalizeVerdict, ticketKey } from '../../shared/verdict';
import { rates } from '../../shared/metrics/rates';
import {
  NeedReviewRecordSchema,
  ReflectionLogRecordSchema,
  SelectionRecordSchema,
  TrajectoryRecordSchema,
  type NeedReviewRecord,
  type SelectionRecord,
  type TrajectoryRecord,
} from '../../shared/schemas/records';
import { RunEventSchema, RunManifestViewSchema, TelemetrySchema, type BatchTelemetry, type EpochTelemetry } from '../../shared/schemas/telemetry';
import type { ApiContext } from './ApiContext';
import { loadGuidanceTimeline } from './GuidanceTimeline';
import { missionGuidance } from './guidanceMethods';
import { readJsonFile } from '../io/readJsonFile';
import { readJsonlLenient } from '../io/jsonl';
import { BOOL_CODE, LABEL_CODE, ROW_FLAG } from './RowColumns';
import type { ItemFilter } from './JsonlLineIndex';
import { RUN_FILES, resolveMissionDir } from './runDirectory';

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

async function subdirectories(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).map((entry) => entry.name).sort();
  } catch {
    return [];
  }
}

const MISSION_MARKERS = [RUN_FILES.telemetry, RUN_FILES.manifest, RUN_FILES.trajectories, RUN_FILES.selections, RUN_FILES.guidance];

/**
 * Whether the process a running telemetry names is alive. A run on another machine cannot
 * be probed and counts as held; a run that names no process (written before hosts were
 * recorded, or by a killed process) does not.
 */
export function heldByLiveProcess(host: { pid: number; hostname: string } | null, isAlive: (pid: number) => boolean = isProcessAlive): boolean {
  if (!host) return false;
  if (host.hostname !== hostname()) return true;
  return isAlive(host.pid);
}

async function summarizeRun(missionDir: string, runId: string, mission: string): Promise<RunSummary> {
  const has = async (name: string) => exists(path.join(missionDir, name));
  const files = {
    trajectories: await has(RUN_FILES.trajectories),
    selections: await has(RUN_FILES.selections),
    reflection: await has(RUN_FILES.reflections),
    guidance: await has(RUN_FILES.guidance),
    need_review: await has(RUN_FILES.needReview),
    export: await has(RUN_FILES.export),
    distill: await has(RUN_FILES.distill),
  };
  const summary: RunSummary = {
    runId,
    mission,
    status: 'unknown',
    started_at: null,
    finished_at: null,
    label_match_rate: null,
    false_release_rate: null,
    guidance_step: null,
    counts: null,
    files,
    seed: null,
    model: null,
    error: null,
  };
  try {
    const telemetry = await readJsonFile(path.join(missionDir, RUN_FILES.telemetry), TelemetrySchema);
    if (telemetry) {
      summary.status = telemetry.status === 'running' && !heldByLiveProcess(telemetry.host) ? 'interrupted' : telemetry.status;
      summary.started_at = telemetry.started_at;
      summary.finished_at = telemetry.finished_at;
      summary.label_match_rate = telemetry.rates.label_match_rate;
      summary.false_release_rate = telemetry.rates.false_release_rate;
      summary.guidance_step = telemetry.guidance_step;
      summary.counts = telemetry.counts;
    }
    const manifest = await readJsonFile(path.join(missionDir, RUN_FILES.manifest), RunManifestViewSchema);
    if (manifest) {
      summary.seed = manifest.seed ?? null;
      const model = manifest.model;
      summary.model = model ? (model.name ?? (model.path ? path.basename(model.path) : (model.backend ?? null))) : null;
      summary.started_at ??= manifest.created_at ?? null;
    }
  } catch (error) {
    summary.error = toStageBError(error, 'IO_READ_FAILED').toJSON();
  }
  return summary;
}

export async function listRuns(ctx: ApiContext): Promise<ApiOutput<'listRuns'>> {
  const runs: RunSummary[] = [];
  for (const runId of await subdirectories(ctx.runsRoot)) {
    for (const mission of await subdirectories(path.join(ctx.runsRoot, runId))) {
      const missionDir = path.join(ctx.runsRoot, runId, mission);
      const markers = await Promise.all(MISSION_MARKERS.map((name) => exists(path.join(missionDir, name))));
      if (!markers.some(Boolean)) continue;
      runs.push(await summarizeRun(missionDir, runId, mission));
    }
  }
  runs.sort((a, b) => (b.started_at ?? '').localeCompare(a.started_at ?? '') || a.runId.localeCompare(b.runId));
  return { runs };
}

export async function listMissions(ctx: ApiContext): Promise<ApiOutput<'listMissions'>> {
  const byMission = new Map<string, string[]>();
  for (const run of (await listRuns(ctx)).runs) {
    const list = byMission.get(run.mission) ?? [];
    list.push(run.runId);
    byMission.set(run.mission, list);
  }
  return { missions: [...byMission.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([mission, runIds]) => ({ mission, runIds })) };
}

export async function queryRows(ctx: ApiContext, input: ApiParsedInput<'queryRows'>): Promise<ApiOutput<'queryRows'>> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, input.runId, input.mission);
  const { review: reviewFilter, ...filters } = input.filters;
  const { fold } = await foldedReviews(missionDir);
  const query = { filters, sort: input.sort, offset: input.offset, limit: input.limit, items: reviewFilter === undefined ? undefined : reviewedItems(fold, reviewFilter) };
  const withReviews = <R extends { group_id: string; ticket_key: string; epoch: number }>(rows: { line: number; record: R }[]) =>
    rows.map((row) => ({ ...row, review: currentReviewFor(fold, row.record) }));
  const progress = (page: { total: number; indexedRows: number; partial: boolean; indexedFraction: number; invalid: { line: number; message: string }[] }) => ({
    total: page.total,
    offset: input.offset,
    indexed_lines: page.indexedRows,
    invalid: page.invalid,
    partial: page.partial,
    indexed_rows: page.indexedRows,
    indexed_fraction: page.indexedFraction,
  });
  if (input.kind === 'trajectories') {
    const page = await ctx.indexes.queryPage(path.join(missionDir, RUN_FILES.trajectories), TrajectoryRecordSchema, query);
    return { kind: 'trajectories', ...progress(page), rows: withReviews(page.rows) };
  }
  const page = await ctx.indexes.queryPage(path.join(missionDir, RUN_FILES.selections), SelectionRecordSchema, query);
  return { kind: 'selections', ...progress(page), rows: withReviews(page.rows) };
}

/** The items (group, epoch) a review filter keeps: reviewed ones, or those whose current review has one status; 'unreviewed' keeps the others. */
function reviewedItems(fold: QaReviewFold, filter: NonNullable<ApiParsedInput<'queryRows'>['filters']['review']>): ItemFilter {
  const epochsByGroup = new Map<string, Set<number>>();
  for (const review of fold.current.values()) {
    if (review.epoch === null) continue;
    if (filter !== 'reviewed' && filter !== 'unreviewed' && review.status !== filter) continue;
    const epochs = epochsByGroup.get(review.group_id) ?? new Set<number>();
    epochs.add(review.epoch);
    epochsByGroup.set(review.group_id, epochs);
  }
  return { epochsByGroup, keep: filter === 'unreviewed' ? 'unlisted' : 'listed' };
}

/** The Stage-A tickets of one group, found by scanning the run's input files (named in run.json). */
async function findTickets(missionDir: string, groupId: string): Promise<GroupTicket[]> {
  const manifest = await readJsonFile(path.join(missionDir, RUN_FILES.manifest), RunManifestViewSchema);
  if (!manifest) throw new StageBError('INPUT_NOT_FOUND', `${RUN_FILES.manifest} is missing, so the Stage-A inputs are unknown`, { file: RUN_FILES.manifest });
  const configured = manifest.config?.stage_a_paths;
  const paths = manifest.inputs?.length
    ? manifest.inputs.map((input) => input.path)
    : (configured ?? []);
  const needle = JSON.stringify(groupId).slice(1, -1);
  const tickets: GroupTicket[] = [];
  for (const file of paths) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new StageBError('INPUT_NOT_FOUND', `Stage-A file not readable: ${(error as Error).message}`, { file });
    }
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i += 1) {
      if (!lines[i].includes(needle)) continue;
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(lines[i]);
      } catch {
        continue;
      }
      if (value.group_id !== groupId) continue;
      const label = normalizeVerdict(value.label);
      const perImage = (value.per_image ?? {}) as Record<string, unknown>;
      const keys = Object.keys(perImage).sort((a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')));
      const reasons = [
        ...(typeof value.gt_fail_reason_text === 'string' ? [value.gt_fail_reason_text] : []),
        ...(Array.isArray(value.gt_fail_reason_texts) ? value.gt_fail_reason_texts.filter((t): t is string => typeof t === 'string') : []),
      ];
      tickets.push({
        group_id: groupId,
        ticket_key: ticketKey(groupId, label),
        label,
        original_label: null,
        images: Array.isArray(value.images) ? value.images.filter((v): v is string => typeof v === 'string') : [],
        summaries: keys.map((image) => {
          const raw = String(perImage[image] ?? '');
          return { image, raw, parsed: parseStageASummary(raw) };
        }),
        gt_fail_reason_texts: reasons,
        source: { file: path.basename(file), line: i + 1 },
      });
    }
  }
  const correctionsFile = manifest.label_corrections?.path ?? null;
  if (correctionsFile === null || tickets.length === 0) return tickets;
  // The labels the run used: the ones its corrections file replaced, with the file's kept as original_label.
  const corrections = new Map((await readJsonlLenient(correctionsFile, LabelCorrectionSchema)).rows.map((row) => [row.record.ticket_key, row.record]));
  return tickets.map((ticket) => {
    const correction = corrections.get(ticket.ticket_key);
    if (!correction || correction.corrected_label === ticket.label) return ticket;
    return { ...ticket, label: correction.corrected_label, original_label: ticket.label };
  });
}

async function foldedReviews(missionDir: string): Promise<{ fold: QaReviewFold; read: QaReviewsRead }> {
  const read = await readQaReviews(missionDir);
  return { fold: foldQaReviews(read.rows), read };
}

export async function groupDetail(ctx: ApiContext, input: ApiParsedInput<'groupDetail'>): Promise<ApiOutput<'groupDetail'>> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, input.runId, input.mission);
  const trajectories = await ctx.indexes.get(path.join(missionDir, RUN_FILES.trajectories), TrajectoryRecordSchema);
  const selections = await ctx.indexes.get(path.join(missionDir, RUN_FILES.selections), SelectionRecordSchema);
  const candidates: TrajectoryRecord[] = (await trajectories.readRows(trajectories.rowsOfGroup(input.groupId))).rows.map((row) => row.record);
  const chosen: SelectionRecord[] = (await selections.readRows(selections.rowsOfGroup(input.groupId))).rows.map((row) => row.record);
  let tickets: GroupTicket[] = [];
  let ticketError = null;
  try {
    tickets = await findTickets(missionDir, input.groupId);
  } catch (error) {
    ticketError = toStageBError(error, 'INPUT_NOT_FOUND').toJSON();
  }
  const needReview = (await readJsonlLenient(path.join(missionDir, RUN_FILES.needReview), NeedReviewRecordSchema)).rows.find((row) => row.record.group_id === input.groupId)?.record ?? null;
  const latest = chosen[chosen.length - 1] ?? candidates[candidates.length - 1];
  let guidance = null;
  if (latest) {
    const timeline = await loadGuidanceTimeline(missionDir, missionGuidance(ctx, missionDir, input.mission));
    guidance = { step: latest.guidance_step, state: timeline.get(latest.guidance_step) ?? null };
  }
  const reviews = (await foldedReviews(missionDir)).fold.live.filter((review) => review.group_id === input.groupId);
  return { groupId: input.groupId, tickets, ticketError, candidates, selections: chosen, needReview, guidance, reviews };
}

/** Why a selection row needs a look; the same rules for the row filter and the item it becomes. */
function qaReasonsOf(
  row: { critique: boolean; ineligible: boolean; needReview: boolean; warning: boolean; labelMatch: boolean | null; confidence: number | null },
  lowConfidence: number,
): QaReason[] {
  const reasons: QaReason[] = [];
  if (row.critique) reasons.push('critique');
  if (row.ineligible) reasons.push('ineligible');
  if (row.needReview) reasons.push('need_review');
  if (row.warning) reasons.push('warning');
  if (row.labelMatch === false) reasons.push('label_mismatch');
  if (row.confidence !== null && row.confidence < lowConfidence) reasons.push('low_confidence');
  return reasons;
}

export async function qaQueue(ctx: ApiContext, input: ApiParsedInput<'qaQueue'>): Promise<ApiOutput<'qaQueue'>> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, input.runId, input.mission);
  const index = await ctx.indexes.get(path.join(missionDir, RUN_FILES.selections), SelectionRecordSchema);
  const needReview = new Map<string, NeedReviewRecord>();
  for (const { record } of (await readJsonlLenient(path.join(missionDir, RUN_FILES.needReview), NeedReviewRecordSchema)).rows) needReview.set(record.group_id, record);
  const { fold, read } = await foldedReviews(missionDir);
  const c = index.rowColumns;
  const inScope = (reasons: QaReason[]): boolean => {
    const scoped = input.scope === 'all' ? reasons : reasons.filter((reason) => QA_NEEDS_PERSON_REASONS.includes(reason));
    if (scoped.length === 0) return false;
    return !input.reason || scoped.includes(input.reason);
  };
  const reviewedGroupEpochs = new Set([...fold.current.values()].map((review) => `${review.group_id}\u0000${review.epoch ?? ''}`));
  const matching: number[] = [];
  let inScopeTotal = 0;
  let reviewed = 0;
  for (let row = 0; row < c.length; row += 1) {
    const groupId = c.groupIds.values[c.groupId[row]] as string;
    const confidence = c.confidence[row];
    const reasons = qaReasonsOf(
      {
        critique: (c.flags[row] & ROW_FLAG.critique) !== 0,
        ineligible: c.ineligibleReason[row] !== 0,
        needReview: needReview.has(groupId),
        warning: c.warnings[row] !== 0,
        labelMatch: c.labelMatch[row] === BOOL_CODE.true ? true : c.labelMatch[row] === BOOL_CODE.false ? false : null,
        confidence: Number.isNaN(confidence) ? null : confidence,
      },
      input.lowConfidence,
    );
    if (!inScope(reasons)) continue;
    inScopeTotal += 1;
    // The columns hold no ticket key: a group-wide lookup here, the exact one for the page below.
    const hasReview = reviewedGroupEpochs.has(`${groupId}\u0000${c.epoch[row]}`);
    if (hasReview) reviewed += 1;
    if (!input.includeReviewed && hasReview) continue;
    matching.push(row);
  }
  const page = matching.slice(input.offset, input.offset + input.limit);
  const rows = await index.readRows(page);
  const items: QaItem[] = rows.rows.map(({ record }) => ({
    group_id: record.group_id,
    ticket_key: record.ticket_key,
    epoch: record.epoch,
    label: record.label,
    verdict: record.verdict,
    reasons: qaReasonsOf(
      {
        critique: Boolean(record.critique?.trim()),
        ineligible: Boolean(record.ineligible_reason),
        needReview: needReview.has(record.group_id),
        warning: record.warnings.length > 0,
        labelMatch: record.signals.label_match,
        confidence: record.confidence,
      },
      input.lowConfidence,
    ),
    critique: record.critique,
    ineligible_reason: record.ineligible_reason,
    warnings: record.warnings,
    need_review: needReview.has(record.group_id),
    review: currentReviewFor(fold, record),
  }));
  return {
    total: matching.length,
    offset: input.offset,
    items,
    progress: { reviewed, total: inScopeTotal },
    invalid_reviews: read.invalid,
    torn_reviews_tail: read.tornTail !== null,
  };
}

function reviewWriteError(error: unknown): StageBError {
  const cause = toStageBError(error, 'IO_WRITE_FAILED');
  return new StageBError('IO_WRITE_FAILED', `cannot record the review: ${cause.message}`, { file: RUN_FILES.qaReviews });
}

export async function markReviewed(ctx: ApiContext, input: ApiParsedInput<'markReviewed'>): Promise<ApiOutput<'markReviewed'>> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, input.runId, input.mission);
  const review: FoldedQaReview = FoldedQaReviewSchema.parse({
    review_id: randomUUID(),
    group_id: input.groupId,
    ticket_key: input.ticketKey,
    epoch: input.epoch,
    status: input.status,
    note: input.note,
    reviewer: input.reviewer,
    created_at: ctx.now().toISOString(),
  });
  try {
    await appendQaReviews(missionDir, [review]);
  } catch (error) {
    throw reviewWriteError(error);
  }
  return { review };
}

export async function qaUndoReview(ctx: ApiContext, input: ApiParsedInput<'qaUndoReview'>): Promise<ApiOutput<'qaUndoReview'>> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, input.runId, input.mission);
  const { fold } = await foldedReviews(missionDir);
  const target = input.reviewId !== undefined ? (fold.live.find((review) => review.review_id === input.reviewId) ?? null) : lastLiveReview(fold, input.reviewer);
  if (!target) {
    const message =
      input.reviewId === undefined
        ? `there is no review to undo${input.reviewer ? ` by ${input.reviewer}` : ''}`
        : fold.retracted.has(input.reviewId)
          ? `review ${input.reviewId} was already undone`
          : `there is no review ${input.reviewId}`;
    throw new StageBError('API_NOT_FOUND', message, { file: RUN_FILES.qaReviews, field: 'reviewId' });
  }
  const retraction: QaReviewRetraction = {
    type: 'retraction',
    retracts: target.review_id,
    group_id: target.group_id,
    ticket_key: target.ticket_key,
    epoch: target.epoch,
    reviewer: input.reviewer,
    created_at: ctx.now().toISOString(),
  };
  try {
    await appendQaReviews(missionDir, [retraction]);
  } catch (error) {
    throw reviewWriteError(error);
  }
  const after = foldQaReviews([...(await readQaReviews(missionDir)).rows]);
  return { retracted: target, current: currentReviewFor(after, target) };
}

async function runTicketRows(missionDir: string): Promise<RunTicketRow[]> {
  return runTicketRowsOf((await readJsonlLenient(path.join(missionDir, RUN_FILES.selections), SelectionRecordSchema)).rows.map((row) => row.record));
}

export async function qaExportReviews(ctx: ApiContext, input: ApiParsedInput<'qaExportReviews'>): Promise<ApiOutput<'qaExportReviews'>> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, input.runId, input.mission);
  const { fold, read } = await foldedReviews(missionDir);
  return { rows: exportReviewRows(fold, await runTicketRows(missionDir), input.mission), invalid_reviews: read.invalid };
}

export async function qaLabelCorrections(ctx: ApiContext, input: ApiParsedInput<'qaLabelCorrections'>): Promise<ApiOutput<'qaLabelCorrections'>> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, input.runId, input.mission);
  const { fold } = await foldedReviews(missionDir);
  const own = await readRunLabelCorrections(missionDir);
  return labelCorrectionsFromReviews(fold, await runTicketRows(missionDir), own.corrections);
}

/** Per batch / per epoch rates from telemetry.json, or recomputed from selections while a run has none. */
export async function charts(ctx: ApiContext, input: ApiParsedInput<'charts'>): Promise<ApiOutput<'charts'>> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, input.runId, input.mission);
  const timeline = await loadGuidanceTimeline(missionDir, missionGuidance(ctx, missionDir, input.mission));
  const guidanceSizes = [...timeline.values()].sort((a, b) => a.step - b.step).map((state) => ({ step: state.step, size: Object.keys(state.experiences).length }));
  let telemetry = null;
  try {
    telemetry = await readJsonFile(path.join(missionDir, RUN_FILES.telemetry), TelemetrySchema);
  } catch {
    telemetry = null;
  }
  const holdout = await holdoutPerDecision(missionDir);
  const throughput = await throughputPerBatch(missionDir);
  const extra = { holdout, throughput };
  if (telemetry && telemetry.batches.length > 0) return { batches: telemetry.batches, epochs: telemetry.epochs, guidanceSizes, source: 'telemetry', ...extra };
  const index = await ctx.indexes.get(path.join(missionDir, RUN_FILES.selections), SelectionRecordSchema);
  const c = index.rowColumns;
  if (c.length === 0) return { batches: [], epochs: [], guidanceSizes, source: 'none', ...extra };
  const decode = (code: number): 'pass' | 'fail' | null => (code === LABEL_CODE.pass ? 'pass' : code === LABEL_CODE.fail ? 'fail' : null);
  const batchRows = new Map<string, { epoch: number; batch: number; rows: { label: 'pass' | 'fail' | null; verdict: 'pass' | 'fail' | null }[]; step: number }>();
  const epochRows = new Map<number, { rows: { label: 'pass' | 'fail' | null; verdict: 'pass' | 'fail' | null }[]; first: number; last: number }>();
  for (let i = 0; i < c.length; i += 1) {
    const row = { label: decode(c.label[i]), verdict: decode(c.verdict[i]) };
    const key = `${c.epoch[i]}:${c.batchIndex[i]}`;
    const batch = batchRows.get(key) ?? { epoch: c.epoch[i], batch: c.batchIndex[i], rows: [], step: c.guidanceStep[i] };
    batch.rows.push(row);
    batchRows.set(key, batch);
    const epoch = epochRows.get(c.epoch[i]) ?? { rows: [], first: c.guidanceStep[i], last: c.guidanceStep[i] };
    epoch.rows.push(row);
    epoch.first = Math.min(epoch.first, c.guidanceStep[i]);
    epoch.last = Math.max(epoch.last, c.guidanceStep[i]);
    epochRows.set(c.epoch[i], epoch);
  }
  const batches: BatchTelemetry[] = [...batchRows.values()]
    .sort((a, b) => a.epoch - b.epoch || a.batch - b.batch)
    .map((batch) => ({
      ...rates(batch.rows),
      epoch: batch.epoch,
      batch_index: Math.max(0, batch.batch),
      groups: batch.rows.length,
      guidance_step: Math.max(0, batch.step),
      guidance_size: guidanceSizes.find((entry) => entry.step === batch.step)?.size ?? 0,
      applied: false,
    }));
  const epochs: EpochTelemetry[] = [...epochRows.entries()]
    .sort(([a], [b]) => a - b)
    .map(([epoch, value]) => ({
      ...rates(value.rows),
      epoch,
      guidance_step_start: Math.max(0, value.first),
      guidance_step_end: Math.max(0, value.last),
      applied_updates: Math.max(0, value.last - value.first),
      converged: false,
    }));
  return { batches, epochs, guidanceSizes, source: 'selections', ...extra };
}

/** A run that has not written the file yet has nothing to chart; any other read failure is the caller's error. */
function noRowsIfMissing(error: unknown): { rows: [] } {
  if (error instanceof StageBError && error.code === 'INPUT_NOT_FOUND') return { rows: [] };
  throw error;
}

/** The holdout the gate measured before and with each plan, in decision order; decisions the gate never measured are left out. */
async function holdoutPerDecision(missionDir: string): Promise<ApiOutput<'charts'>['holdout']> {
  const log = await readJsonlLenient(path.join(missionDir, RUN_FILES.reflections), ReflectionLogRecordSchema).catch(noRowsIfMissing);
  return log.rows.flatMap(({ record }) => {
    const r = record.reflection;
    if (!r.pre_uplift || !r.post_uplift) return [];
    return [{
      reflection_id: r.reflection_id,
      epoch: record.epoch,
      batch_index: r.batch_index,
      applied: r.applied,
      ineligible_reason: r.ineligible_reason,
      guidance_step_before: r.guidance_step_before,
      guidance_step_after: r.guidance_step_after,
      before: r.pre_uplift,
      after: r.post_uplift,
    }];
  });
}

/** tokens/s of the last progress event of each batch (events.jsonl), in batch order. */
async function throughputPerBatch(missionDir: string): Promise<ApiOutput<'charts'>['throughput']> {
  const log = await readJsonlLenient(path.join(missionDir, RUN_FILES.events), RunEventSchema).catch(noRowsIfMissing);
  const byBatch = new Map<string, { epoch: number; batch_index: number; tokens_per_second: number }>();
  for (const { record } of log.rows) {
    if (record.type !== 'progress') continue;
    byBatch.set(`${record.epoch}:${record.batch_index}`, { epoch: record.epoch, batch_index: record.batch_index, tokens_per_second: record.tokens_per_second });
  }
  return [...byBatch.values()].sort((a, b) => a.epoch - b.epoch || a.batch_index - b.batch_index);
}

