import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { StageBError, toStageBError } from '../../shared/errors';
import type { ApiOutput, ApiParsedInput, GuidanceWriteResult } from '../../shared/api/contract';
import { ReflectionLogRecordSchema, type ReflectionLogRecord } from '../../shared/schemas/records';
import type { GuidanceState, StoredExperienceMeta } from '../../shared/schemas/guidance';
import type { ApiContext, GuidanceWriter } from './ApiContext';
import { guidanceStateFromDocument, listSnapshotInfos, loadGuidanceTimeline, readGuidanceDocument, readProposedGuidance } from './GuidanceTimeline';
import { readJsonlLenient } from '../io/jsonl';
import { RUN_FILES, resolveMissionDir, resolveMissionFile } from './runDirectory';

/** The guidance repository of a mission run, for the API methods that write guidance. */
export async function guidanceWriterFor(ctx: ApiContext, runId: string, mission: string): Promise<{ missionDir: string; writer: GuidanceWriter }> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, runId, mission);
  const writer = ctx.guidanceWriter({
    path: path.join(missionDir, RUN_FILES.guidance),
    mission,
    snapshotDir: path.join(missionDir, RUN_FILES.snapshots),
    retention: ctx.snapshotRetention,
  });
  return { missionDir, writer };
}

export async function listSnapshots(ctx: ApiContext, input: ApiParsedInput<'listSnapshots'>): Promise<ApiOutput<'listSnapshots'>> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, input.runId, input.mission);
  return { snapshots: await listSnapshotInfos(missionDir, input.mission) };
}

export async function readSnapshot(ctx: ApiContext, input: ApiParsedInput<'readSnapshot'>): Promise<ApiOutput<'readSnapshot'>> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, input.runId, input.mission);
  const file = await resolveMissionFile(missionDir, RUN_FILES.snapshots, input.name, 'name');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new StageBError('API_NOT_FOUND', `no snapshot ${input.name}`, { file: `snapshots/${input.name}` });
  }
  let state: GuidanceState | null = null;
  try {
    state = guidanceStateFromDocument(JSON.parse(text), input.mission);
  } catch {
    state = null;
  }
  if (!state) throw new StageBError('GUIDANCE_INVALID', 'snapshot is not a guidance document', { file: `snapshots/${input.name}` });
  return { name: input.name, state };
}

export async function guidanceRead(ctx: ApiContext, input: ApiParsedInput<'guidanceRead'>): Promise<ApiOutput<'guidanceRead'>> {
  const { writer } = await guidanceWriterFor(ctx, input.runId, input.mission);
  const { hash, ...state } = await writer.read();
  return { state, hash };
}

async function conflictResult(
  ctx: ApiContext,
  missionDir: string,
  mission: string,
  writer: GuidanceWriter,
  baseStep: number,
  mine: { experiences: Record<string, string>; metadata?: Record<string, StoredExperienceMeta> },
  error: StageBError,
): Promise<GuidanceWriteResult> {
  const details = (error.details ?? {}) as { current?: unknown };
  const theirs = guidanceStateFromDocument(details.current, mission) ?? (await writer.read());
  const base = (await loadGuidanceTimeline(missionDir, mission)).get(baseStep) ?? null;
  return { status: 'conflict', base, theirs, mine, error: error.toJSON() };
}

export async function guidanceSave(ctx: ApiContext, input: ApiParsedInput<'guidanceSave'>): Promise<ApiOutput<'guidanceSave'>> {
  const { missionDir, writer } = await guidanceWriterFor(ctx, input.runId, input.mission);
  try {
    // Rule identity and authorship of the changed rules: GuidanceRepository (carryRuleMetadata).
    const { hash, ...state } = await writer.write({ experiences: input.experiences, metadata: input.metadata }, input.baseStep, {
      expectedHash: input.baseHash,
      by: { kind: input.kind, author: input.author },
    });
    return { status: 'ok', state, hash };
  } catch (error) {
    const typed = toStageBError(error);
    if (typed.code !== 'GUIDANCE_STEP_CONFLICT') throw typed;
    return conflictResult(ctx, missionDir, input.mission, writer, input.baseStep, { experiences: input.experiences, metadata: input.metadata }, typed);
  }
}

