import { readdir, stat } from 'node:fs/promises';
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import path from 'node:path';
import { hostname } from 'node:os';
import { isProcessAlive } from '../io/isProcessAlive';
import { StageBError, toStageBError } from '../../shared/errors';
import type { ApiOutput, ApiParsedInput, CandidatePrompt, GroupTicket, QaItem, QaReason, RunSummary } from '../../shared/api/contract';
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
import { VerdictFormatSchema, verdictGrammar } from '../../shared/verdictProtocol';
import { GuidanceHistoryEntrySchema } from '../../shared/schemas/guidance';
import { buildRolloutPrompt, promptToMessages } from '../engine/promptBuilder';
import { loadStageAInputs, type StageAInputs } from './index/StageAInputs';
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

type RunManifestView = z.infer<typeof RunManifestViewSchema>;
import type { ApiContext } from './ApiContext';
import { loadGuidanceTimeline } from './GuidanceTimeline';
import { missionGuidance } from './guidanceMethods';
import { readJsonFile } from '../io/readJsonFile';
import { readJsonlLenient } from '../io/jsonl';
import { BOOL_CODE, LABEL_CODE, ROW_FLAG } from './RowColumns';
import type { ItemFilter, JsonlLineIndex, TextGroupMatch } from './JsonlLineIndex';
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
  const textGroups = await textGroupsFor(missionDir, input.mission, filters.text);
  const query = { filters, sort: input.sort, offset: input.offset, limit: input.limit, items: reviewFilter === undefined ? undefined : reviewedItems(fold, reviewFilter), textGroups: textGroups === 'parsing' ? undefined : textGroups };
  const withReviews = <R extends { group_id: string; ticket_key: string; epoch: number }>(rows: { line: number; record: R }[]) =>
    rows.map((row) => ({ ...row, review: currentReviewFor(fold, row.record) }));
  const progress = (page: { total: number; indexedRows: number; partial: boolean; indexedFraction: number; invalid: { line: number; message: string }[] }) => ({
    total: page.total,
    offset: input.offset,
    indexed_lines: page.indexedRows,
    invalid: page.invalid,
    partial: page.partial || textGroups === 'parsing',
    indexed_rows: page.indexedRows,
    indexed_fraction: textGroups === 'parsing' ? Math.min(page.indexedFraction, 0.99) : page.indexedFraction,
  });
  // The Stage-A inputs are parsed in the background from the first listing on, ready for the first search.
  const warm = (_page: { partial: boolean }) => {
    if (!filters.text?.trim()) warmStageAInputs(missionDir, input.mission);
  };
  if (input.kind === 'trajectories') {
    const page = await ctx.indexes.queryPage(path.join(missionDir, RUN_FILES.trajectories), TrajectoryRecordSchema, query);
    warm(page);
    return { kind: 'trajectories', ...progress(page), rows: withReviews(page.rows) };
  }
  const page = await ctx.indexes.queryPage(path.join(missionDir, RUN_FILES.selections), SelectionRecordSchema, query);
  warm(page);
  return { kind: 'selections', ...progress(page), rows: withReviews(page.rows) };
}

/**
 * The free-text filter's matches in the tickets' Stage-A summaries. A run whose inputs
 * cannot be read (run.json or a Stage-A file gone) searches its own rows only.
 */
async function textGroupsFor(missionDir: string, missionDirName: string, text: string | undefined): Promise<TextGroupMatch | 'parsing' | undefined> {
  const needle = text?.trim();
  if (!needle) return undefined;
  let inputs: RunInputs | null;
  try {
    inputs = await readRunInputs(missionDir, missionDirName, { wait: false });
  } catch {
    return undefined;
  }
  // Still being parsed: the rows' own text answers now, provisionally (partial), and the table asks again.
  if (!inputs) return 'parsing';
  // A paged table asks the same search once per page: the match is kept while the inputs stay the same.
  const key = `${missionDir}\u0000${needle.toLowerCase()}`;
  const cached = textGroupCache.get(key);
  if (cached && cached.signature === inputs.signature) return cached.match;
  const match = stageATextGroups(inputs, needle);
  textGroupCache.delete(key);
  textGroupCache.set(key, { signature: inputs.signature, match });
  while (textGroupCache.size > 16) textGroupCache.delete(textGroupCache.keys().next().value as string);
  return match;
}

const textGroupCache = new Map<string, { signature: string; match: TextGroupMatch }>();
const warmed = new Set<string>();

