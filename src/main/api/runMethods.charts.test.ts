import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChartsOutput } from '../../shared/api/contract';
import type { ReflectionLogRecord } from '../../shared/schemas/records';
import type { RunEvent } from '../../shared/schemas/telemetry';
import { FsArtifactStore } from '../io/FsArtifactStore';
import { parseRunConfigText } from '../io/loadRunConfig';
import { createWorkbenchApi, type WorkbenchApi } from './createWorkbenchApi';
import { dispatchApiCall } from './dispatchApiCall';
import { writeFixtureRun } from './fixtureRun';
import { createNodeEngineLauncher } from './nodeEngineLauncher';

const MISSION = 'BBU接地线检查';
let base: string;
let workbench: WorkbenchApi;

function decision(batch: number, applied: boolean, measured: boolean): ReflectionLogRecord {
  return {
    epoch: 0,
    reflection: {
      reflection_id: `refl-${batch}`, mission: MISSION, batch_index: batch, cycle: batch,
      proposal: { action: 'refine', summary: '', critique: '', operations: [], evidence_group_ids: [], uncertainty_note: null },
      eligible: measured, ineligible_reason: measured ? (applied ? null : 'holdout_no_uplift') : 'no_operations', applied,
      pre_uplift: measured ? { label_match_rate: 0.5, false_release_rate: 0.25, n: 16 } : null,
      post_uplift: measured ? { label_match_rate: applied ? 0.625 : 0.4375, false_release_rate: 0.125, n: 16 } : null,
      uplift_probability: measured ? 0.8 : null, guidance_step_before: 0, guidance_step_after: applied ? 1 : 0,
      debug_info: null, cache_artifacts: [], decision_detail: null, review_items: [],
    },
    created_at: '2025-01-01T00:00:00.000Z',
  };
}

const progress = (batch: number, tps: number): RunEvent => ({
  type: 'progress', ts: '2025-01-01T00:00:00.000Z', epoch: 0, epochs: 1, batch_index: batch, batches: 2,
  groups_done: batch, groups_total: 2, epoch_groups_done: batch, epoch_groups_total: 2, tokens_per_second: tps, eta_ms: null,
});

beforeAll(async () => {
  base = await realpath(await mkdtemp(path.join(tmpdir(), 'charts-api-')));
  const runsRoot = path.join(base, 'runs');
  const dir = await writeFixtureRun(runsRoot, { runName: 'run-a', mission: MISSION, groups: 16, candidates: 2, epochs: 1 });
  await writeFixtureRun(runsRoot, { runName: 'bare', mission: MISSION, groups: 4, candidates: 1, epochs: 1 });
  const store = new FsArtifactStore(dir);
  for (const record of [decision(0, true, true), decision(1, false, false), decision(1, false, true)]) await store.appendReflection(record);
  for (const event of [progress(0, 10), progress(0, 12.5), progress(1, 20)]) await store.appendEvent(event);
  workbench = createWorkbenchApi({
    runsRoot,
    engineLauncher: createNodeEngineLauncher({ stagebBin: path.join(base, 'none.cjs') }),
    parseConfig: parseRunConfigText,
  });
});
afterAll(async () => {
  workbench.jobs.shutdown();
  await rm(base, { recursive: true, force: true });
});

async function charts(runId: string): Promise<ChartsOutput> {
  const envelope = await dispatchApiCall(workbench.handlers, 'charts', { runId, mission: MISSION });
  if (!envelope.ok) throw new Error(JSON.stringify(envelope.error));
  return envelope.result as ChartsOutput;
}

describe('charts', () => {
  it('gives the holdout before and with each plan the gate measured, from reflection.jsonl', async () => {
    const { holdout } = await charts('run-a');
    expect(holdout.map((d) => [d.reflection_id, d.applied])).toEqual([['refl-0', true], ['refl-1', false]]);
    expect(holdout[0]).toMatchObject({ before: { label_match_rate: 0.5, false_release_rate: 0.25, n: 16 }, after: { label_match_rate: 0.625 }, guidance_step_after: 1 });
    expect(holdout[1]).toMatchObject({ ineligible_reason: 'holdout_no_uplift', after: { label_match_rate: 0.4375 } });
  });

  it('gives tokens/s at the end of each batch, from the last progress event of the batch', async () => {
    const { throughput } = await charts('run-a');
    expect(throughput).toEqual([
      { epoch: 0, batch_index: 0, tokens_per_second: 12.5 },
      { epoch: 0, batch_index: 1, tokens_per_second: 20 },
    ]);
  });

  it('gives empty series for a run without reflection.jsonl or events.jsonl', async () => {
    const result = await charts('bare');
    expect(result.holdout).toEqual([]);
    expect(result.throughput).toEqual([]);
    expect(result.guidanceSizes.length).toBeGreaterThan(0);
  });
});
