import path from 'node:path';
import { toStageBError } from '../../shared/errors';
import type { ApiOutput, ApiParsedInput, RunRef } from '../../shared/api/contract';
import { compareRows, compareRuns, finalSelections } from '../../shared/metrics/compareRuns';
import { changedGroups, pairFinalSelections, sliceBreakdown, stageACategories, type CategoriesOf } from '../../shared/metrics/compareBreakdown';
import { parseStageASummary } from '../../shared/stageASummary';
import type { SelectionRecord } from '../../shared/schemas/records';
import { RunManifestViewSchema } from '../../shared/schemas/telemetry';
import { loadRunSelections } from '../distill/loadRunSelections';
import { ingestStageA } from '../io/ingestStageA';
import { readJsonFile } from '../io/readJsonFile';
import type { ApiContext } from './ApiContext';
import { RUN_FILES, resolveMissionDir } from './runDirectory';

type Side = ApiParsedInput<'compare'>['a'];

const sideName = (side: Side) => `${side.runId}/${side.mission}${side.step === null ? '' : ` @ step ${side.step}`}`;

/** A side's selections: the mission's selections.jsonl as `stageb compare` loads it, only those of one step when asked. */
async function sideSelections(ctx: ApiContext, side: Side): Promise<{ missionDir: string; selections: SelectionRecord[] }> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, side.runId, side.mission);
  const { selections } = await loadRunSelections(missionDir);
  return { missionDir, selections: side.step === null ? [...selections] : selections.filter((row) => row.guidance_step === side.step) };
}

/** ticket_key (or group_id) → categories, from the Stage-A inputs run.json names. */
async function readCategories(missionDir: string, mission: string): Promise<Map<string, string[]>> {
  const manifest = await readJsonFile(path.join(missionDir, RUN_FILES.manifest), RunManifestViewSchema);
  const paths = manifest?.inputs?.length ? manifest.inputs.map((input) => input.path) : (manifest?.config?.stage_a_paths ?? []);
  const { tickets } = await ingestStageA({ paths, mission });
  const categories = new Map<string, string[]>();
  for (const ticket of tickets) {
    const found = stageACategories(ticket.summaries.map((summary) => parseStageASummary(summary.text)));
    categories.set(ticket.ticket_key, found);
    if (!categories.has(ticket.group_id)) categories.set(ticket.group_id, found);
  }
  return categories;
}

function describe(a: Side, b: Side, groups: { a: number; b: number; common: number }): string {
  const sameRun = a.runId === b.runId && a.mission === b.mission;
  const paired = groups.common === 0
    ? 'No group was judged by both, so no verdict can be compared ticket by ticket: the rates compare different groups.'
    : `${groups.common} groups were judged by both: the changed verdicts and the "groups judged by both" rates are over them.`;
  if (sameRun && a.step !== null && b.step !== null) {
    return [
      `A and B are the selections run ${a.runId} (${a.mission}) sampled with guidance step ${a.step} and with step ${b.step}; a group counts at a step where that step judged it (its last epoch there).`,
      `${groups.a} groups at step ${a.step}, ${groups.b} at step ${b.step}.`,
      paired,
    ].join(' ');
  }
  return [
    'Each group counts with its selection from its last epoch, as `stageb compare` counts it; each side\'s rates are over its own groups.',
    `${groups.a} groups in A, ${groups.b} in B.`,
    paired,
  ].join(' ');
}

export async function compare(ctx: ApiContext, input: ApiParsedInput<'compare'>): Promise<ApiOutput<'compare'>> {
  const [a, b] = await Promise.all([sideSelections(ctx, input.a), sideSelections(ctx, input.b)]);
  const comparison = compareRuns({ name: sideName(input.a), selections: a.selections }, { name: sideName(input.b), selections: b.selections });

  let categoriesOf: CategoriesOf | null = null;
  let slicesError = null;
  try {
    const maps = await Promise.all(
      input.a.runId === input.b.runId && input.a.mission === input.b.mission
        ? [readCategories(a.missionDir, input.a.mission)]
        : [readCategories(a.missionDir, input.a.mission), readCategories(b.missionDir, input.b.mission)],
    );
    categoriesOf = (key) => {
      for (const map of maps) {
        const found = map.get(key) ?? map.get(key.slice(0, Math.max(0, key.lastIndexOf('::'))));
        if (found) return found;
      }
      return [];
    };
  } catch (error) {
    slicesError = toStageBError(error, 'INPUT_NOT_FOUND').toJSON();
  }

  const pairs = pairFinalSelections(a.selections, b.selections);
  const changed = changedGroups(a.selections, b.selections, categoriesOf ?? undefined);
  const side = (ref: Side) => ({ runId: ref.runId, mission: ref.mission, step: ref.step, name: sideName(ref) });
  return {
    sides: { a: side(input.a), b: side(input.b) },
    comparison,
    mission_mismatch: input.a.mission === input.b.mission ? null : { a: input.a.mission, b: input.b.mission },
    common: { groups: pairs.length, row: compareRows(pairs.map((pair) => pair.a), pairs.map((pair) => pair.b)) },
    changed: { total: changed.length, rows: changed.slice(0, input.changedLimit) },
    slices: sliceBreakdown(a.selections, b.selections, categoriesOf),
    slices_error: slicesError,
    note: describe(input.a, input.b, { a: finalSelections(a.selections).length, b: finalSelections(b.selections).length, common: pairs.length }),
  };
}

export async function runSteps(ctx: ApiContext, input: RunRef): Promise<ApiOutput<'runSteps'>> {
  const missionDir = await resolveMissionDir(ctx.runsRoot, input.runId, input.mission);
  const { selections } = await loadRunSelections(missionDir);
  const byStep = new Map<number, { groups: Set<string>; epochs: Set<number> }>();
  for (const row of selections) {
    const entry = byStep.get(row.guidance_step) ?? { groups: new Set<string>(), epochs: new Set<number>() };
    entry.groups.add(`${row.mission}\u0000${row.ticket_key}`);
    entry.epochs.add(row.epoch);
    byStep.set(row.guidance_step, entry);
  }
  return {
    steps: [...byStep.entries()]
      .sort(([x], [y]) => x - y)
      .map(([step, entry]) => ({ step, groups: entry.groups.size, epochs: [...entry.epochs].sort((x, y) => x - y) })),
  };
}
