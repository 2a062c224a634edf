import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReflectionLogRecordSchema, type ReflectionLogRecord } from '../../shared/schemas/records';
import { readProposedGuidance } from './GuidanceTimeline';

const meta = (rule_id: string) => ({ rule_id, origin: 'reflection', reflection_id: 'refl-a', sources: [], rationale: null, updated_at: '2025-01-01T00:00:00.000Z', author: null, approved_by: null, merged_rule_ids: [] });

function record(reflectionId: string, artifacts: string[]): ReflectionLogRecord {
  return ReflectionLogRecordSchema.parse({
    epoch: 1,
    reflection: {
      reflection_id: reflectionId, mission: 'm', batch_index: 0, cycle: 0,
      proposal: { action: 'refine', summary: '', critique: '', operations: [], evidence_group_ids: [], uncertainty_note: null },
      eligible: true, ineligible_reason: 'holdout_no_verdict_change', applied: false, pre_uplift: null, post_uplift: null, uplift_probability: null,
      guidance_step_before: 4, guidance_step_after: 4, debug_info: null, cache_artifacts: artifacts, decision_detail: 'no holdout verdict changed',
    },
    created_at: '2025-01-01T00:00:00.000Z',
  });
}

describe('readProposedGuidance', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'proposed-'));
    await mkdir(path.join(dir, 'reflection_cache'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("returns a rejected decision's whole proposal (queued operations included), on the step it was proposed on, with the engine's rule ids", async () => {
    await writeFile(path.join(dir, 'reflection_cache', 'epoch1_cycle0_batch_update.json'), JSON.stringify({
      stage: 'batch_update', created_at: '2025-01-01T00:00:01.000Z', plan: { reflection_id: 'refl-a' },
      preview_guidance: { experiences: { G0: 'applied part' }, metadata: { G0: meta('R-g0g0g0') } },
      proposed_guidance: { experiences: { G0: 'whole proposal', G1: 'new' }, metadata: { G0: meta('R-g0g0g0'), G1: meta('R-new1new1') } },
    }));
    const proposed = await readProposedGuidance(dir, record('refl-a', ['reflection_cache/epoch1_cycle0_summary.json', 'reflection_cache/epoch1_cycle0_batch_update.json']));
    expect(proposed).toMatchObject({ step: 4, updated_at: '2025-01-01T00:00:01.000Z', experiences: { G0: 'whole proposal', G1: 'new' } });
    expect(proposed!.metadata.G1.rule_id).toBe('R-new1new1');
  });

  it('reads an artifact without wall-clock times (this version caches none): the proposal is dated by its decision', async () => {
    const { updated_at: _time, ...untimed } = meta('R-new1new1');
    await writeFile(path.join(dir, 'reflection_cache', 'epoch1_cycle0_batch_update.json'), JSON.stringify({
      stage: 'batch_update', plan: { reflection_id: 'refl-a' },
      proposed_guidance: { experiences: { G0: 'whole proposal', G1: 'new' }, metadata: { G1: untimed } },
    }));
    const proposed = await readProposedGuidance(dir, record('refl-a', ['reflection_cache/epoch1_cycle0_batch_update.json']));
    expect(proposed).toMatchObject({ step: 4, updated_at: '2025-01-01T00:00:00.000Z', experiences: { G0: 'whole proposal', G1: 'new' } });
    expect(proposed!.metadata.G1).toMatchObject({ rule_id: 'R-new1new1', updated_at: '2025-01-01T00:00:00.000Z' });
  });

  it('falls back to preview_guidance, and ignores an artifact another reflection wrote under the same name', async () => {
    const file = path.join(dir, 'reflection_cache', 'epoch1_cycle0_batch_update.json');
    await writeFile(file, JSON.stringify({ plan: { reflection_id: 'refl-a' }, preview_guidance: { experiences: { G0: 'preview' }, metadata: {} } }));
    expect((await readProposedGuidance(dir, record('refl-a', ['reflection_cache/epoch1_cycle0_batch_update.json'])))?.experiences).toEqual({ G0: 'preview' });
    expect(await readProposedGuidance(dir, record('refl-b', ['reflection_cache/epoch1_cycle0_batch_update.json']))).toBeNull();
  });

  it('is null without a batch_update artifact, or with a broken one', async () => {
    expect(await readProposedGuidance(dir, record('refl-a', ['reflection_cache/epoch1_cycle0_summary.json']))).toBeNull();
    await writeFile(path.join(dir, 'reflection_cache', 'epoch1_cycle0_batch_update.json'), '{torn');
    expect(await readProposedGuidance(dir, record('refl-a', ['reflection_cache/epoch1_cycle0_batch_update.json']))).toBeNull();
    expect(await readProposedGuidance(dir, record('refl-a', ['reflection_cache/missing_batch_update.json']))).toBeNull();
  });
});
