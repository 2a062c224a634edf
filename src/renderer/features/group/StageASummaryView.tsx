import { StageASummarySchema } from '../../../shared/stageASummary';

/** One photo's Stage-A summary: the parsed entries (text or JSON format alike) next to the raw string. */
export function StageASummaryView({ image, raw, parsed }: { image: string; raw: string; parsed: unknown }) {
  const summary = StageASummarySchema.safeParse(parsed);
  return (
    <div className="summary-card" data-testid="stage-a-summary">
      <div className="summary-head">
        <strong>{image}</strong>
        {summary.success && <span className={`tag format-${summary.data.format}`} data-testid="summary-format">{summary.data.format}</span>}
        {summary.success && summary.data.review_marker && <span className="tag warn">需复核</span>}
      </div>
      {summary.success && summary.data.entries.length > 0 && (
        <table className="summary-entries">
          <thead><tr><th>类别</th><th>属性</th><th>数量</th></tr></thead>
          <tbody>
            {summary.data.entries.map((entry, i) => (
              <tr key={i}><td>{entry.category}</td><td>{entry.attributes.join(' · ')}</td><td>{entry.count}</td></tr>
            ))}
          </tbody>
        </table>
      )}
      {summary.success && summary.data.format === 'irrelevant' && <p className="muted">无关图片 — irrelevant photo</p>}
      {summary.success && summary.data.remarks.length > 0 && <p className="remarks">备注: {summary.data.remarks.join('；')}</p>}
      {!summary.success && <p className="muted">No parsed view for this summary.</p>}
      <details open={!summary.success}>
        <summary>raw</summary>
        <pre className="raw" data-testid="summary-raw">{raw}</pre>
      </details>
    </div>
  );
}
