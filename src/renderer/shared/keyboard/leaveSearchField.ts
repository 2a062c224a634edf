/** What a search field's Esc moves the focus to: the screen's list, else the screen itself. */
const LIST_SELECTOR = '[role="listbox"][tabindex], [tabindex][data-testid="rows-scroll"], [role="grid"][tabindex]';

type FieldLike = {
  tagName?: string;
  type?: string;
  blur?(): void;
  closest?(selector: string): { querySelector?(selector: string): { focus?(options?: { preventScroll?: boolean }): void } | null; focus?(options?: { preventScroll?: boolean }): void } | null;
};

/**
 * Esc in a search field leaves it, its text kept, for the list it filters, so the next key
 * is a shortcut (a digit opens a screen) rather than more search text. Returns whether it did.
 */
export function leaveSearchField(target: FieldLike | null): boolean {
  if (!target || (target.tagName ?? '').toUpperCase() !== 'INPUT' || target.type !== 'search') return false;
  const screen = target.closest?.('main') ?? null;
  const list = screen?.querySelector?.(LIST_SELECTOR) ?? null;
  target.blur?.();
  (list ?? screen)?.focus?.({ preventScroll: true });
  return true;
}
