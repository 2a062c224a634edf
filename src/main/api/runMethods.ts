import { readdir, readFile, appendFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { hostname } from 'node:os';
import { isProcessAlive } from '../io/isProcessAlive';
import { StageBError, toStageBError } from '../../shared/errors';
import type { ApiOutput, ApiParsedInput, GroupTicket, QaItem, QaReason, QaReviewRecord, RunSummary } from '../../shared/api/contract';
import { QaReviewRecordSchema } from '../../shared/api/contract';
import { parseStageASummary } from '../../shared/stageASummary';
import { normalizeVerdict, ticketKey } from '../../shared/verdict';
import { rates } from '../../shared/metrics/rates';
import {
  NeedReviewRecordSchema,
  SelectionRecordSchema,
  TrajectoryRecordSchema,
  type NeedReviewRecord,
  type SelectionRecord,
  type TrajectoryRecord,
} from '../../shared/schemas/records';
import { RunManifestViewSchema, TelemetrySchema, type BatchTelemetry, type EpochTelemetry } from '../../shared/schemas/telemetry';
import type { ApiContext } from './ApiContext';
import { loadGuidanceTimeline } from './GuidanceTimeline';
import { readJsonFile } from '../io/readJsonFile';
import { readJsonlLenient } from '../io/jsonl';
import { LABEL_CODE, ROW_FLAG } from './RowColumns';
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
  const query = { filters: input.filters, sort: input.sort, offset: input.offset, limit: input.limit };
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
    return { kind: 'trajectories', ...progress(page), rows: page.rows };
  }
  const page = await ctx.indexes.queryPage(path.join(missionDir, RUN_FILES.selections), SelectionRecordSchema, query);
  return { kind: 'selections', ...progress(page), rows: page.rows };
}

/** The Stage-A tickets of one group, found by scanning the run's input files (named in run.json). */
async function findTickets(missionDir: string, groupId: string): Promise<GroupTicket[]> {
  const manifest = await readJsonFile(path.join(missionDir, RUN_FILES.manifest), RunManifestViewSchema);
  if (!manifest) throw new StageBError('INPUT_NOT_FOUND', 'run.json is missing, so the Stage-A inputs are unknown', { file: RUN_FILES.manifest });
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
  return tickets;
}

async function latestReviews(missionDir: string): Promise<Map<string, QaReviewRecord>> {
  const log = await readJsonlLenient(path.join(missionDir, RUN_FILES.qaReviews), QaReviewRecordSchema);
  const latest = new Map<string, QaReviewRecord>();
  for (const { record } of log.rows) latest.set(`${record.group_id}\u0000${record.epoch ?? ''}`, record);
  return latest;
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
    const timeline = await loadGuidanceTimeline(missionDir, input.mission);
    guidance = { step: latest.guidance_step, state: timeline.get(latest.guidance_step) ?? null };
  }
  const reviews = (await readJsonlLenient(path.join(missionDir, RUN_FILES.qaReviews), QaReviewRecordSchema)).rows
    .map((row) => row.record)
    .filter((review) => review.group_id === input.groupId);
  return { groupId: input.groupId, tickets, ticketError, candidates, selections: chosen, needReview, guidance, reviews };
}

export async function qaQueue(ctx: ApiContext, input: ApiParsedInput<'qaQueue'>): Promise<ApiOutput<'qaQueue'>> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, input.runId, input.mission);
  const index = await ctx.indexes.get(path.join(missionDir, RUN_FILES.selections), SelectionRecordSchema);
  const needReview = new Map<string, NeedReviewRecord>();
  for (const { record } of (await readJsonlLenient(path.join(missionDir, RUN_FILES.needReview), NeedReviewRecordSchema)).rows) needReview.set(record.group_id, record);
  const reviews = await latestReviews(missionDir);
  const c = index.rowColumns;
  const reasonsOf = (row: number): QaReason[] => {
    const reasons: QaReason[] = [];
    if (c.flags[row] & ROW_FLAG.critique) reasons.push('critique');
    if (c.ineligibleReason[row] !== 0) reasons.push('ineligible');
    if (needReview.has(c.groupIds.values[c.groupId[row]] as string)) reasons.push('need_review');
    if (c.warnings[row] !== 0) reasons.push('warning');
    return reasons;
  };
  const matching: number[] = [];
  for (let row = 0; row < c.length; row += 1) {
    const reasons = reasonsOf(row);
    if (reasons.length === 0) continue;
    if (input.reason && !reasons.includes(input.reason)) continue;
    if (!input.includeReviewed && reviews.has(`${c.groupIds.values[c.groupId[row]]}\u0000${c.epoch[row]}`)) continue;
    matching.push(row);
  }
  const page = matching.slice(input.offset, input.offset + input.limit);
  const read = await index.readRows(page);
  const items: QaItem[] = read.rows.map(({ record }) => ({
    group_id: record.group_id,
    ticket_key: record.ticket_key,
    epoch: record.epoch,
    label: record.label,
    verdict: record.verdict,
    reasons: [
      ...(record.critique?.trim() ? (['critique'] as const) : []),
      ...(record.ineligible_reason ? (['ineligible'] as const) : []),
      ...(needReview.has(record.group_id) ? (['need_review'] as const) : []),
      ...(record.warnings.length ? (['warning'] as const) : []),
    ],
    critique: record.critique,
    ineligible_reason: record.ineligible_reason,
    warnings: record.warnings,
    need_review: needReview.has(record.group_id),
    review: reviews.get(`${record.group_id}\u0000${record.epoch}`) ?? null,
  }));
  return { total: matching.length, offset: input.offset, items };
}

export async function markReviewed(ctx: ApiContext, input: ApiParsedInput<'markReviewed'>): Promise<ApiOutput<'markReviewed'>> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, input.runId, input.mission);
  const review: QaReviewRecord = QaReviewRecordSchema.parse({
    group_id: input.groupId,
    ticket_key: input.ticketKey,
    epoch: input.epoch,
    status: input.status,
    note: input.note,
    reviewer: input.reviewer,
    created_at: ctx.now().toISOString(),
  });
  try {
    await appendFile(path.join(missionDir, RUN_FILES.qaReviews), `${JSON.stringify(review)}\n`, 'utf8');
  } catch (error) {
    throw new StageBError('IO_WRITE_FAILED', `cannot record the review: ${(error as Error).message}`, { file: RUN_FILES.qaReviews });
  }
  return { review };
}

/** Per batch / per epoch rates from telemetry.json, or recomputed from selections while a run has none. */
export async function charts(ctx: ApiContext, input: ApiParsedInput<'charts'>): Promise<ApiOutput<'charts'>> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, input.runId, input.mission);
  const timeline = await loadGuidanceTimeline(missionDir, input.mission);
  const guidanceSizes = [...timeline.values()].sort((a, b) => a.step - b.step).map((state) => ({ step: state.step, size: Object.keys(state.experiences).length }));
  let telemetry = null;
  try {
    telemetry = await readJsonFile(path.join(missionDir, RUN_FILES.telemetry), TelemetrySchema);
  } catch {
    telemetry = null;
  }
  if (telemetry && telemetry.batches.length > 0) return { batches: telemetry.batches, epochs: telemetry.epochs, guidanceSizes, source: 'telemetry' };
  const index = await ctx.indexes.get(path.join(missionDir, RUN_FILES.selections), SelectionRecordSchema);
  const c = index.rowColumns;
  if (c.length === 0) return { batches: [], epochs: [], guidanceSizes, source: 'none' };
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
  return { batches, epochs, guidanceSizes, source: 'selections' };
}

