import { useEffect, useRef, type ReactNode } from 'react';

type Props = { title: string; children: ReactNode; confirmLabel: string; onConfirm(): void; onCancel(): void; busy?: boolean };

/**
 * A modal confirm. Enter means the primary (blue) button, which has the focus from the
 * start; Esc cancels; Tab stays inside. Enter on a focused Cancel is still Cancel. Focus
 * goes back where it was when the dialog closes.
 */
export function ConfirmDialog({ title, children, confirmLabel, onConfirm, onCancel, busy }: Props) {
  const confirmRef = useRef<HTMLButtonElement>(null);
  const boxRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    confirmRef.current?.focus();
    return () => {
      if (previous?.isConnected) previous.focus({ preventScroll: true });
    };
  }, []);
  return (
    <div className="modal-backdrop">
      <div ref={boxRef} className="modal" role="dialog" aria-modal="true" aria-labelledby="confirm-title"
        onKeyDown={(event) => {
          if (event.key === 'Escape') {
            event.preventDefault();
            event.stopPropagation();
            onCancel();
          }
          if (event.key === 'Enter' && !(event.target instanceof HTMLButtonElement && event.target !== confirmRef.current)) {
            event.preventDefault();
            event.stopPropagation();
            if (!busy) onConfirm();
          }
          if (event.key === 'Tab') {
            const buttons = [...(boxRef.current?.querySelectorAll('button') ?? [])];
            const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
            const next = buttons[(i + (event.shiftKey ? -1 : 1) + buttons.length) % buttons.length];
            next?.focus();
            event.preventDefault();
          }
        }}>
        <h2 id="confirm-title">{title}</h2>
        <div>{children}</div>
        <div className="modal-actions">
          <span className="muted small"><kbd>Enter</kbd> {confirmLabel.toLowerCase()} · <kbd>Esc</kbd> cancel</span>
          <button onClick={onCancel} data-testid="confirm-cancel">Cancel</button>
          <button ref={confirmRef} className="primary" onClick={onConfirm} disabled={busy} data-testid="confirm-ok">{confirmLabel}</button>
        </div>
      </div>
    </div>
  );
}
