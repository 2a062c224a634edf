import { describe, expect, it } from 'vitest';
import { guidanceEditIssues } from './guidanceEditRules';

const stored = { G0: '检查接地线', G1: '螺丝需紧固', S1: '不得臆测' };

describe('guidanceEditIssues', () => {
  it.each([
    ['an unchanged guidance', { ...stored }, []],
    ['a new rule', { ...stored, G2: '标签需清晰' }, []],
    ['a removed learned rule', { G0: stored.G0, S1: stored.S1 }, []],
    ['G0 removed', { G1: stored.G1, S1: stored.S1 }, ['G0: G0 is the mission checklist and cannot be removed']],
    ['an invariant changed', { ...stored, S1: '可以臆测' }, ['S1: S1 is a read-only invariant and cannot be added, changed or removed']],
    ['an invariant removed', { G0: stored.G0, G1: stored.G1 }, ['S1: S1 is a read-only invariant and cannot be added, changed or removed']],
    ['an invariant added', { ...stored, S2: '新不变量' }, ['S2: S2 is a read-only invariant and cannot be added, changed or removed']],
    ['an empty rule', { ...stored, G1: '  ' }, ['G1: experience G1 is empty']],
    ['a bad key', { ...stored, X9: 'x' }, ['X9: "X9" is not an experience key (G0, G12, S1)']],
    ['a non-text rule', { ...stored, G1: 3 }, ['G1: experience G1 must be text']],
  ])('%s', (_name, next, expected) => {
    expect(guidanceEditIssues(next, stored).map((issue) => `${issue.key}: ${issue.message}`)).toEqual(expected);
  });

  it('refuses an empty guidance with its own code', () => {
    expect(guidanceEditIssues({}, stored)).toEqual([{ code: 'GUIDANCE_EMPTY_EXPERIENCES', key: null, field: 'experiences', message: 'guidance must keep at least one experience' }]);
  });

  it('checks only texts that changed, so a stored rule written under older rules can stay', () => {
    const legacy = { ...stored, G1: '' };
    expect(guidanceEditIssues({ ...legacy, G2: '新规则' }, legacy)).toEqual([]);
  });

  it('lets a first write and a verbatim restore set invariants', () => {
    expect(guidanceEditIssues(stored, null)).toEqual([]);
    expect(guidanceEditIssues({ ...stored, S1: '旧版' }, stored, { verbatim: true })).toEqual([]);
  });
});
