import type { ExperienceMeta } from '../../../shared/schemas/guidance';
import { diffGuidanceByRuleId, type RuleChange } from '../../../shared/guidance/diffGuidanceByRuleId';
import { keyOfRule } from '../guidance/guidanceNotice';

type Side = { experiences: Readonly<Record<string, string>>; metadata: Readonly<Record<string, ExperienceMeta>> };

export type RuleChangeCounts = Record<Exclude<RuleChange['kind'], 'unchanged'>, number>;

export function countRuleChanges(changes: RuleChange[]): RuleChangeCounts {
  const counts: RuleChangeCounts = { added: 0, removed: 0, merged: 0, modified: 0, renamed: 0 };
  for (const change of changes) if (change.kind !== 'unchanged') counts[change.kind] += 1;
  return counts;
}

/** Who wrote a rule's current text, in a few words. */
export function ruleWriter(meta: ExperienceMeta | undefined): string {
  if (!meta) return '';
  const who = meta.author ?? (meta.origin === 'reflection' ? (meta.reflection_id ?? 'reflection') : meta.origin);
  return meta.approved_by ? `${who}, approved by ${meta.approved_by}` : who;
}

/**
 * Per-rule diff matched by rule_id: a renumbering shows as a rename (G2 → G1), a merge
 * names the rule it went into, and only real text changes read as modified.
 */
export function RuleIdDiffTable({ before, after, showUnchanged = false, testId = 'rule-diff' }: { before: Side; after: Side; showUnchanged?: boolean; testId?: string }) {
  const changes = diffGuidanceByRuleId(before, after);
  const counts = countRuleChanges(changes);
  const shown = showUnchanged ? changes : changes.filter((c) => c.kind !== 'unchanged');
  return (
    <div className="rule-diff" data-testid={testId}>
      <p className="muted">
        +{counts.added} added · −{counts.removed} removed · ~{counts.modified} modified · ↔{counts.renamed} renamed{counts.merged ? ` · ⇢${counts.merged} merged` : ''}
      </p>
      {shown.length === 0 ? <p className="muted">No rule changed.</p> : (
        <table className="rule-id-diff">
          <colgroup><col className="c-rule" /><col className="c-change" /><col /><col /><col className="c-who" /></colgroup>
          <thead><tr><th>Rule</th><th>Change</th><th>Before</th><th>After</th><th>Written by</th></tr></thead>
          <tbody>
            {shown.map((c) => {
              const from = c.before?.key;
              const to = c.after?.key;
              const into = c.merged_into ? keyOfRule(after, c.merged_into) : null;
              return (
                <tr key={c.rule_id} className={`rule-${c.kind}`} data-kind={c.kind} data-rule-id={c.rule_id} data-key={to ?? from}>
                  <td><code>{from && to && from !== to ? `${from} → ${to}` : (to ?? from)}</code></td>
                  <td>{c.kind === 'merged' ? `merged into ${into ?? c.merged_into}` : c.kind === 'renamed' ? 'renamed (renumbered)' : c.kind === 'modified' && c.renamed ? 'modified + renumbered' : c.kind}</td>
                  <td className="before">{c.kind === 'renamed' ? <span className="muted">{c.before?.text}</span> : (c.before?.text ?? '')}</td>
                  <td className="after">{c.kind === 'renamed' ? <span className="muted">(same text)</span> : (c.after?.text ?? '')}</td>
                  <td className="small">{ruleWriter(c.after?.meta)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
