import { describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../../../shared/api/transport';
import { GuidanceStateSchema, type GuidanceState, type GuidanceWriteBy } from '../../../shared/schemas/guidance';
import { carryRuleMetadata } from '../../../shared/guidance/carryRuleMetadata';
import { latestDraft, memoryStorage } from './draftPersistence';
import { createGuidanceStore, mergeBlockedReason, saveBlockedReason } from './store';

const ref = { runId: 'demo', mission: 'BBU接地线检查' };

/** A compare-and-swap guidance file in memory, like the GuidanceRepository behind the API. */
function fakeGuidanceServer(initial: Record<string, string>) {
  const history: GuidanceState[] = [GuidanceStateSchema.parse({ step: 0, updated_at: '2026-01-01T00:00:00.000Z', experiences: initial, metadata: {} })];
  const saves: Array<{ author: string | null; kind: string }> = [];
  const current = () => history[history.length - 1];
  /** Writes the way GuidanceRepository does: rule ids carried by carryRuleMetadata, written_by recorded. */
  const write = (experiences: Record<string, string>, by: GuidanceWriteBy = { kind: 'reflection', author: null, reflection_id: 'refl-e0-c3-abcd', epoch: 0, batch_index: 3 }) => {
    const before = current();
    const updated_at = new Date(Date.UTC(2026, 0, 1, 0, 0, history.length)).toISOString();
    const engine = by.kind === 'reflection' || by.kind === 'approval';
    const metadata = carryRuleMetadata(before, { experiences }, { origin: engine ? 'reflection' : 'annotator', author: engine ? null : (by.author ?? null), reflection_id: by.reflection_id ?? null, updated_at });
    const step = before.step + 1;
    history.push(GuidanceStateSchema.parse({ step, updated_at, experiences, metadata, written_by: { reflection_id: null, epoch: null, batch_index: null, ...by, step, at: updated_at } }));
  };
  const client = {
    guidanceRead: async () => ({ state: current() }),
    guidanceSave: async (input: { baseStep: number; experiences: Record<string, string>; author?: string | null; kind?: string }) => {
      saves.push({ author: input.author ?? null, kind: input.kind ?? 'save' });
      if (input.baseStep !== current().step) {
        return {
          status: 'conflict' as const,
          base: history.find((h) => h.step === input.baseStep) ?? null,
          theirs: current(),
          mine: { experiences: input.experiences },
          error: { code: 'GUIDANCE_STEP_CONFLICT' as const, message: `guidance moved from step ${input.baseStep} to ${current().step}`, location: {} },
        };
      }
      write(input.experiences, { kind: input.kind === 'merge' ? 'merge' : 'save', author: input.author ?? null });
      return { status: 'ok' as const, state: current() };
    },
  } as unknown as ApiClient;
  return { client, write, current, saves };
}

describe('guidance editor store', () => {
  it('saves with the base step and clears the draft', async () => {
    const server = fakeGuidanceServer({ G0: '检查接地线', G1: '标签清晰' });
    const storage = memoryStorage();
    const store = createGuidanceStore(() => server.client, storage);
    await store.getState().load(ref);
    store.getState().setRule('G1', '标签清晰可读');
    expect(latestDraft(storage, ref.runId, ref.mission)?.baseStep).toBe(0);
    await store.getState().save();
    expect(server.current()).toMatchObject({ step: 1, experiences: { G0: '检查接地线', G1: '标签清晰可读' } });
    expect(store.getState()).toMatchObject({ baseStep: 1, dirty: false, conflict: null });
    expect(latestDraft(storage, ref.runId, ref.mission)).toBeNull();
  });

  it('restores an unsaved draft after a reload, with its original base step', async () => {
    const server = fakeGuidanceServer({ G0: 'a' });
    const storage = memoryStorage();
    const first = createGuidanceStore(() => server.client, storage);
    await first.getState().load(ref);
    first.getState().setRule('G1', '新规则');
    server.write({ G0: 'a', G2: '引擎' });
    const second = createGuidanceStore(() => server.client, storage);
    await second.getState().load(ref);
    expect(second.getState()).toMatchObject({ baseStep: 0, dirty: true, restoredDraftStep: 0, remoteStep: 1 });
    expect(second.getState().experiences.G1).toBe('新规则');
  });

  it('keeps the annotator text on a conflict, merges per rule and retries on the new base step', async () => {
    const server = fakeGuidanceServer({ G0: '清单', G1: '旧' });
    const storage = memoryStorage();
    const store = createGuidanceStore(() => server.client, storage);
    await store.getState().load(ref);
    store.getState().setRule('G1', '我的');
    server.write({ G0: '清单', G1: '引擎的', G2: '引擎新增' });
    await store.getState().poll();
    expect(store.getState().remoteStep).toBe(1);
    await store.getState().save();
    const conflict = store.getState().conflict!;
    expect(conflict.error.code).toBe('GUIDANCE_STEP_CONFLICT');
    expect(conflict.rows.find((r) => r.key === 'G1')).toMatchObject({ base: '旧', theirs: '引擎的', mine: '我的', conflict: true });
    expect(store.getState().experiences.G1).toBe('我的');
    expect(latestDraft(storage, ref.runId, ref.mission)?.text).toContain('我的');
    store.getState().pickMerge(conflict.rows.find((r) => r.key === 'G1')!.id, 'custom', '合并的');
    await store.getState().saveMerge();
    expect(server.current()).toMatchObject({ step: 2, experiences: { G0: '清单', G1: '合并的', G2: '引擎新增' } });
    expect(store.getState()).toMatchObject({ conflict: null, baseStep: 2, dirty: false });
  });

  it('follows the engine silently when there are no unsaved edits', async () => {
    const server = fakeGuidanceServer({ G0: 'a' });
    const store = createGuidanceStore(() => server.client, memoryStorage());
    await store.getState().load(ref);
    server.write({ G0: 'b' });
    await store.getState().poll();
    expect(store.getState()).toMatchObject({ baseStep: 1, remoteStep: null, experiences: { G0: 'b' } });
  });

  it('refuses to send an edit that removes G0, changes an invariant or is not JSON', async () => {
    const server = fakeGuidanceServer({ G0: 'a', S1: '不变' });
    const store = createGuidanceStore(() => server.client, memoryStorage());
    await store.getState().load(ref);
    store.getState().setRaw('{"G1": "x", "S1": "改"}');
    await store.getState().save();
    const messages = store.getState().issues.map((i) => i.message).join('\n');
    expect(messages).toMatch(/G0/);
    expect(messages).toMatch(/S1 is a read-only invariant/);
    store.getState().setRaw('{"G0": "a",\n  oops}');
    expect(store.getState().issues[0]).toMatchObject({ key: null });
    expect(store.getState().issues[0].message).toMatch(/invalid JSON/);
    await store.getState().save();
    expect(server.current().step).toBe(0);
  });
});

describe('guidance editor notice when the guidance moves under it', () => {
  it('names the new step, the reflection and batch that wrote it and the rules changed, and drops a stale "saved as"', async () => {
    const server = fakeGuidanceServer({ G0: '清单', G1: '标签缺失判不通过', G2: '螺丝松动判不通过' });
    const store = createGuidanceStore(() => server.client, memoryStorage(), { author: async () => 'Alice' });
    await store.getState().load(ref);
    store.getState().setRule('G3', '接地线悬空判不通过');
    await store.getState().save();
    expect(store.getState().lastSavedStep).toBe(1);
    expect(server.saves).toEqual([{ author: 'Alice', kind: 'save' }]);
    expect(server.current().metadata.G3).toMatchObject({ origin: 'annotator', author: 'Alice' });
    // Reflection removes G1: G2 and G3 are renumbered to G1 and G2, and G0 is rewritten.
    server.write({ G0: '清单（改）', G1: '螺丝松动判不通过', G2: '接地线悬空判不通过' });
    await store.getState().poll();
    const s = store.getState();
    expect(s.lastSavedStep).toBeNull();
    expect(s.baseStep).toBe(2);
    expect(s.notice).toMatchObject({ fromStep: 1, toStep: 2, writer: 'reflection refl-e0-c3-abcd (epoch 0, batch 3)' });
    const kinds = Object.fromEntries(s.notice!.changes.map((c) => [`${c.before?.key ?? '-'}>${c.after?.key ?? '-'}`, c.kind]));
    expect(kinds).toEqual({ 'G0>G0': 'modified', 'G2>G1': 'renamed', 'G3>G2': 'renamed', 'G1>-': 'removed' });
    // A poll that sees the same step again does not renew or duplicate the notice.
    store.getState().acknowledgeNotice();
    await store.getState().poll();
    expect(store.getState().notice).toBeNull();
  });

  it('keeps the draft and shows the notice when the editor has unsaved text; two moves read as one since the reader looked', async () => {
    const server = fakeGuidanceServer({ G0: '清单', G1: '旧' });
    const store = createGuidanceStore(() => server.client, memoryStorage());
    await store.getState().load(ref);
    store.getState().setRule('G1', '我的草稿');
    server.write({ G0: '清单', G1: '旧', G2: '引擎新增' });
    await store.getState().poll();
    server.write({ G0: '清单', G1: '旧', G2: '引擎新增' , G3: 'Bob 的规则' }, { kind: 'save', author: 'Bob' });
    await store.getState().poll();
    const s = store.getState();
    expect(s).toMatchObject({ dirty: true, baseStep: 0, remoteStep: 2 });
    expect(s.experiences.G1).toBe('我的草稿');
    expect(s.notice).toMatchObject({ fromStep: 0, toStep: 2, steps: 2, writer: 'Bob' });
    expect(s.notice!.changes.map((c) => [c.after?.key, c.kind])).toEqual([['G2', 'added'], ['G3', 'added']]);
  });

  it('ignores a poll answer older than what it has seen (a poll that raced a save)', async () => {
    const server = fakeGuidanceServer({ G0: 'a' });
    const store = createGuidanceStore(() => server.client, memoryStorage());
    await store.getState().load(ref);
    const stale = server.current();
    store.getState().setRule('G0', 'b');
    await store.getState().save();
    const client = server.client as unknown as { guidanceRead: () => Promise<{ state: GuidanceState }> };
    const real = client.guidanceRead;
    client.guidanceRead = async () => ({ state: stale });
    await store.getState().poll();
    client.guidanceRead = real;
    expect(store.getState()).toMatchObject({ notice: null, lastSavedStep: 1, baseStep: 1 });
  });

  it('merges an edit of a rule that reflection renumbered meanwhile into that rule, not into the key', async () => {
    const server = fakeGuidanceServer({ G0: '清单', G1: '一', G2: '二', G3: '三' });
    const store = createGuidanceStore(() => server.client, memoryStorage());
    const ruleThree = server.current().metadata.G3.rule_id;
    await store.getState().load(ref);
    store.getState().setRule('G3', '三（Alice 改）');
    server.write({ G0: '清单', G1: '二', G2: '三' });
    await store.getState().save();
    const row = store.getState().conflict!.rows.find((r) => r.mine === '三（Alice 改）')!;
    expect(row).toMatchObject({ key: 'G2', mineKey: 'G3', theirs: '三', conflict: false, pick: 'mine' });
    await store.getState().saveMerge();
    expect(server.current().experiences).toEqual({ G0: '清单', G1: '二', G2: '三（Alice 改）' });
    expect(server.current().metadata.G2.rule_id).toBe(ruleThree);
  });

  it('records a merge as kind merge with the author, and the notice of the conflicting write is cleared by saving', async () => {
    const server = fakeGuidanceServer({ G0: '清单', G1: '旧' });
    const store = createGuidanceStore(() => server.client, memoryStorage(), { author: async () => 'Alice' });
    await store.getState().load(ref);
    store.getState().setRule('G1', '我的');
    server.write({ G0: '清单', G1: '引擎的' });
    await store.getState().save();
    expect(store.getState().notice).toMatchObject({ toStep: 1 });
    store.getState().pickMerge(store.getState().conflict!.rows.find((r) => r.key === 'G1')!.id, 'mine');
    await store.getState().saveMerge();
    expect(server.saves.map((x) => x.kind)).toEqual(['save', 'merge']);
    expect(server.saves[1].author).toBe('Alice');
    expect(store.getState()).toMatchObject({ notice: null, lastSavedStep: 2 });
  });
});

describe('guidance editor traps', () => {
  it('gives a conflicted rule no default: the merge is not saved until it is chosen, and says how many are left', async () => {
    const server = fakeGuidanceServer({ G0: '清单', G1: '旧', G2: '旧二' });
    const store = createGuidanceStore(() => server.client, memoryStorage());
    await store.getState().load(ref);
    store.getState().setRule('G1', '我的一');
    store.getState().setRule('G2', '我的二');
    server.write({ G0: '清单', G1: '引擎的一', G2: '引擎的二' });
    await store.getState().save();
    const conflict = store.getState().conflict!;
    expect(conflict.rows.filter((r) => r.conflict).map((r) => r.pick)).toEqual([null, null]);
    expect(mergeBlockedReason(conflict)).toMatch(/2 conflicted rules \(G1, G2\)/);
    await store.getState().saveMerge();
    expect(server.saves).toHaveLength(1);
    expect(server.current().experiences.G1).toBe('引擎的一');
    store.getState().pickMerge(conflict.rows.find((r) => r.key === 'G1')!.id, 'theirs');
    expect(mergeBlockedReason(store.getState().conflict!)).toMatch(/1 conflicted rule \(G2\)/);
    store.getState().pickMerge(conflict.rows.find((r) => r.key === 'G2')!.id, 'mine');
    expect(mergeBlockedReason(store.getState().conflict!)).toBeNull();
    await store.getState().saveMerge();
    expect(server.current().experiences).toEqual({ G0: '清单', G1: '引擎的一', G2: '我的二' });
  });

  it('asks before discarding, and a discard can be undone, draft included', async () => {
    const server = fakeGuidanceServer({ G0: '清单', G1: '旧' });
    const storage = memoryStorage();
    const store = createGuidanceStore(() => server.client, storage);
    await store.getState().load(ref);
    store.getState().setRule('G1', '我的草稿');
    store.getState().askDiscard();
    expect(store.getState().confirmingDiscard).toBe(true);
    store.getState().cancelDiscard();
    expect(store.getState()).toMatchObject({ confirmingDiscard: false, dirty: true });
    store.getState().askDiscard();
    store.getState().discardEdits();
    await vi.waitFor(() => expect(store.getState().loading).toBe(false));
    expect(store.getState()).toMatchObject({ dirty: false, confirmingDiscard: false, experiences: { G1: '旧' } });
    expect(latestDraft(storage, ref.runId, ref.mission)).toBeNull();
    store.getState().undoDiscard();
    expect(store.getState()).toMatchObject({ dirty: true, discarded: null, baseStep: 0, experiences: { G0: '清单', G1: '我的草稿' } });
    expect(latestDraft(storage, ref.runId, ref.mission)?.text).toContain('我的草稿');
    await store.getState().save();
    expect(server.current().experiences.G1).toBe('我的草稿');
  });

  it('offers no undo once the discarded text is edited over', async () => {
    const server = fakeGuidanceServer({ G0: '清单', G1: '旧' });
    const store = createGuidanceStore(() => server.client, memoryStorage());
    await store.getState().load(ref);
    store.getState().setRule('G1', '我的草稿');
    store.getState().discardEdits();
    await vi.waitFor(() => expect(store.getState().loading).toBe(false));
    store.getState().setRule('G1', '新的');
    expect(store.getState().discarded).toBeNull();
  });

  it('says why Save cannot save: nothing changed, or the problems to fix', async () => {
    const server = fakeGuidanceServer({ G0: '清单', G1: '旧' });
    const store = createGuidanceStore(() => server.client, memoryStorage());
    await store.getState().load(ref);
    expect(saveBlockedReason(store.getState())).toMatch(/No changes/);
    store.getState().setRule('G0', '');
    expect(saveBlockedReason(store.getState())).toMatch(/^Fix 1 problem to save: G0:/);
    store.getState().setRule('G0', '清单二');
    expect(saveBlockedReason(store.getState())).toBeNull();
  });
});

describe('guidance edit validation', () => {
  it('rejects a rule that is a copied Stage-A summary, inline on that rule', async () => {
    const server = fakeGuidanceServer({ G0: 'a' });
    const store = createGuidanceStore(() => server.client, memoryStorage());
    await store.getState().load(ref);
    store.getState().setRule('G1', '标签/5G-BBU-接地线×1，电线/捆扎整齐×4');
    expect(store.getState().issues.find((i) => i.key === 'G1')?.message).toMatch(/Stage-A photo summary/);
    store.getState().setRule('G1', '');
    expect(store.getState().issues.find((i) => i.key === 'G1')?.message).toMatch(/empty/);
  });
});
