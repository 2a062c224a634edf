import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { toStageBError, type StageBError } from '../../shared/errors';
import type { ApiOutput, ApiParsedInput, GuidanceWriteResult } from '../../shared/api/contract';
import { ReflectionLogRecordSchema, type ReflectionLogRecord } from '../../shared/schemas/records';
import type { GuidanceState } from '../../shared/schemas/guidance';
import type { GuidanceEdit, GuidancePort } from '../engine/ports/GuidancePort';
import type { ApiContext } from './ApiContext';
import { guidanceStateFromDocument, loadGuidanceTimeline, readProposedGuidance } from './GuidanceTimeline';
import { readJsonlLenient } from '../io/jsonl';
import { RUN_FILES, resolveMissionDir, resolveMissionFile } from './runDirectory';

/** The guidance port of the mission run in `missionDir` (resolved inside the runs root). */
export function missionGuidance(ctx: ApiContext, missionDir: string, mission: string): GuidancePort {
  return ctx.openGuidance({ missionDir, mission, retention: ctx.snapshotRetention });
}

/** The guidance port of a mission run, for the API methods that read or change guidance. */
export async function guidanceFor(ctx: ApiContext, runId: string, mission: string): Promise<{ missionDir: string; guidance: GuidancePort }> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, runId, mission);
  return { missionDir, guidance: missionGuidance(ctx, missionDir, mission) };
}

/**
 * A snapshot name from a request, refused (API_FORBIDDEN / API_INVALID_REQUEST) unless it names a
 * plain entry of the run's snapshot folder that stays inside it after symlinks: the
 * transport's confinement, before the guidance port reads it.
 */
async function confinedSnapshotName(missionDir: string, name: string, field: string): Promise<string> {
  await resolveMissionFile(missionDir, RUN_FILES.snapshots, name, field);
  return name;
}

export async function listSnapshots(ctx: ApiContext, input: ApiParsedInput<'listSnapshots'>): Promise<ApiOutput<'listSnapshots'>> {
  const { guidance } = await guidanceFor(ctx, input.runId, input.mission);
  return { snapshots: await guidance.listSnapshots() };
}

export async function readSnapshot(ctx: ApiContext, input: ApiParsedInput<'readSnapshot'>): Promise<ApiOutput<'readSnapshot'>> {
  const { missionDir, guidance } = await guidanceFor(ctx, input.runId, input.mission);
  const { hash: _hash, ...state } = await guidance.readSnapshot(await confinedSnapshotName(missionDir, input.name, 'name'));
  return { name: input.name, state };
}

export async function guidanceRead(ctx: ApiContext, input: ApiParsedInput<'guidanceRead'>): Promise<ApiOutput<'guidanceRead'>> {
  const { guidance } = await guidanceFor(ctx, input.runId, input.mission);
  const { hash, ...state } = await guidance.read();
  return { state, hash };
}

async function conflictResult(
  missionDir: string,
  mission: string,
  guidance: GuidancePort,
  baseStep: number,
  mine: GuidanceEdit,
  error: StageBError,
): Promise<GuidanceWriteResult> {
  const details = (error.details ?? {}) as { current?: unknown };
  const theirs = guidanceStateFromDocument(details.current, mission) ?? (await guidance.read());
  const base = (await loadGuidanceTimeline(missionDir, guidance)).get(baseStep) ?? null;
  return { status: 'conflict', base, theirs, mine, error: error.toJSON() };
}

export async function guidanceSave(ctx: ApiContext, input: ApiParsedInput<'guidanceSave'>): Promise<ApiOutput<'guidanceSave'>> {
  const { missionDir, guidance } = await guidanceFor(ctx, input.runId, input.mission);
  const mine: GuidanceEdit = { experiences: input.experiences, metadata: input.metadata };
  try {
    // Rule identity and authorship of the changed rules: GuidanceRepository (carryRuleMetadata).
    const { hash, ...state } = await guidance.write(mine, input.baseStep, { expectedHash: input.baseHash, by: { kind: input.kind, author: input.author } });
    return { status: 'ok', state, hash };
  } catch (error) {
    const typed = toStageBError(error);
    if (typed.code !== 'GUIDANCE_STEP_CONFLICT') throw typed;
    return conflictResult(missionDir, input.mission, guidance, input.baseStep, mine, typed);
  }
}

export async function guidanceRollback(ctx: ApiContext, input: ApiParsedInput<'guidanceRollback'>): Promise<ApiOutput<'guidanceRollback'>> {
  const { missionDir, guidance } = await guidanceFor(ctx, input.runId, input.mission);
  const target = await guidance.readSnapshot(await confinedSnapshotName(missionDir, input.snapshot, 'snapshot'));
  try {
    const { hash, ...state } = await guidance.rollback(input.snapshot, input.baseStep, { expectedHash: input.baseHash, author: input.author });
    return { status: 'ok', state, hash };
  } catch (error) {
    const typed = toStageBError(error);
    if (typed.code !== 'GUIDANCE_STEP_CONFLICT') throw typed;
    return conflictResult(missionDir, input.mission, guidance, input.baseStep, { experiences: target.experiences, metadata: target.metadata }, typed);
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
  const { missionDir, guidance } = await guidanceFor(ctx, input.runId, input.mission);
  const log = await readJsonlLenient(path.join(missionDir, RUN_FILES.reflections), ReflectionLogRecordSchema);
  const selected = input.appliedOnly ? log.rows.filter((row) => row.record.reflection.applied) : log.rows;
  const page = selected.slice(input.offset, input.offset + input.limit);
  const timeline = page.length > 0 ? await loadGuidanceTimeline(missionDir, guidance) : new Map<number, GuidanceState>();
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
