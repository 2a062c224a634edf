import type { ComparisonRow, RunComparison } from '../../shared/metrics/compareRuns';
import { formatDiff, formatRate } from '../../shared/metrics/formatComparison';

function rowsFor(scope: string, row: ComparisonRow): string[][] {
  return [
    [scope, 'label_match', formatRate(row.label_match.a), formatRate(row.label_match.b), formatDiff(row.label_match)],
    [scope, 'false_release', formatRate(row.false_release.a), formatRate(row.false_release.b), formatDiff(row.false_release)],
  ];
}

/** A plain-text table; `*` marks a difference whose 95% interval excludes 0. */
export function formatComparison(c: RunComparison): string {
  const table = [['scope', 'metric', 'A', 'B', 'B − A'], ...rowsFor('overall', c.overall)];
  for (const [mission, row] of Object.entries(c.missions)) table.push(...rowsFor(mission, row));
  const widths = table[0].map((_, col) => Math.max(...table.map((r) => displayWidth(r[col]))));
  const lines = table.map((r) => r.map((cell, col) => cell + ' '.repeat(widths[col] - displayWidth(cell))).join('  ').trimEnd());
  return [
    `A = ${c.a}  (${c.overall.groups.a} groups)`,
    `B = ${c.b}  (${c.overall.groups.b} groups)`,
    'last epoch per group; rates with 95% Wilson CI; B − A in percentage points with 95% Newcombe CI (* = excludes 0)',
    '',
    ...lines,
  ].join('\n');
}

/** CJK mission names take two columns in a terminal. */
function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch) ? 2 : 1;
  return width;
}
