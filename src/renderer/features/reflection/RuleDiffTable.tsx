import { diffRules, summarizeRuleChanges } from './ruleDiff';

/** Structural per-rule diff: which keys were added, removed or modified. */
export function RuleDiffTable({ before, after, showUnchanged = false }: { before: Record<string, string> | null | undefined; after: Record<string, string> | null | undefined; showUnchanged?: boolean }) {
  const changes = diffRules(before, after);
  const counts = summarizeRuleChanges(changes);
  const shown = showUnchanged ? changes : changes.filter((c) => c.kind !== 'unchanged');
  return (
    <div className="rule-diff" data-testid="rule-diff">
      <p className="muted">+{counts.added} added · −{counts.removed} removed · ~{counts.modified} modified</p>
      {shown.length === 0 ? <p className="muted">No rule changed.</p> : (
        <table>
          <tbody>
            {shown.map((c) => (
              <tr key={c.key} className={`rule-${c.kind}`} data-kind={c.kind}>
                <td><code>{c.key}</code></td>
                <td>{c.kind}</td>
                <td className="before">{c.before ?? ''}</td>
                <td className="after">{c.after ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
