import { useStore } from 'zustand';
import { sortedExperienceKeys } from '../../shared/experienceKeys';
import type { GuidanceEditorStore } from './store';

/** One text box per rule; G0 cannot be removed and S-invariants are read-only. */
export function RulesEditor({ store }: { store: GuidanceEditorStore }) {
  const experiences = useStore(store, (s) => s.experiences);
  const issues = useStore(store, (s) => s.issues);
  return (
    <div className="rules-editor">
      {sortedExperienceKeys(experiences).map((key) => {
        const readOnly = key.startsWith('S');
        const problems = issues.filter((i) => i.key === key);
        return (
          <div key={key} className={`rule-row${problems.length ? ' invalid' : ''}`}>
            <label htmlFor={`rule-${key}`}><code>{key}</code>{readOnly && <span className="tag">read-only</span>}</label>
            <textarea id={`rule-${key}`} data-testid={`rule-${key}`} value={experiences[key]} readOnly={readOnly} rows={Math.min(6, Math.max(2, Math.ceil(experiences[key].length / 60)))}
              onChange={(e) => store.getState().setRule(key, e.target.value)} aria-invalid={problems.length > 0} />
            {key !== 'G0' && !readOnly && <button onClick={() => store.getState().removeRule(key)} aria-label={`Remove ${key}`}>Remove</button>}
            {problems.map((p, i) => <div key={i} className="field-error" role="alert">{p.message}</div>)}
          </div>
        );
      })}
      <button onClick={() => {
        const key = store.getState().addRule();
        setTimeout(() => document.getElementById(`rule-${key}`)?.focus(), 0);
      }} data-testid="add-rule">Add rule</button>
    </div>
  );
}
