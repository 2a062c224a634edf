import { useEffect, useRef, type ReactNode } from 'react';

type Props = { title: string; children: ReactNode; confirmLabel: string; onConfirm(): void; onCancel(): void; busy?: boolean };

/** A modal confirm: focus starts on Cancel, Tab stays inside, Esc cancels, Enter on a button activates it. */
export function ConfirmDialog({ title, children, confirmLabel, onConfirm, onCancel, busy }: Props) {
  const cancelRef = useRef<HTMLButtonElement>(null);
  const boxRef = useRef<HTMLDivElement>(null);
  useEffect(() => cancelRef.current?.focus(), []);
  return (
    <div className="modal-backdrop">
      <div ref={boxRef} className="modal" role="dialog" aria-modal="true" aria-labelledby="confirm-title"
        onKeyDown={(event) => {
          if (event.key === 'Escape') {
            event.stopPropagation();
            onCancel();
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
          <button ref={cancelRef} onClick={onCancel}>Cancel</button>
          <button className="primary" onClick={onConfirm} disabled={busy}>{confirmLabel}</button>
        </div>
      </div>
    </div>
  );
}
