import { useEffect, useRef, type KeyboardEvent } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useStore } from 'zustand';
import type { SortField } from '../../../shared/api/contract';
import { reduceListKey } from '../../shared/keyboard/listNavigation';
import { num } from '../../shared/format';
import type { RowItem, RowsStore } from './store';

const ROW_HEIGHT = 30;

// Head and rows share one template (the head leaves a scrollbar gutter); only Group and Reason flex, and the minimums add up to fit 1280 px beside the sidebar.
type Column = { id: string; title: string; width: string; sort?: SortField; cell(row: RowItem): string; className?: string };

const COMMON: Column[] = [
  { id: 'line', title: '#', width: '48px', sort: 'row', cell: (r) => String(r.line) },
  { id: 'epoch', title: 'Ep', width: '32px', sort: 'epoch', cell: (r) => String(r.record.epoch) },
  { id: 'batch', title: 'Batch', width: '48px', sort: 'batch_index', cell: (r) => String(r.record.batch_index) },
  // Wraps onto a second line instead of cutting a long id off; the tooltip and `c` copy it whole.
  { id: 'group', title: 'Group', width: 'minmax(150px, 210px)', sort: 'group_id', cell: (r) => r.record.group_id, className: 'cell-id' },
  { id: 'label', title: 'Label', width: '48px', sort: 'label', cell: (r) => r.record.label ?? '—' },
  { id: 'verdict', title: 'Verdict', width: '64px', sort: 'verdict', cell: (r) => r.record.verdict ?? 'malformed' },
  { id: 'match', title: 'Match', width: '50px', sort: 'label_match', cell: (r) => (r.record.signals.label_match === null ? '—' : r.record.signals.label_match ? '✓' : '✗') },
  { id: 'conf', title: 'Conf', width: '48px', sort: 'confidence', cell: (r) => num(r.record.confidence) },
  { id: 'sc', title: 'SC', width: '44px', sort: 'self_consistency', cell: (r) => num(r.record.signals.self_consistency) },
  { id: 'step', title: 'Step', width: '42px', sort: 'guidance_step', cell: (r) => String(r.record.guidance_step) },
];

const SELECTION_ONLY: Column[] = [
  { id: 'eligible', title: 'Eligible', width: '110px', sort: 'eligible', cell: (r) => ('eligible' in r.record ? (r.record.eligible === null ? '—' : r.record.eligible ? 'eligible' : r.record.ineligible_reason ?? 'ineligible') : '') },
];
const TRAJECTORY_ONLY: Column[] = [
  { id: 'cand', title: 'Cand', width: '46px', sort: 'candidate_index', cell: (r) => ('candidate_index' in r.record ? String(r.record.candidate_index) : '') },
  { id: 'temp', title: 'T / p', width: '76px', cell: (r) => ('decode' in r.record ? `${r.record.decode.temperature}/${r.record.decode.top_p}` : '') },
];
const TAIL: Column[] = [
  // The item's current QA review (queryRows folds qa_reviews.jsonl into each row).
  { id: 'review', title: 'Review', width: '90px', cell: (r) => (r.review ? r.review.status : '') },
  { id: 'warn', title: 'Warnings', width: '100px', cell: (r) => r.record.warnings.join(', ') },
  { id: 'reason', title: 'Reason', width: 'minmax(96px, 1fr)', cell: (r) => r.record.reason ?? '' },
];

/**
 * The virtualized table: only the visible rows exist in the DOM, and only the
 * pages under them are fetched; scrolling never waits on the network.
 */
export function RowsTable({ store, onOpen, onCopy }: { store: RowsStore; onOpen(row: RowItem, index: number): void; onCopy?(row: RowItem): void }) {
  const kind = useStore(store, (s) => s.kind);
  const total = useStore(store, (s) => s.total);
  const selected = useStore(store, (s) => s.selected);
  const sort = useStore(store, (s) => s.sort);
  useStore(store, (s) => s.pages);
  const columns = [...COMMON, ...(kind === 'selections' ? SELECTION_ONLY : TRAJECTORY_ONLY), ...TAIL];
  const template = columns.map((c) => c.width).join(' ');
  const scrollRef = useRef<HTMLDivElement>(null);
  const count = total ?? 0;
  const virtualizer = useVirtualizer({ count, getScrollElement: () => scrollRef.current, estimateSize: () => ROW_HEIGHT, overscan: 20 });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;

  useEffect(() => {
    if (count === 0) return;
    // While the user flings the scrollbar, wait for the view to settle instead of fetching every page passed.
    const timer = setTimeout(() => store.getState().ensureRange(Math.max(0, first - 50), last + 50), 60);
    return () => clearTimeout(timer);
  }, [first, last, count, store]);
  useEffect(() => scrollRef.current?.focus({ preventScroll: true }), []);

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === 'c' && onCopy) {
      const row = store.getState().rowAt(selected);
      if (row) {
        event.preventDefault();
        onCopy(row);
      }
      return;
    }
    const pageSize = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 300) / ROW_HEIGHT) - 1);
    const result = reduceListKey({ index: selected, count, pageSize }, event.key);
    if (!result.handled || result.effect === 'help' || result.effect === 'close') return;
    event.preventDefault();
    if (result.index !== selected) {
      store.getState().select(result.index);
      virtualizer.scrollToIndex(result.index, { align: 'auto' });
    }
    if (result.effect === 'open') {
      const row = store.getState().rowAt(result.index);
      if (row) onOpen(row, result.index);
    }
  }

  return (
    <div className="rows-table" role="grid" aria-rowcount={count} aria-label="Rows">
      <div className="rows-head" role="row" style={{ gridTemplateColumns: template }}>
        {columns.map((c) => (
          <button key={c.id} role="columnheader" className="col-head" disabled={!c.sort} onClick={() => c.sort && store.getState().setSort(c.sort)}
            aria-sort={c.sort && sort.field === c.sort ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}>
            {c.title}{c.sort && sort.field === c.sort ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
          </button>
        ))}
      </div>
      <div ref={scrollRef} className="rows-scroll" tabIndex={0} onKeyDown={onKeyDown} data-testid="rows-scroll"
        aria-activedescendant={selected >= 0 ? `row-${selected}` : undefined}>
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((item) => {
            const row = store.getState().rowAt(item.index);
            return (
              <div key={item.key} id={`row-${item.index}`} role="row" data-index={item.index} aria-selected={item.index === selected}
                className={`rows-row${item.index === selected ? ' selected' : ''}${row && row.record.signals.label_match === false ? ' mismatch' : ''}`}
                style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT, gridTemplateColumns: template }}
                onClick={() => store.getState().select(item.index)} onDoubleClick={() => row && onOpen(row, item.index)}>
                {row ? columns.map((c) => <span key={c.id} role="gridcell" className={c.className} title={c.cell(row)}>{c.cell(row)}</span>) : <span className="muted">loading…</span>}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
