import { useEffect, useRef, useState } from 'react';
import type { ReviewerStore } from './reviewerStore';
import { useReviewer } from './useReviewer';

/**
 * Asks for the reviewer's name: Enter saves, Esc goes on without one, Tab stays inside.
 * The name is recorded as the author of guidance saves, merges, rollbacks, queue
 * decisions and QA reviews.
 */
export function ReviewerDialog({ store }: { store: ReviewerStore }) {
  const prompting = useReviewer(store, (s) => s.prompting);
  const known = useReviewer(store, (s) => s.name);
  const error = useReviewer(store, (s) => s.error);
  const [text, setText] = useState(known ?? '');
  const inputRef = useRef<HTMLInputElement>(null);
  const boxRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (!prompting) return;
    setText(store.getState().name ?? '');
    const previous = document.activeElement as HTMLElement | null;
    inputRef.current?.focus();
    return () => previous?.focus?.();
  }, [prompting, store]);
  if (!prompting) return null;
  return (
    <div className="modal-backdrop">
      <form ref={boxRef} className="modal reviewer-dialog" role="dialog" aria-modal="true" aria-labelledby="reviewer-title" aria-describedby="reviewer-why" data-testid="reviewer-dialog"
        onSubmit={(event) => {
          event.preventDefault();
          store.getState().submit(text);
        }}
        onKeyDown={(event) => {
          if (event.key === 'Escape') {
            event.preventDefault();
            event.stopPropagation();
            store.getState().decline();
          }
          if (event.key === 'Tab') {
            const focusable = [...(boxRef.current?.querySelectorAll<HTMLElement>('input, button') ?? [])];
            const i = focusable.indexOf(document.activeElement as HTMLElement);
            focusable[(i + (event.shiftKey ? -1 : 1) + focusable.length) % focusable.length]?.focus();
            event.preventDefault();
          }
        }}>
        <h2 id="reviewer-title">{known ? 'Change your reviewer name' : 'Who is reviewing?'}</h2>
        <p id="reviewer-why" className="muted">Your name is recorded with every guidance save, merge, rollback, review-queue decision and QA review. It is kept on this computer only.</p>
        <label className="field">Your name
          <input ref={inputRef} value={text} onChange={(e) => {
            setText(e.target.value);
            store.getState().clearError();
          }} maxLength={200} autoComplete="name" aria-invalid={error !== null}
            aria-describedby={error ? 'reviewer-error' : undefined} data-testid="reviewer-name" />
        </label>
        {error && <div id="reviewer-error" className="field-error" role="alert">{error}</div>}
        <div className="modal-actions">
          <button type="button" onClick={() => store.getState().decline()} data-testid="reviewer-skip">{known ? 'Cancel (Esc)' : 'Continue without a name (Esc)'}</button>
          <button type="submit" className="primary" data-testid="reviewer-save">Save name (Enter)</button>
        </div>
      </form>
    </div>
  );
}

/** The sidebar line: who is reviewing, with a button to change it. */
export function ReviewerBadge({ store }: { store: ReviewerStore }) {
  const name = useReviewer(store, (s) => s.name);
  return (
    <div className="reviewer-badge" data-testid="reviewer-badge">
      <span>Reviewer: <strong>{name ?? 'not set'}</strong></span>
      <button className="link" onClick={() => store.getState().change()}>{name ? 'change' : 'set'}</button>
    </div>
  );
}
