import { useEffect, useRef } from 'react';
import { SCREENS } from '../../app/screens';
import { QA_STATUS_KEYS } from '../../features/qa/store';
import { JOB_CONTROL_KEYS } from '../../features/launcher/jobProgress';
import { GROUP_KEYS } from '../../features/group/GroupScreen';

const LIST_KEYS: Array<[string, string]> = [
  ['j / ↓', 'next row'],
  ['k / ↑', 'previous row'],
  ['PgDn / PgUp', 'page down / up'],
  ['g / G', 'first / last row'],
  ['Enter', 'open the selected row'],
  ['Esc', 'close this overlay, a dialog, or go back'],
  ['?', 'show or hide these shortcuts'],
  ['/', 'focus the search or filter field'],
  ['Esc (in search)', 'leave the search field for its list, the search kept'],
  ['Alt+← / Alt+→', 'back / forward through the screens, groups and runs you opened (each has its own URL)'],
  ...QA_STATUS_KEYS.map(({ key, status, what }): [string, string] => [key === 'o' ? 'o / r' : key, `QA queue: review the selected item ${status} — ${what}, then go to the next unreviewed one`]),
  ['n', 'QA queue: type a note for the next review (Esc goes back to the list)'],
  ['u', 'QA queue: undo the last review'],
  ['s', 'QA queue: switch between the items that need a person and all items'],
  ['a / d', 'review queue: accept / dismiss the selected proposal (with a note)'],
  ['Ctrl+S', 'guidance editor: save'],
  ...JOB_CONTROL_KEYS,
  ['a / b, c', 'runs: mark the selected run as A / B, open the comparison; compare: set A / B (t two runs ⇄ two steps, w swap, x clear, o open a group in A)'],
  ...GROUP_KEYS,
];

export function ShortcutsOverlay({ onClose }: { onClose(): void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div ref={ref} className="modal shortcuts" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" tabIndex={-1} onClick={(e) => e.stopPropagation()} data-testid="shortcuts">
        <h2>Keyboard shortcuts</h2>
        <table>
          <tbody>
            {LIST_KEYS.map(([key, what]) => (
              <tr key={`${key} ${what}`}><td><kbd>{key}</kbd></td><td>{what}</td></tr>
            ))}
            {SCREENS.filter((s) => s.key !== null).map((s) => (
              <tr key={s.id}><td><kbd>{s.key}</kbd></td><td>go to {s.title}</td></tr>
            ))}
          </tbody>
        </table>
        <div className="modal-actions"><button onClick={onClose}>Close (Esc)</button></div>
      </div>
    </div>
  );
}
