import { apiCalls } from '../../../test/helpers/apiCalls';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunConfigSchema } from '../../shared/schemas/runConfig';
import type { GroupLabel } from '../../shared/verdict';
import { FsArtifactStore } from '../io/FsArtifactStore';
import { GuidanceRepository } from '../io/GuidanceRepository';
import { parseRunConfigText } from '../io/loadRunConfig';
import { reflectOnBatch } from '../engine/reflection/reflectOnBatch';
import type { HoldoutRow } from '../engine/reflection/reflectionArtifacts';
import { ScriptedBackend, TEST_MISSION, makeGroup, makeTicket } from '../engine/reflection/reflectionTestData';
import { createWorkbenchApi, type WorkbenchApi } from './createWorkbenchApi';
import { dispatchApiCall } from './dispatchApiCall';

const REF = { runId: 'run', mission: TEST_MISSION };
const ANNOTATOR_RULE = '接地线应走线整齐并绑扎固定';
const PROPOSED = '接地线端子必须紧固且无锈蚀，否则判定不通过';

let root: string;
let missionDir: string;
let repo: GuidanceRepository;
let api: WorkbenchApi;

const { ok } = apiCalls(() => api);

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'stageb-queue-'));
  missionDir = path.join(root, 'run', TEST_MISSION);
  await mkdir(missionDir, { recursive: true });
  repo = new GuidanceRepository({ path: path.join(missionDir, 'guidance.json'), mission: TEST_MISSION });
  await repo.initialize({ step: 0, updated_at: '2026-01-01T00:00:00.000Z', experiences: { G0: '检查BBU接地线是否连接到接地排', G1: '接地线应走线整齐', G2: '接地线颜色应为黄绿色' } });
  api = createWorkbenchApi({
    runsRoot: root,
    engineLauncher: () => {
      throw new Error('no engine in this test');
    },
    parseConfig: (text, label) => parseRunConfigText(text, label),
  });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Reflection on one mismatched batch whose critique (the scripted double) modifies G1. */
async function reflectModifyingG1(): Promise<void> {
  const specs = [
    { group: 'g1', label: 'fail' as GroupLabel, verdicts: ['pass', 'pass', 'fail'] as GroupLabel[] },
    { group: 'g2', label: 'pass' as GroupLabel, verdicts: ['pass', 'pass', 'pass'] as GroupLabel[] },
  ];
  const groups = specs.map(makeGroup);
  const config = RunConfigSchema.parse({ run_name: 'run', mission: TEST_MISSION, stage_a_paths: ['x'], guidance: { path: 'g' }, model: { backend: 'llama-cpp', path: 'm' } });
  const holdout = async (): Promise<HoldoutRow[]> => [{ ticket_key: 'h1::fail', label: 'fail', verdict: 'pass' }];
  const outcome = await reflectOnBatch({
    backend: new ScriptedBackend([JSON.stringify({ operations: [{ op: 'modify', key: 'G1', text: PROPOSED, rationale: '端子松动被放行', evidence: ['g1::fail'] }], uncertainty_note: null })]),
    store: new FsArtifactStore(missionDir),
    guidance: repo,
    mission: TEST_MISSION,
    epoch: 0,
    batchIndex: 3,
    cycle: 3,
    selections: groups.map((g) => g.selection),
    trajectories: groups.flatMap((g) => g.candidates),
    tickets: specs.map((s) => makeTicket(s.group, s.label)),
    config: config.reflection,
    seed: 17,
    evaluateHoldout: holdout,
    needReviewKeys: new Set(),
    guidanceMaxTokens: null,
    now: () => '2026-01-01T01:00:00.000Z',
  });
  expect(outcome.record.reflection.ineligible_reason).toBe('queued_for_review');
}

