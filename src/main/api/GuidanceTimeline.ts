import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { GuidanceHistoryEntrySchema, GuidanceStateSchema, type GuidanceState } from '../../shared/schemas/guidance';
import type { GuidancePort, GuidanceWithHash } from '../engine/ports/GuidancePort';
import type { ReflectionLogRecord } from '../../shared/schemas/records';
import { readJsonlLenient } from '../io/jsonl';
import { RUN_FILES } from './runDirectory';

/** A guidance document is either `{mission: state}` (the file format) or a bare state. */
export function guidanceStateFromDocument(value: unknown, mission: string): GuidanceState | null {
  if (!value || typeof value !== 'object') return null;
  const direct = GuidanceStateSchema.safeParse(value);
  if (direct.success) return direct.data;
  const byMission = GuidanceStateSchema.safeParse((value as Record<string, unknown>)[mission]);
  if (byMission.success) return byMission.data;
  const values = Object.values(value as Record<string, unknown>);
  if (values.length === 1) {
    const only = GuidanceStateSchema.safeParse(values[0]);
    if (only.success) return only.data;
  }
  return null;
}

/**
 * Every guidance state of a mission run that can still be recovered, by step:
 * the snapshots and the live file (through the run's guidance port), and
 * guidance_history.jsonl (experiences the engine used, for steps whose snapshot
 * was pruned).
 */
export async function loadGuidanceTimeline(missionDir: string, guidance: GuidancePort): Promise<Map<number, GuidanceState>> {
  const timeline = new Map<number, GuidanceState>();
  const history = await readJsonlLenient(path.join(missionDir, RUN_FILES.guidanceHistory), GuidanceHistoryEntrySchema);
  for (const { record } of history.rows) {
    if (Object.keys(record.experiences).length === 0) continue;
    timeline.set(record.step, { step: record.step, updated_at: record.recorded_at, experiences: record.experiences, metadata: {} });
  }
  // Oldest first, so that of two snapshots of one step the newer one is kept.
  const readable = (await guidance.listSnapshots()).filter((info) => info.step !== null).reverse();
  const snapshots = await Promise.all(readable.map((info) => guidance.readSnapshot(info.name).catch(() => null)));
  for (const state of snapshots) if (state) timeline.set(state.step, withoutHash(state));
  const current = await guidance.read().catch(() => null);
  if (current) timeline.set(current.step, withoutHash(current));
  return timeline;
}

function withoutHash({ hash: _hash, ...state }: GuidanceWithHash): GuidanceState {
  return state;
}

/**
 * The part of a batch_update artifact (owner: engine/reflection/reflectionArtifacts.ts)
 * the timeline shows, read leniently: an artifact of an older version still shows what
 * it can instead of hiding the proposal.
 */
const ProposalPartsSchema = z.object({
  created_at: z.string().optional(),
  plan: z.object({ reflection_id: z.string() }).partial().optional(),
  proposed_guidance: z.unknown().optional(),
  preview_guidance: z.unknown().optional(),
});

/**
 * The guidance a reflection decision proposed, applied or not: the batch_update
 * artifact's proposed_guidance (queued operations on protected rules included), else its
 * preview_guidance. null when the decision never reached the batch update (no
 * operations, a generation error) or its artifact is gone. `step` is the step the
 * proposal was made on; its rule ids are the engine's, so it diffs by rule_id against
 * the guidance of that step.
 */
export async function readProposedGuidance(missionDir: string, record: ReflectionLogRecord): Promise<GuidanceState | null> {
  for (const name of record.reflection.cache_artifacts) {
    if (!path.basename(name).includes('batch_update')) continue;
    let value: unknown;
    try {
      value = JSON.parse(await readFile(path.join(missionDir, RUN_FILES.reflectionCache, path.basename(name)), 'utf8'));
    } catch {
      continue;
    }
    const parts = ProposalPartsSchema.safeParse(value);
    if (!parts.success) continue;
    // An artifact rewritten by a later reflection under the same name is not this decision's.
    if (parts.data.plan?.reflection_id && parts.data.plan.reflection_id !== record.reflection.reflection_id) continue;
    // Artifacts carry no wall-clock time (older ones did): the proposal is dated by its decision.
    const proposedAt = parts.data.created_at ?? record.created_at;
    for (const candidate of [parts.data.proposed_guidance, parts.data.preview_guidance]) {
      if (!candidate || typeof candidate !== 'object') continue;
      const state = GuidanceStateSchema.safeParse({
        step: record.reflection.guidance_step_before,
        updated_at: proposedAt,
        ...(candidate as object),
        metadata: datedRules((candidate as { metadata?: unknown }).metadata, proposedAt),
      });
      if (state.success) return state.data;
    }
  }
  return null;
}

/** A cached preview's rule metadata, each rule dated `at` unless it carries its own time. */
function datedRules(metadata: unknown, at: string): unknown {
  if (!metadata || typeof metadata !== 'object') return metadata;
  return Object.fromEntries(Object.entries(metadata).map(([key, meta]) => [key, meta && typeof meta === 'object' ? { updated_at: at, ...meta } : meta]));
}
