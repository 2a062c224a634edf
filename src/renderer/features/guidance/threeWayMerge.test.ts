import { describe, expect, it } from 'vitest';
import { buildMergeRows, pickRule, resolveMerge, unresolvedConflicts } from './threeWayMerge';

const base = { G0: '清单', G1: '旧一', G2: '旧二', G3: '旧三' };
const theirs = { G0: '清单', G1: '引擎改一', G2: '旧二', G4: '引擎新增' };
const mine = { G0: '清单', G1: '我改一', G2: '我改二', G3: '旧三' };

describe('three-way guidance merge', () => {
  it('takes each side where only that side changed and flags true conflicts', () => {
    const rows = buildMergeRows(base, theirs, mine);
    const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
    expect(byKey.G1).toMatchObject({ conflict: true, pick: null });
    expect(unresolvedConflicts(rows)).toEqual(['G1']);
    expect(byKey.G2).toMatchObject({ conflict: false, pick: 'mine' });
    expect(byKey.G3).toMatchObject({ conflict: false, pick: 'theirs', theirs: null });
    expect(byKey.G4).toMatchObject({ conflict: false, pick: 'theirs', base: null, mine: null });
    // Until G1 is chosen the preview shows the file's text for it; a pick resolves it.
    expect(resolveMerge(rows)).toEqual({ G0: '清单', G1: '引擎改一', G2: '我改二', G4: '引擎新增' });
    const picked = pickRule(rows, 'G1', 'mine');
    expect(unresolvedConflicts(picked)).toEqual([]);
    expect(resolveMerge(picked)).toEqual({ G0: '清单', G1: '我改一', G2: '我改二', G4: '引擎新增' });
  });
  it('lets the annotator pick theirs or write a custom text per rule', () => {
    let rows = buildMergeRows(base, theirs, mine);
    rows = pickRule(rows, 'G1', 'theirs');
    expect(resolveMerge(rows).G1).toBe('引擎改一');
    rows = pickRule(rows, 'G1', 'custom', '合并后的一');
    expect(resolveMerge(rows).G1).toBe('合并后的一');
    rows = pickRule(rows, 'G3', 'mine');
    expect(resolveMerge(rows).G3).toBe('旧三');
  });
  it('does not flag identical edits on both sides', () => {
    const rows = buildMergeRows({ G0: 'a' }, { G0: 'b' }, { G0: 'b' });
    expect(rows[0].conflict).toBe(false);
  });
});

describe('three-way guidance merge by rule_id', () => {
  const meta = (ids: Record<string, string>) => Object.fromEntries(Object.entries(ids).map(([k, id]) => [k, { rule_id: id }]));
  it('pairs the annotator edit with the rule after reflection renumbered it, not with the key', () => {
    const base = { experiences: { G0: '清单', G1: '一', G2: '二', G3: '三' }, metadata: meta({ G0: 'R-0', G1: 'R-1', G2: 'R-2', G3: 'R-3' }) };
    // Reflection removed G1: G2 and G3 moved to G1 and G2.
    const theirs = { experiences: { G0: '清单', G1: '二', G2: '三' }, metadata: meta({ G0: 'R-0', G1: 'R-2', G2: 'R-3' }) };
    // The annotator edited G3 and added G4.
    const mine = { G0: '清单', G1: '一', G2: '二', G3: '三（我改）', G4: '我新增' };
    const rows = buildMergeRows(base, theirs, mine);
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(byId['R-3']).toMatchObject({ key: 'G2', mineKey: 'G3', theirs: '三', mine: '三（我改）', conflict: false, pick: 'mine' });
    expect(byId['R-1']).toMatchObject({ key: 'G1', theirs: null, mine: '一', base: '一', pick: 'theirs' });
    expect(byId['new:G4']).toMatchObject({ theirs: null, mine: '我新增', base: null, pick: 'mine' });
    expect(resolveMerge(rows)).toEqual({ G0: '清单', G1: '二', G2: '三（我改）', G3: '我新增' });
  });
  it('keeps both rules when each side added one under the same key', () => {
    const base = { experiences: { G0: 'a' }, metadata: meta({ G0: 'R-0' }) };
    const theirs = { experiences: { G0: 'a', G1: '引擎新增' }, metadata: meta({ G0: 'R-0', G1: 'R-e' }) };
    const rows = buildMergeRows(base, theirs, { G0: 'a', G1: '我新增' });
    expect(rows.filter((r) => r.conflict)).toEqual([]);
    expect(resolveMerge(pickRule(rows, 'new:G1', 'mine'))).toEqual({ G0: 'a', G1: '引擎新增', G2: '我新增' });
  });
});
