import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GuidanceRepository } from '../../io/GuidanceRepository';
import type { StoredGuidanceState } from '../../../shared/schemas/guidance';
import type { ReflectionOperation } from '../../../shared/schemas/records';
import { buildBatchUpdate } from './batchUpdateStage';
import { writeReflectionPlan } from './writeReflectionPlan';

const MISSION = 'BBU接地线检查';
const initial: StoredGuidanceState = {
  step: 0,
  updated_at: '2025-01-01T00:00:00.000Z',
  experiences: { G0: '检查接地线是否连接到接地排。', G1: '接地线松动判为不通过。', S1: '没有照片的工单不得放行。' },
  metadata: {},
};
const OPEN = { mission_checklist: false, person_authored: false, rule_ids: [] };

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'reflection-write-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

function repo(): GuidanceRepository {
  return new GuidanceRepository({ path: path.join(dir, 'guidance.json'), mission: MISSION, snapshotDir: path.join(dir, 'snapshots') });
}

/** The product's apply path: the batch-update stage's preview of the plan on what is stored now, written on that step. */
async function apply(store: GuidanceRepository, operations: ReflectionOperation[], reflectionId: string, baseStep?: number) {
  const current = await store.read();
  const update = buildBatchUpdate({ current, operations, uncertaintyNote: null, reflectionId, now: '2025-01-02T00:00:00.000Z', groupIdByTicketKey: new Map(), protectedRules: OPEN });
  return { update, write: await writeReflectionPlan(store, update.preview_guidance, baseStep ?? current.step, { reflection_id: reflectionId, epoch: 0, batch_index: 0 }) };
}

describe('writeReflectionPlan', () => {
  it('writes a compacted plan once as the reflection; the same write on its old step is a conflict', async () => {
    const store = repo();
    await store.initialize({ ...initial, experiences: { ...initial.experiences, G5: 'old rule', G9: 'other rule' } });
    const { update, write } = await apply(store, [
      { op: 'remove', key: 'G5', evidence: [] },
      { op: 'add', key: 'NEW', text: '  接地排锈蚀需整改。 ', evidence: ['g1::fail'], rationale: 'r' },
    ], 'refl-1');
    expect(write.status).toBe('applied');
    const stored = await store.read();
    expect(stored.step).toBe(1);
    expect(stored.experiences).toEqual({ G0: initial.experiences.G0, G1: initial.experiences.G1, G2: 'other rule', G3: '接地排锈蚀需整改。', S1: initial.experiences.S1 });
    expect(stored.metadata.G3).toMatchObject({ reflection_id: 'refl-1', sources: ['g1::fail'], origin: 'reflection' });
    expect(stored.written_by).toMatchObject({ kind: 'reflection', author: null, reflection_id: 'refl-1', step: 1 });
    expect(update.key_map).toMatchObject({ G9: 'G2', G10: 'G3' });

    const replay = await writeReflectionPlan(store, update.preview_guidance, 0, { reflection_id: 'refl-1', epoch: 0, batch_index: 0 });
    expect(replay).toMatchObject({ status: 'step_conflict', error: { code: 'GUIDANCE_STEP_CONFLICT' } });
    expect((await store.read()).step).toBe(1);
    expect((await store.listSnapshots()).length).toBe(1);
  });

  it('reports a preview the repository refuses as a rejected operation and writes nothing', async () => {
    const store = repo();
    await store.initialize(initial);
    const current = await store.read();
    const write = await writeReflectionPlan(store, { experiences: { G1: current.experiences.G1, S1: current.experiences.S1 }, metadata: {} }, 0, { reflection_id: 'refl-x', epoch: 0, batch_index: 0 });
    expect(write).toMatchObject({ status: 'rejected_operation', error: { code: 'GUIDANCE_REJECTED_OPERATION', location: { field: `${MISSION}.experiences.G0` } } });
    expect((await store.read()).step).toBe(0);
  });

  it('keeps a hand-formatted G0 checklist as written', async () => {
    const store = repo();
    const checklist = '检查项：\n  1. 接地线连接\n\n  2. 标签/铭牌清晰';
    await store.initialize({ ...initial, experiences: { ...initial.experiences, G0: checklist } });
    const { write } = await apply(store, [{ op: 'add', key: 'NEW', text: '接地排锈蚀需整改。', evidence: [] }], 'r');
    expect(write.status).toBe('applied');
    const stored = await store.read();
    expect(stored.experiences.G0).toBe(checklist);
    expect(stored.experiences.G2).toBe('接地排锈蚀需整改。');
  });
});
