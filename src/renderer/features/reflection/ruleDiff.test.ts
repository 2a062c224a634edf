import { describe, expect, it } from 'vitest';
import { diffRules, renderExperiences, summarizeRuleChanges } from './ruleDiff';

describe('diffRules', () => {
  it('classifies added, removed, modified and unchanged keys in numeric key order', () => {
    const changes = diffRules(
      { G0: '检查接地线', G2: '标签需清晰', G10: '旧规则', S1: '不可删除' },
      { G0: '检查接地线', G2: '标签需清晰可读', G3: '新规则', S1: '不可删除' },
    );
    expect(changes.map((c) => [c.key, c.kind])).toEqual([
      ['G0', 'unchanged'],
      ['G2', 'modified'],
      ['G3', 'added'],
      ['G10', 'removed'],
      ['S1', 'unchanged'],
    ]);
    expect(changes[1]).toMatchObject({ before: '标签需清晰', after: '标签需清晰可读' });
    expect(summarizeRuleChanges(changes)).toEqual({ added: 1, removed: 1, modified: 1 });
  });
  it('treats a missing side as empty', () => {
    expect(diffRules(null, { G0: 'a' })).toEqual([{ key: 'G0', kind: 'added', before: null, after: 'a' }]);
  });
  it('keeps an empty string distinct from a missing rule', () => {
    expect(diffRules({ G1: '' }, {})[0].kind).toBe('removed');
  });
});

describe('renderExperiences', () => {
  it('renders one numbered line per rule, G2 before G10', () => {
    expect(renderExperiences({ G10: 'x', G2: 'y', G0: 'z' })).toBe('[G0]. z\n[G2]. y\n[G10]. x');
  });
});
