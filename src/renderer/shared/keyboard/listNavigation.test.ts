import { describe, expect, it } from 'vitest';
import { isTypingTarget, reduceListKey } from './listNavigation';

const at = (index: number, count = 5) => ({ index, count, pageSize: 3 });

describe('reduceListKey', () => {
  it('moves down with j and ArrowDown and stops at the end', () => {
    expect(reduceListKey(at(0), 'j').index).toBe(1);
    expect(reduceListKey(at(3), 'ArrowDown').index).toBe(4);
    expect(reduceListKey(at(4), 'j').index).toBe(4);
  });
  it('moves up with k and ArrowUp and stops at the top', () => {
    expect(reduceListKey(at(2), 'k').index).toBe(1);
    expect(reduceListKey(at(0), 'ArrowUp').index).toBe(0);
  });
  it('selects the first row on the first j when nothing is selected', () => {
    expect(reduceListKey(at(-1), 'j').index).toBe(0);
    expect(reduceListKey(at(-1), 'k').index).toBe(0);
  });
  it('pages and jumps to the ends', () => {
    expect(reduceListKey(at(0), 'PageDown').index).toBe(3);
    expect(reduceListKey(at(4), 'PageUp').index).toBe(1);
    expect(reduceListKey(at(2), 'G').index).toBe(4);
    expect(reduceListKey(at(2), 'Home').index).toBe(0);
  });
  it('opens only a real row', () => {
    expect(reduceListKey(at(1), 'Enter')).toEqual({ index: 1, effect: 'open', handled: true });
    expect(reduceListKey(at(-1), 'Enter').effect).toBeNull();
    expect(reduceListKey(at(0, 0), 'Enter').effect).toBeNull();
  });
  it('reports help and close, and leaves other keys alone', () => {
    expect(reduceListKey(at(1), '?').effect).toBe('help');
    expect(reduceListKey(at(1), 'Escape').effect).toBe('close');
    expect(reduceListKey(at(1), 'x')).toEqual({ index: 1, effect: null, handled: false });
  });
  it('keeps an empty list at -1', () => {
    expect(reduceListKey(at(-1, 0), 'j').index).toBe(-1);
  });
});

describe('isTypingTarget', () => {
  it('recognises form fields and editors', () => {
    expect(isTypingTarget({ tagName: 'input' })).toBe(true);
    expect(isTypingTarget({ tagName: 'DIV', isContentEditable: true })).toBe(true);
    expect(isTypingTarget({ tagName: 'DIV', closest: (s) => (s === '.monaco-editor' ? {} : null) })).toBe(true);
    expect(isTypingTarget({ tagName: 'DIV', closest: () => null })).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
});
