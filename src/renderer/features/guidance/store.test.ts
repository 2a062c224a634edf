import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../shared/api/transport';
import type { GuidanceState } from '../../../shared/schemas/guidance';
import { latestDraft, memoryStorage } from './draftPersistence';
import { createGuidanceStore } from './store';

const ref = { runId: 'demo', mission: 'BBU接地线检查' };

/** A compare-and-swap guidance file in memory, like the GuidanceRepository behind the API. */
function fakeGuidanceServer(initial: Record<string, string>) {
  const history: GuidanceState[] = [{ step: 0, updated_at: '2026-01-01T00:00:00.000Z', experiences: initial, metadata: {} }];
  const current = () => history[history.length - 1];
  const write = (experiences: Record<string, string>) => history.push({ step: current().step + 1, updated_at: new Date(Date.UTC(2026, 0, 1, 0, 0, history.length)).toISOString(), experiences, metadata: {} });
  const client = {
    guidanceRead: async () => ({ state: current() }),
    guidanceSave: async (input: { baseStep: number; experiences: Record<string, string> }) => {
      if (input.baseStep !== current().step) {
        return {
          status: 'conflict' as const,
          base: history.find((h) => h.step === input.baseStep) ?? null,
          theirs: current(),
          mine: { experiences: input.experiences },
          error: { code: 'GUIDANCE_STEP_CONFLICT' as const, message: `guidance moved from step ${input.baseStep} to ${current().step}`, location: {} },
        };
      }
      write(input.experiences);
      return { status: 'ok' as const, state: current() };
    },
  } as unknown as ApiClient;
  return { client, write, current };
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
    store.getState().pickMerge('G1', 'custom', '合并的');
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