/**
 * Parses a run's Stage-A inputs in the background the first time its rows are listed, in
 * slices beside the index build, so the first search does not wait for them.
 */
function warmStageAInputs(missionDir: string, missionDirName: string): void {
  if (warmed.has(missionDir)) return;
  warmed.add(missionDir);
  setTimeout(() => void readRunInputs(missionDir, missionDirName, { wait: false }).catch(() => undefined), 0);
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

/** What the run recorded about its inputs (run.json): the Stage-A files, the mission, the sampler, the label corrections. */
type RunInputs = {
  manifest: RunManifestView;
  mission: string;
  stageA: StageAInputs;
  /** Input ticket_key → the label the run used, for the tickets its corrections file changed. */
  corrected: Map<string, 'pass' | 'fail' | null>;
  /** Changes whenever run.json, an input file or the corrections file does. */
  signature: string;
};

const SamplerRecordSchema = z.object({ sampler: z.object({ format: VerdictFormatSchema, max_reason_chars: z.number().int().positive() }).partial().passthrough() }).partial().passthrough();

async function readRunInputs(missionDir: string, missionDirName: string): Promise<RunInputs>;
async function readRunInputs(missionDir: string, missionDirName: string, options: { wait: false }): Promise<RunInputs | null>;
async function readRunInputs(missionDir: string, missionDirName: string, options: { wait: boolean } = { wait: true }): Promise<RunInputs | null> {
  const manifest = await readJsonFile(path.join(missionDir, RUN_FILES.manifest), RunManifestViewSchema);
  if (!manifest) throw new StageBError('INPUT_NOT_FOUND', `${RUN_FILES.manifest} is missing, so the Stage-A inputs are unknown`, { file: RUN_FILES.manifest });
  const configured = manifest.config?.stage_a_paths;
  const paths = manifest.inputs?.length ? manifest.inputs.map((input) => input.path).filter((file): file is string => typeof file === 'string') : (configured ?? []);
  const mission = typeof manifest.config?.mission === 'string' ? manifest.config.mission : missionDirName;
  const stageA = options.wait ? await loadStageAInputs(paths, mission) : await loadStageAInputs(paths, mission, { wait: false });
  if (!stageA) return null;
  const corrected = new Map<string, 'pass' | 'fail' | null>();
  const correctionsFile = manifest.label_corrections?.path ?? null;
  let correctionsStamp = '';
  if (correctionsFile !== null) {
    for (const { record } of (await readJsonlLenient(correctionsFile, LabelCorrectionSchema)).rows) corrected.set(record.ticket_key, record.corrected_label);
    correctionsStamp = await stat(correctionsFile).then((info) => `${info.size}:${info.mtimeMs}`, () => 'missing');
  }
  const manifestStamp = await stat(path.join(missionDir, RUN_FILES.manifest)).then((info) => `${info.size}:${info.mtimeMs}`);
  return { manifest, mission, stageA, corrected, signature: `${manifestStamp}|${stageA.signature}|${correctionsFile ?? ''}:${correctionsStamp}` };
}

/** The Stage-A tickets of one group, from the run's input files (named in run.json), with the labels the run used. */
function findTickets(inputs: RunInputs, groupId: string): GroupTicket[] {
  return inputs.stageA.linesOfGroup(groupId).map((line) => {
    const value = line.value();
    const perImage = (line.record()?.per_image ?? value.per_image ?? {}) as Record<string, unknown>;
    const reasons = [
      ...(typeof value.gt_fail_reason_text === 'string' ? [value.gt_fail_reason_text] : []),
      ...(Array.isArray(value.gt_fail_reason_texts) ? value.gt_fail_reason_texts.filter((t): t is string => typeof t === 'string') : []),
    ];
    const ticket: GroupTicket = {
      group_id: line.groupId,
      ticket_key: line.ticketKey,
      label: line.label,
      original_label: null,
      images: Array.isArray(value.images) ? value.images.filter((v): v is string => typeof v === 'string') : [],
      summaries: line.imageKeys.map((image) => {
        const raw = String(perImage[image] ?? '');
        return { image, raw, parsed: parseStageASummary(raw) };
      }),
      gt_fail_reason_texts: reasons,
      source: { file: path.basename(line.file), line: line.line },
    };
    const correction = inputs.corrected.get(line.ticketKey);
    if (correction === undefined || correction === ticket.label) return ticket;
    // The labels the run used: the ones its corrections file replaced, with the file's kept as original_label.
    return { ...ticket, label: correction, original_label: ticket.label };
  });
}

/**
 * The rows whose ticket's Stage-A summaries hold the search text, by group: every row of a
 * group whose tickets all match, else the rows labelled like a matching ticket (as the run labelled it).
 */
function stageATextGroups(inputs: RunInputs, needle: string): TextGroupMatch {
  const groups = new Map<string, Set<number> | null>();
  for (const [groupId, labels] of inputs.stageA.searchSummaries(needle)) {
    const lines = inputs.stageA.linesOfGroup(groupId);
    if (labels.size >= lines.length) {
      groups.set(groupId, null);
      continue;
    }
    const codes = new Set<number>();
    for (const line of lines) {
      if (!labels.has(line.label)) continue;
      const used = inputs.corrected.get(line.ticketKey) ?? line.label;
      codes.add(used === 'pass' ? LABEL_CODE.pass : used === 'fail' ? LABEL_CODE.fail : LABEL_CODE.none);
    }
    groups.set(groupId, codes);
  }
  return groups;
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
  let inputs: RunInputs | null = null;
  try {
    inputs = await readRunInputs(missionDir, input.mission);
    tickets = findTickets(inputs, input.groupId);
  } catch (error) {
    ticketError = toStageBError(error, 'INPUT_NOT_FOUND').toJSON();
  }
  const needReview = (await readJsonlLenient(path.join(missionDir, RUN_FILES.needReview), NeedReviewRecordSchema)).rows.find((row) => row.record.group_id === input.groupId)?.record ?? null;
  const latest = chosen[chosen.length - 1] ?? candidates[candidates.length - 1];
  const timeline = await loadGuidanceTimeline(missionDir, missionGuidance(ctx, missionDir, input.mission));
  const guidance = latest ? { step: latest.guidance_step, state: timeline.get(latest.guidance_step) ?? null } : null;
  const { fold } = await foldedReviews(missionDir);
  const reviews = fold.live.filter((review) => review.group_id === input.groupId);
  const constraint = inputs ? rolloutConstraintOf(inputs.manifest) : null;
  let prompts: ApiOutput<'groupDetail'>['prompts'] = candidates.map(() => ({ prompt: null, error: ticketError }));
  if (inputs && constraint) {
    const history = await readJsonlLenient(path.join(missionDir, RUN_FILES.guidanceHistory), GuidanceHistoryEntrySchema);
    const sampledWith = new Map(history.rows.map(({ record }) => [record.step, record.experiences]));
    const ready = inputs;
    prompts = candidates.map((candidate) => {
      try {
        return { prompt: rebuildCandidatePrompt(ready, constraint, candidate, sampledWith, timeline), error: null };
      } catch (error) {
        return { prompt: null, error: toStageBError(error, 'INTERNAL').toJSON() };
      }
    });
  }
  const orderText = input.order?.filters.text?.trim();
  const textGroups = inputs && orderText ? stageATextGroups(inputs, orderText) : undefined;
  const neighbors = groupNeighbors(input.order?.kind === 'trajectories' ? trajectories : selections, input.groupId, input.order ?? null, fold, textGroups);
  return { groupId: input.groupId, tickets, ticketError, candidates, selections: chosen, needReview, guidance, reviews, prompts, constraint, neighbors };
}

function rolloutConstraintOf(manifest: RunManifestView): ApiOutput<'groupDetail'>['constraint'] {
  const sampler = SamplerRecordSchema.safeParse(manifest.config ?? {});
  const recorded = sampler.success ? sampler.data.sampler : undefined;
  // run.json holds the config as resolved, so both are there; the defaults only stand in for a hand-made run.json.
  const format = recorded?.format ?? 'three_line';
  const maxReasonChars = recorded?.max_reason_chars ?? 80;
  return { format, max_reason_chars: maxReasonChars, grammar: verdictGrammar(format, maxReasonChars), recorded: recorded?.format !== undefined && recorded?.max_reason_chars !== undefined };
}

/**
 * A candidate's prompt rebuilt exactly as rolloutGroup built it: buildRolloutPrompt over the
 * experiences of the candidate's guidance step (guidance_history.jsonl, what the engine sampled
 * with; a snapshot of that step when the history lacks it), the ticket's Stage-A line as ingest
 * parsed it, the decode's prompt_variant and the run's verdict format.
 */
function rebuildCandidatePrompt(
  inputs: RunInputs,
  constraint: NonNullable<ApiOutput<'groupDetail'>['constraint']>,
  candidate: TrajectoryRecord,
  sampledWith: ReadonlyMap<number, Record<string, string>>,
  timeline: ReadonlyMap<number, { experiences: Record<string, string> }>,
): CandidatePrompt {
  const warnings: CandidatePrompt['warnings'] = [];
  const line = inputs.stageA.linesOfGroup(candidate.group_id).find((entry) => entry.ticketKey === candidate.ticket_key);
  if (!line) throw new StageBError('INPUT_NOT_FOUND', `ticket ${candidate.ticket_key} is in none of the run's Stage-A files`, { field: 'ticket_key' });
  const record = line.record();
  if (!record) throw new StageBError('INPUT_INVALID_FIELD', `the Stage-A line of ${candidate.ticket_key} does not pass ingest now`, { file: path.basename(line.file), line: line.line });
  const recordedInput = inputs.manifest.inputs?.find((entry: { path?: string; sha256?: string }) => entry.path === line.file);
  const current = inputs.stageA.files.find((entry) => entry.file === line.file);
  // A run.json written by hand (fixtures) may hold no real digest: only a sha256 is compared.
  if (recordedInput?.sha256 && /^[0-9a-f]{64}$/.test(recordedInput.sha256) && current && recordedInput.sha256 !== current.sha256) warnings.push('stage_a_changed');
  let experiences = sampledWith.get(candidate.guidance_step);
  let source: CandidatePrompt['guidance_source'] = 'history';
  if (!experiences) {
    experiences = timeline.get(candidate.guidance_step)?.experiences;
    source = 'snapshot';
    warnings.push('guidance_from_snapshot');
  }
  if (!experiences) throw new StageBError('API_NOT_FOUND', `neither ${RUN_FILES.guidanceHistory} nor a snapshot holds guidance step ${candidate.guidance_step}`, { file: RUN_FILES.guidanceHistory, field: 'guidance_step' });
  if (!constraint.recorded) warnings.push('format_not_recorded');
  const ticket = { group_id: line.groupId, summaries: line.imageKeys.map((image) => ({ image, text: record.per_image[image] })) };
  const messages = promptToMessages(buildRolloutPrompt({ mission: candidate.mission, experiences, ticket, variant: candidate.decode.prompt_variant, format: constraint.format }));
  return {
    system: messages.system,
    user: messages.user,
    sha256: createHash('sha256').update(`${messages.system}\u0000${messages.user}`).digest('hex'),
    guidance_step: candidate.guidance_step,
    guidance_source: source,
    stage_a: { file: path.basename(line.file), line: line.line },
    warnings,
  };
}

/**
 * The groups before and after `groupId` in a table order (the trajectories table's filter
 * and sort), or in the run's selections in file order when none is given: the nearest rows
 * of another group on either side of the group's row.
 */
function groupNeighbors(
  index: JsonlLineIndex<unknown>,
  groupId: string,
  order: ApiParsedInput<'groupDetail'>['order'] | null,
  fold: QaReviewFold,
  textGroups: TextGroupMatch | undefined,
): ApiOutput<'groupDetail'>['neighbors'] {
  const c = index.rowColumns;
  const id = c.groupIds.idOf(groupId);
  const { review: reviewFilter, ...filters } = order?.filters ?? {};
  const query = {
    filters,
    textGroups,
    sort: order?.sort ?? { field: 'row' as const, dir: 'asc' as const },
    offset: 0,
    limit: Math.max(1, c.length),
    items: reviewFilter === undefined ? undefined : reviewedItems(fold, reviewFilter),
  };
  const rows = index.query(query).rows;
  const source = order ? 'table' : 'run';
  const at = (k: number) => c.groupId[rows[k]];
  let position = -1;
  if (id !== undefined) {
    if (order?.index !== undefined && order.index < rows.length && at(order.index) === id) position = order.index;
    else position = rows.findIndex((row) => c.groupId[row] === id);
  }
  if (position === -1) return { source, index: null, total: rows.length, previous: null, next: null };
  const neighbor = (step: 1 | -1) => {
    for (let k = position + step; k >= 0 && k < rows.length; k += step) {
      if (at(k) !== id) return { group_id: c.groupIds.values[at(k)] as string, index: k };
    }
    return null;
  };
  return { source, index: position, total: rows.length, previous: neighbor(-1), next: neighbor(1) };
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

