/**
 * The one keyboard model every list shares: j/k and arrows move, Enter opens,
 * `?` toggles help, Esc closes. Pure so it is unit-tested without a DOM.
 */
export type ListNavState = { index: number; count: number; pageSize: number };

export type ListNavEffect = 'open' | 'help' | 'close' | null;

export type ListNavResult = { index: number; effect: ListNavEffect; handled: boolean };

function clamp(index: number, count: number): number {
  if (count <= 0) return -1;
  return Math.min(Math.max(index, 0), count - 1);
}

export function reduceListKey(state: ListNavState, key: string): ListNavResult {
  const { index, count, pageSize } = state;
  const start = index < 0 ? -1 : index;
  switch (key) {
    case 'j':
    case 'ArrowDown':
      return { index: clamp(start + 1, count), effect: null, handled: true };
    case 'k':
    case 'ArrowUp':
      return { index: clamp(start < 0 ? 0 : start - 1, count), effect: null, handled: true };
    case 'PageDown':
      return { index: clamp(start + pageSize, count), effect: null, handled: true };
    case 'PageUp':
      return { index: clamp(start - pageSize, count), effect: null, handled: true };
    case 'Home':
    case 'g':
      return { index: clamp(0, count), effect: null, handled: true };
    case 'End':
    case 'G':
      return { index: clamp(count - 1, count), effect: null, handled: true };
    case 'Enter':
      return { index, effect: index >= 0 && index < count ? 'open' : null, handled: index >= 0 && index < count };
    case '?':
      return { index, effect: 'help', handled: true };
    case 'Escape':
      return { index, effect: 'close', handled: true };
    default:
      return { index, effect: null, handled: false };
  }
}

/** Keys typed into a form field belong to the field, not to the list. */
export function isTypingTarget(target: { tagName?: string; isContentEditable?: boolean; closest?: (s: string) => unknown } | null): boolean {
  if (!target) return false;
  const tag = (target.tagName ?? '').toUpperCase();
  if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (target.isContentEditable) return true;
  return Boolean(target.closest?.('.monaco-editor'));
}
