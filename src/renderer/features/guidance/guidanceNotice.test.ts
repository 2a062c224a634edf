import { describe, expect, it } from 'vitest';
import { GuidanceStateSchema } from '../../../shared/schemas/guidance';
import { describeChange, describeWriter, noticeFor } from './guidanceNotice';

const meta = (rule_id: string, extra: Record<string, unknown> = {}) => ({ rule_id, updated_at: '2026-01-01T00:00:00.000Z', ...extra });
const at = (step: number) => new Date(Date.UTC(2026, 0, 1, 0, step)).toISOString();
const state = (step: number, experiences: Record<string, string>, metadata: Record<string, ReturnType<typeof meta>>, written_by?: Record<string, unknown>) =>
  GuidanceStateSchema.parse({ step, updated_at: at(step), experiences, metadata, ...(written_by ? { written_by: { step, at: at(step), ...written_by } } : {}) });

describe('describeWriter', () => {
  it('names the annotator, the reflection with its batch, an approval and a rollback', () => {
    expect(describeWriter(state(1, { G0: 'a' }, {}, { kind: 'save', author: 'Alice' }))).toBe('Alice');
    expect(describeWriter(state(1, { G0: 'a' }, {}, { kind: 'save', author: null }))).toBe('an unnamed annotator');
    expect(describeWriter(state(2, { G0: 'a' }, {}, { kind: 'reflection', author: null, reflection_id: 'refl-e1-c2-ab', epoch: 1, batch_index: 2 }))).toBe('reflection refl-e1-c2-ab (epoch 1, batch 2)');
    expect(describeWriter(state(3, { G0: 'a' }, {}, { kind: 'approval', author: 'Bob', reflection_id: 'refl-x', review_item_id: 'rq-1' }))).toBe('Bob, approving reflection refl-x [rq-1]');
    expect(describeWriter(state(4, { G0: 'a' }, {}, { kind: 'rollback', author: 'Bob', restored_snapshot: 'step_000001.json', restored_step: 1 }))).toBe('Bob, rolling back to step_000001.json (step 1)');
  });
  it('does not trust a written_by from another step (the file was edited by hand afterwards)', () => {
    const s = state(5, { G0: 'a' }, {}, { kind: 'save', author: 'Alice' });
    expect(describeWriter({ ...s, written_by: { ...s.written_by!, step: 4 } })).toMatch(/unknown writer/);
    expect(describeWriter(state(5, { G0: 'a' }, {}))).toMatch(/unknown writer/);
  });
});

describe('noticeFor', () => {
  const seen = state(1, { G0: 'a', G1: 'one', G2: 'two' }, { G0: meta('R-g0g0'), G1: meta('R-one1'), G2: meta('R-two2') });
  it('is null when nothing moved', () => {
    expect(noticeFor(null, seen, seen)).toBeNull();
  });
  it('compares by rule_id: a removal plus renumbering is one removal and one rename, and a merge names its target', () => {
    const next = state(2, { G0: 'a', G1: 'two' }, { G0: meta('R-g0g0'), G1: meta('R-two2') }, { kind: 'reflection', author: null, reflection_id: 'r' });
    const notice = noticeFor(null, seen, next)!;
    expect(notice.changes.map((c) => describeChange(c, next))).toEqual(['G2 → G1 renamed', 'G1 removed']);
    const merged = state(2, { G0: 'a', G1: 'one and two' }, { G0: meta('R-g0g0'), G1: meta('R-one1', { merged_rule_ids: ['R-two2'] }) });
    expect(noticeFor(null, seen, merged)!.changes.map((c) => describeChange(c, merged))).toEqual(['G1 modified', 'G2 merged into G1']);
  });
  it('folds a second move into the shown notice, keeping where the reader last looked', () => {
    const two = state(2, { G0: 'b', G1: 'one', G2: 'two' }, { G0: meta('R-g0g0'), G1: meta('R-one1'), G2: meta('R-two2') }, { kind: 'save', author: 'Alice' });
    const three = state(3, { G0: 'b', G1: 'one', G2: 'two', G3: 'new' }, { G0: meta('R-g0g0'), G1: meta('R-one1'), G2: meta('R-two2'), G3: meta('R-new3') }, { kind: 'save', author: 'Bob' });
    const folded = noticeFor(noticeFor(null, seen, two), two, three)!;
    expect(folded).toMatchObject({ fromStep: 1, toStep: 3, steps: 2, writer: 'Bob' });
    expect(folded.changes.map((c) => describeChange(c, three))).toEqual(['G0 modified', 'G3 added']);
  });
});
