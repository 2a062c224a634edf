import { useEffect, useRef, type KeyboardEvent, type ReactNode } from 'react';
import { reduceListKey } from '../keyboard/listNavigation';

type Props<T> = {
  items: T[];
  selected: number;
  onSelect(index: number): void;
  onOpen(item: T, index: number): void;
  renderItem(item: T, index: number): ReactNode;
  itemKey(item: T, index: number): string;
  label: string;
  autoFocus?: boolean;
  testId?: string;
  /** Extra single-key actions on the selected item (e.g. `r` marks reviewed). */
  onKey?(key: string, item: T, index: number): boolean;
};

/** A keyboard-driven list: j/k and arrows move, Enter opens; the selected row is scrolled into view. */
export function KeyList<T>({ items, selected, onSelect, onOpen, renderItem, itemKey, label, autoFocus = true, testId, onKey }: Props<T>) {
  const ref = useRef<HTMLUListElement>(null);
  useEffect(() => {
    if (autoFocus) ref.current?.focus({ preventScroll: true });
  }, [autoFocus]);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>(`[data-index="${selected}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [selected]);

  function onKeyDown(event: KeyboardEvent<HTMLUListElement>) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (onKey && selected >= 0 && selected < items.length && onKey(event.key, items[selected], selected)) {
      event.preventDefault();
      return;
    }
    const result = reduceListKey({ index: selected, count: items.length, pageSize: 10 }, event.key);
    if (!result.handled || result.effect === 'help' || result.effect === 'close') return;
    event.preventDefault();
    if (result.index !== selected) onSelect(result.index);
    if (result.effect === 'open') onOpen(items[result.index], result.index);
  }

  return (
    <ul ref={ref} className="key-list" tabIndex={0} role="listbox" aria-label={label} onKeyDown={onKeyDown} data-testid={testId}
      aria-activedescendant={selected >= 0 ? `${testId ?? 'list'}-item-${selected}` : undefined}>
      {items.map((item, index) => (
        <li key={itemKey(item, index)} id={`${testId ?? 'list'}-item-${index}`} role="option" aria-selected={index === selected} data-index={index}
          className={index === selected ? 'selected' : undefined}
          onClick={() => onSelect(index)} onDoubleClick={() => onOpen(item, index)}>
          {renderItem(item, index)}
        </li>
      ))}
    </ul>
  );
}
