import { describe, expect, it } from 'vitest';
import { leaveSearchField } from './leaveSearchField';

function field(type: string, list: boolean) {
  const calls: string[] = [];
  const listEl = { focus: () => calls.push('list') };
  const main = { querySelector: () => (list ? listEl : null), focus: () => calls.push('main') };
  return { calls, el: { tagName: 'INPUT', type, blur: () => calls.push('blur'), closest: () => main } };
}

describe('leaveSearchField', () => {
  it('takes the focus out of a search field to the list it filters', () => {
    const { el, calls } = field('search', true);
    expect(leaveSearchField(el)).toBe(true);
    expect(calls).toEqual(['blur', 'list']);
  });
  it('falls back to the screen when it has no list', () => {
    const { el, calls } = field('search', false);
    expect(leaveSearchField(el)).toBe(true);
    expect(calls).toEqual(['blur', 'main']);
  });
  it('leaves other fields alone (their Esc is their own)', () => {
    const { el, calls } = field('text', true);
    expect(leaveSearchField(el)).toBe(false);
    expect(leaveSearchField({ tagName: 'TEXTAREA' })).toBe(false);
    expect(leaveSearchField(null)).toBe(false);
    expect(calls).toEqual([]);
  });
});
