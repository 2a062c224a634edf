import { describe, expect, it } from 'vitest';
import { buildMergeRows, pickRule, resolveMerge } from './threeWayMerge';

const base = { G0: '清单', G1: '旧一', G2: '旧二', G3: '旧三' };
const theirs = { G0: '清单', G1: '引擎改一', G2: '旧二', G4: '引擎新增' };
const mine = { G0: '清单', G1: '我改一', G2: '我改二', G3: '旧三' };

describe('three-way guidance merge', () => {
  it('takes each side where only that side changed and flags true conflicts', () => {
    const rows = buildMergeRows(base, theirs, mine);
    const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
    expect(byKey.G1.conflict).toBe(true);
    expect(byKey.G2).toMatchObject({ conflict: false, pick: 'mine' });
    expect(byKey.G3).toMatchObject({ conflict: false, pick: 'theirs', theirs: null });
    expect(byKey.G4).toMatchObject({ conflict: false, pick: 'theirs', base: null, mine: null });
    expect(resolveMerge(rows)).toEqual({ G0: '清单', G1: '我改一', G2: '我改二', G4: '引擎新增' });
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
