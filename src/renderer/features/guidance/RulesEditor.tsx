import { useStore } from 'zustand';
import type { GuidanceState } from '../../../shared/schemas/guidance';
import { navStore } from '../../app/navStore';
import { sortedExperienceKeys } from '../../shared/experienceKeys';
import { groupIdOfTicketKey, time } from '../../shared/format';
import type { GuidanceEditorStore } from './store';
import type { HoldoutStore } from './holdoutStore';
import { effectsByRuleId } from './holdoutEffects';
import { RuleEffect } from './HoldoutPanels';
import type { RuleAttribution } from '../../../shared/schemas/holdoutComparison';

/** One text box per rule, with where the rule came from; G0 cannot be removed and S-invariants are read-only. */
export function RulesEditor({ store, holdout }: { store: GuidanceEditorStore; holdout: HoldoutStore }) {
  const experiences = useStore(store, (s) => s.experiences);
  const issues = useStore(store, (s) => s.issues);
  const server = useStore(store, (s) => s.server);
  const attribution = useStore(holdout, (s) => s.attribution);
  const effects = effectsByRuleId(attribution);
  const measured = attribution ? { step: attribution.guidance_step, effects } : null;
  return (
    <div className="rules-editor">
      {sortedExperienceKeys(experiences).map((key) => {
        const readOnly = key.startsWith('S');
        const problems = issues.filter((i) => i.key === key);
        return (
          <div key={key} className={`rule-row${problems.length ? ' invalid' : ''}`} data-testid={`rule-row-${key}`}>
            <label htmlFor={`rule-${key}`}><code>{key}</code>{readOnly && <span className="tag">read-only</span>}</label>
            <textarea id={`rule-${key}`} data-testid={`rule-${key}`} value={experiences[key]} readOnly={readOnly} rows={Math.min(6, Math.max(2, Math.ceil(experiences[key].length / 60)))}
              onChange={(e) => store.getState().setRule(key, e.target.value)} aria-invalid={problems.length > 0} aria-describedby={`rule-origin-${key}`} />
            {key !== 'G0' && !readOnly ? <button onClick={() => store.getState().removeRule(key)} aria-label={`Remove ${key}`}>Remove</button> : <span />}
            <RuleOrigin ruleKey={key} text={experiences[key]} server={server} measured={measured} />
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

const ORIGIN: Record<string, string> = { initial: 'initial file', reflection: 'reflection', annotator: 'annotator', rollback: 'rollback' };

/** Origin, author, reflection id, evidence and last change of a rule, from the metadata on disk. */
function RuleOrigin({ ruleKey, text, server, measured }: { ruleKey: string; text: string; server: GuidanceState | null; measured: { step: number; effects: Map<string, RuleAttribution> } | null }) {
  const meta = server && ruleKey in server.experiences ? server.metadata[ruleKey] : undefined;
  if (!meta) return <div className="rule-origin muted" id={`rule-origin-${ruleKey}`} data-testid={`rule-origin-${ruleKey}`}>new rule · not saved yet</div>;
  const edited = server!.experiences[ruleKey] !== text;
  return (
    <div className="rule-origin" id={`rule-origin-${ruleKey}`} data-testid={`rule-origin-${ruleKey}`}>
      <span className={`tag origin-${meta.origin}`}>{ORIGIN[meta.origin] ?? meta.origin}</span>
      {meta.author && <span>by <strong>{meta.author}</strong></span>}
      {meta.approved_by && <span>approved by <strong>{meta.approved_by}</strong></span>}
      {meta.reflection_id && <span className="muted">reflection <code>{meta.reflection_id}</code></span>}
      <span className="muted">last change {time(meta.updated_at)}</span>
      {meta.sources.length > 0 && (
        <span className="evidence">evidence: {meta.sources.map((key) => (
          <button key={key} className="link" onClick={() => navStore.getState().openGroup(groupIdOfTicketKey(key))} data-testid="rule-evidence">{key}</button>
        ))}</span>
      )}
      {meta.merged_rule_ids.length > 0 && <span className="muted">merged {meta.merged_rule_ids.length} rule{meta.merged_rule_ids.length === 1 ? '' : 's'}</span>}
      {meta.rationale && <span className="muted" title={meta.rationale}>why: {meta.rationale.length > 80 ? `${meta.rationale.slice(0, 80)}…` : meta.rationale}</span>}
      <span className="muted small" title="rule_id: the rule's identity across renumbering">{meta.rule_id}</span>
      {edited && <span className="tag warn">edited, not saved</span>}
      {measured && (() => {
        const effect = measured.effects.get(meta.rule_id);
        return <RuleEffect rule={effect} step={measured.step} stale={effect !== undefined && effect.text !== server!.experiences[ruleKey]} />;
      })()}
    </div>
  );
}