describe('review queue', () => {
  it('an annotator\'s rule: reflection queues its change, the rule stays; accept writes it through compare-and-swap as approved', async () => {
    const saved = await ok('guidanceSave', { ...REF, baseStep: 0, experiences: { G0: '检查BBU接地线是否连接到接地排', G1: ANNOTATOR_RULE, G2: '接地线颜色应为黄绿色' }, author: 'Li Wei' });
    expect(saved.state.metadata.G1).toMatchObject({ origin: 'annotator', author: 'Li Wei' });
    const ruleId = saved.state.metadata.G1.rule_id;
    await reflectModifyingG1();
    expect((await repo.read()).experiences.G1).toBe(ANNOTATOR_RULE);

    const listed = await ok('reviewQueue', REF);
    expect(listed.pending).toBe(1);
    const [item] = listed.items;
    expect(item).toMatchObject({ status: 'pending', batch_index: 3, operation: { op: 'modify', key: 'G1', text: PROPOSED }, rule_ids: { G1: ruleId } });
    expect(item.now).toEqual([{ rule_id: ruleId, key: 'G1', text: ANNOTATOR_RULE }]);

    // The guidance changes before anyone decides: an annotator inserts a rule above it (G1 → G2); the item still finds it by rule_id.
    const current = await repo.read();
    await repo.write({ experiences: { G0: current.experiences.G0, G1: '接地排应无锈蚀', G2: ANNOTATOR_RULE } }, current.step, { by: { kind: 'save', author: 'Zhang' } });
    const moved = await repo.read();
    expect(moved.metadata.G2.rule_id).toBe(ruleId);

    const accepted = await ok('reviewAccept', { ...REF, itemId: item.item_id, author: 'Wang Fang' });
    expect(accepted.state.step).toBe(moved.step + 1);
    expect(accepted.state.experiences.G2).toBe(PROPOSED);
    expect(accepted.state.experiences.G1).toBe('接地排应无锈蚀');
    expect(accepted.state.metadata.G2).toMatchObject({ rule_id: ruleId, origin: 'reflection', reflection_id: item.reflection_id, approved_by: 'Wang Fang', author: null });
    expect(accepted.state.written_by).toMatchObject({ kind: 'approval', author: 'Wang Fang', review_item_id: item.item_id, reflection_id: item.reflection_id, batch_index: 3 });
    expect(accepted.item).toMatchObject({ status: 'accepted', decision: { by: 'Wang Fang', guidance_step_after: accepted.state.step } });

    const again = await dispatchApiCall(api.handlers, 'reviewAccept', { ...REF, itemId: item.item_id, author: 'Wang Fang' });
    expect(again.ok).toBe(false);
    expect(!again.ok && again.error.message).toMatch(/already accepted by Wang Fang/);
    expect((await ok('reviewQueue', { ...REF, status: 'pending' })).items).toEqual([]);
  });

  it('dismiss records who and why and leaves the guidance alone; an accept for a rule that is gone is refused', async () => {
    await ok('guidanceSave', { ...REF, baseStep: 0, experiences: { G0: '检查BBU接地线是否连接到接地排', G1: ANNOTATOR_RULE, G2: '接地线颜色应为黄绿色' }, author: 'Li Wei' });
    await reflectModifyingG1();
    await reflectModifyingG1();
    const [item] = (await ok('reviewQueue', REF)).items;
    const before = await repo.read();
    const dismissed = await ok('reviewDismiss', { ...REF, itemId: item.item_id, author: 'Li Wei', note: '我的规则更准确' });
    expect(dismissed.item).toMatchObject({ status: 'dismissed', decision: { by: 'Li Wei', note: '我的规则更准确', guidance_step_after: null } });
    expect((await repo.read()).step).toBe(before.step);

    // A second reflection's item (other cycle) whose rule has since been deleted.
    await writeSecondItem();
    const pending = (await ok('reviewQueue', { ...REF, status: 'pending' })).items;
    expect(pending).toHaveLength(1);
    const now = await repo.read();
    await repo.write({ experiences: { G0: now.experiences.G0, G1: '接地线颜色应为黄绿色' } }, now.step, { by: { kind: 'save', author: 'Li Wei' } });
    const refused = await dispatchApiCall(api.handlers, 'reviewAccept', { ...REF, itemId: pending[0].item_id, author: 'Li Wei' });
    expect(!refused.ok && refused.error).toMatchObject({ code: 'GUIDANCE_REJECTED_OPERATION', message: expect.stringMatching(/no longer exists; dismiss/) });
  });
});

async function writeSecondItem(): Promise<void> {
  const { appendReviewQueue, readReviewQueue } = await import('../io/reviewQueueFile');
  const [first] = await readReviewQueue(missionDir);
  if (first.type !== 'proposal') throw new Error('expected a proposal');
  await appendReviewQueue(missionDir, [{ ...first, item_id: 'rq-second', reflection_id: 'refl-other' }]);
}
