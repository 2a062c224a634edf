import { useStore } from 'zustand';
import { formatError } from '../../../shared/errors';
import { TextDiff } from '../../shared/monaco/TextDiff';
import { renderExperiences } from '../reflection/ruleDiff';
import { resolveMerge, type MergeRow } from './threeWayMerge';
import { mergeBlockedReason, type GuidanceEditorStore } from './store';

const show = (text: string | null) => (text === null ? <em className="muted">(absent)</em> : text);

/** base / theirs / mine per rule, with a pick per rule and free edit; saving retries on the new step. */
export function MergeView({ store }: { store: GuidanceEditorStore }) {
  const conflict = useStore(store, (s) => s.conflict);
  const saving = useStore(store, (s) => s.saving);
  if (!conflict) return null;
  const merged = resolveMerge(conflict.rows);
  const blocked = mergeBlockedReason(conflict);
  return (
    <div className="merge" data-testid="merge-view" role="region" aria-label="Merge guidance">
      <div className="banner warn" role="alert">
        <strong>Step conflict.</strong> {formatError(conflict.error)}. Your text is kept. A rule both sides changed has no default: choose mine, theirs or an edit for it, then save the merge on top of step {conflict.theirs.step}.
      </div>
      <table className="merge-table">
        <thead><tr><th>Rule</th><th>Base (step {conflict.base?.step ?? '?'})</th><th>Theirs (step {conflict.theirs.step})</th><th>Mine</th><th>Use</th></tr></thead>
        <tbody>
          {conflict.rows.map((row) => <MergeRowView key={row.id} row={row} store={store} />)}
        </tbody>
      </table>
      <h3>Theirs vs merged result</h3>
      <TextDiff original={renderExperiences(conflict.theirs.experiences)} modified={renderExperiences(merged)} height={220} />
      <div className="actions">
        <button className="primary" disabled={saving || blocked !== null} onClick={() => void store.getState().saveMerge()} data-testid="save-merge"
          aria-describedby={blocked ? 'merge-blocked' : undefined}>
          {saving ? 'Saving…' : `Save merge on step ${conflict.theirs.step}`}
        </button>
        <button onClick={() => store.getState().askDiscard()}>Discard my edits…</button>
        {blocked && <span id="merge-blocked" className="field-error" role="status" data-testid="merge-blocked">{blocked}</span>}
      </div>
    </div>
  );
}

function MergeRowView({ row, store }: { row: MergeRow; store: GuidanceEditorStore }) {
  const name = `pick-${row.id}`;
  // A rule only the annotator has may share its key with another rule on disk: its test ids say so.
  const isNew = row.id.startsWith('new:');
  const tid = isNew ? `new-${row.key}` : row.key;
  const changed = row.mine !== row.theirs;
  return (
    <tr className={row.conflict ? 'conflict' : changed ? 'changed' : undefined} data-testid={`merge-row-${tid}`} data-unchosen={row.pick === null || undefined}>
      <td><code>{row.key}</code>{isNew && <span className="tag">your new rule</span>}{row.mineKey && <div className="muted small">{row.mineKey} in your text (renumbered)</div>}{row.conflict && <span className="tag warn">both changed</span>}</td>
      <td>{show(row.base)}</td>
      <td>{show(row.theirs)}</td>
      <td>{show(row.mine)}</td>
      <td className="merge-pick" role="radiogroup" aria-label={`Use for ${row.key}`} aria-required={row.conflict}>
        {row.pick === null && <div className="field-error small" data-testid={`choose-${tid}`}>choose one</div>}
        <label><input type="radio" name={name} checked={row.pick === 'mine'} onChange={() => store.getState().pickMerge(row.id, 'mine')} data-testid={`pick-mine-${tid}`} /> mine</label>
        <label><input type="radio" name={name} checked={row.pick === 'theirs'} onChange={() => store.getState().pickMerge(row.id, 'theirs')} data-testid={`pick-theirs-${tid}`} /> theirs</label>
        <label><input type="radio" name={name} checked={row.pick === 'custom'} onChange={() => store.getState().pickMerge(row.id, 'custom')} data-testid={`pick-custom-${tid}`} /> edit</label>
        {row.pick === 'custom' && (
          <textarea value={row.custom ?? ''} onChange={(e) => store.getState().pickMerge(row.id, 'custom', e.target.value)} aria-label={`Merged text of ${row.key}`} data-testid={`custom-${tid}`} />
        )}
      </td>
    </tr>
  );
}