export async function guidanceRollback(ctx: ApiContext, input: ApiParsedInput<'guidanceRollback'>): Promise<ApiOutput<'guidanceRollback'>> {
  const { missionDir, writer } = await guidanceWriterFor(ctx, input.runId, input.mission);
  const file = await resolveMissionFile(missionDir, RUN_FILES.snapshots, input.snapshot, 'snapshot');
  const target = await readGuidanceDocument(file, input.mission);
  if (!target) throw new StageBError('API_NOT_FOUND', `no readable snapshot ${input.snapshot}`, { file: `snapshots/${input.snapshot}` });
  try {
    const { hash, ...state } = await writer.rollback(input.snapshot, input.baseStep, { expectedHash: input.baseHash, author: input.author });
    return { status: 'ok', state, hash };
  } catch (error) {
    const typed = toStageBError(error);
    if (typed.code !== 'GUIDANCE_STEP_CONFLICT') throw typed;
    return conflictResult(ctx, missionDir, input.mission, writer, input.baseStep, { experiences: target.experiences, metadata: target.metadata }, typed);
  }
}

/** The guidance a cached batch_update artifact previews (its shape is the engine's; accept the usual spellings). */
async function previewFromCache(missionDir: string, record: ReflectionLogRecord, mission: string): Promise<GuidanceState | null> {
  for (const name of record.reflection.cache_artifacts) {
    if (!name.includes('batch_update')) continue;
    const base = path.basename(name);
    let value: unknown;
    try {
      value = JSON.parse(await readFile(path.join(missionDir, RUN_FILES.reflectionCache, base), 'utf8'));
    } catch {
      continue;
    }
    const object = (value ?? {}) as Record<string, unknown>;
    for (const candidate of [object, object.preview, object.guidance, object.guidance_after]) {
      const state = guidanceStateFromDocument(candidate, mission);
      if (state) return state;
      const experiences = (candidate as { experiences?: unknown } | undefined)?.experiences;
      if (experiences && typeof experiences === 'object' && Object.keys(experiences).length > 0) {
        return { step: record.reflection.guidance_step_after, updated_at: record.created_at, experiences: experiences as Record<string, string>, metadata: {} };
      }
    }
  }
  return null;
}

export async function reflectionLog(ctx: ApiContext, input: ApiParsedInput<'reflectionLog'>): Promise<ApiOutput<'reflectionLog'>> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, input.runId, input.mission);
  const log = await readJsonlLenient(path.join(missionDir, RUN_FILES.reflections), ReflectionLogRecordSchema);
  const selected = input.appliedOnly ? log.rows.filter((row) => row.record.reflection.applied) : log.rows;
  const page = selected.slice(input.offset, input.offset + input.limit);
  const timeline = page.length > 0 ? await loadGuidanceTimeline(missionDir, input.mission) : new Map<number, GuidanceState>();
  const rows = await Promise.all(
    page.map(async ({ line, record }) => {
      // Every decision, applied or not, shows what it proposed against the step it was proposed on.
      const proposed_guidance = await readProposedGuidance(missionDir, record);
      const proposed_base = proposed_guidance ? (timeline.get(record.reflection.guidance_step_before) ?? null) : null;
      if (!record.reflection.applied) return { line, record, guidance_before: null, guidance_after: null, proposed_guidance, proposed_base };
      const before = timeline.get(record.reflection.guidance_step_before) ?? null;
      const after = timeline.get(record.reflection.guidance_step_after) ?? (await previewFromCache(missionDir, record, input.mission));
      return { line, record, guidance_before: before, guidance_after: after, proposed_guidance, proposed_base };
    }),
  );
  return { total: selected.length, offset: input.offset, invalid: log.invalid, rows };
}
