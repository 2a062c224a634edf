import { useEffect, useState } from 'react';
import { useStore } from 'zustand';
import { navStore } from '../../app/navStore';
import { ErrorBox } from '../../shared/ui/ErrorBox';
import { RowFiltersBar } from './RowFiltersBar';
import { RowsTable } from './RowsTable';
import type { RowItem, RowsStore } from './store';
import type { GroupStore } from '../group/store';
import { copyText } from '../group/copyText';

export function TrajectoriesScreen({ store, group }: { store: RowsStore; group?: GroupStore }) {
  const run = useStore(navStore, (s) => s.run);
  const total = useStore(store, (s) => s.total);
  const indexing = useStore(store, (s) => s.indexing);
  const error = useStore(store, (s) => s.error);
  const invalid = useStore(store, (s) => s.invalid);
  const loading = useStore(store, (s) => Object.keys(s.loading).length > 0);
  const [copied, setCopied] = useState<string | null>(null);
  useEffect(() => store.getState().setRef(run), [run, store]);
  /** Opens the row's group; previous/next there move through this table's rows, as filtered and sorted now. */
  const open = (row: RowItem, index: number) => {
    const { kind, filters, sort } = store.getState();
    group?.getState().openFromTable(row.record.group_id, { kind, filters, sort, index });
    navStore.getState().openGroup(row.record.group_id);
  };
  const copy = async (row: RowItem) => setCopied((await copyText(row.record.group_id)) ? `Copied group id ${row.record.group_id}` : 'Could not copy: the clipboard is not available');
  if (!run) return <section className="screen"><h1>Trajectories</h1><p className="muted empty">Open a run first (Runs, key 1).</p></section>;
  return (
    <section className="screen rows-screen" aria-labelledby="rows-title">
      <header className="screen-head">
        <h1 id="rows-title">Trajectories and selections</h1>
        <span className="muted" data-testid="rows-total" role="status">{total === null ? 'Loading…' : `${total.toLocaleString()} rows`}{loading && total !== null ? ' · fetching' : ''}{indexing !== null ? ` · indexing ${Math.round(indexing * 100)}%, counts so far` : ''}</span>
        <button onClick={() => store.getState().reload()}>Refresh</button>
        <span role="status" className="copy-status small" data-testid="rows-copy-status">{copied ?? ''}</span>
      </header>
      <RowFiltersBar store={store} />
      <ErrorBox error={error} />
      {invalid.length > 0 && (
        <details className="warning-box"><summary>{invalid.length} malformed line(s) skipped</summary>
          <ul>{invalid.map((i) => <li key={i.line}>line {i.line}: {i.message}</li>)}</ul>
        </details>
      )}
      {total === 0 ? <p className="muted empty">No rows match these filters.</p> : <RowsTable store={store} onOpen={open} onCopy={(row) => void copy(row)} />}
    </section>
  );
}
