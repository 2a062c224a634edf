import type { AsyncState } from '../asyncState';
import { ErrorBox } from './ErrorBox';

/** Loading / error / empty states of a fetched value, in one place. */
export function StatusLine<T>({ state, empty, isEmpty }: { state: AsyncState<T>; empty: string; isEmpty?: (data: T) => boolean }) {
  if (state.status === 'idle') return null;
  if (state.status === 'loading' && state.data === undefined) return <p className="muted" role="status">Loading…</p>;
  if (state.status === 'error') return <ErrorBox error={state.error} />;
  if (state.status === 'ready' && isEmpty?.(state.data)) return <p className="muted empty">{empty}</p>;
  return null;
}
