import type { ComparisonRow, MetricComparison, RateEstimate, RunComparison } from '../../shared/metrics/compareRuns';

const pct = (x: number) => (x * 100).toFixed(1);
const signedPp = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;

function formatRate(r: RateEstimate): string {
  if (r.rate === null || !r.ci) return `n/a (0 rows)`;
  return `${pct(r.rate)}% [${pct(r.ci.lower)}, ${pct(r.ci.upper)}] ${r.successes}/${r.n}`;
}

function formatDiff(m: MetricComparison): string {
  if (!m.diff) return 'n/a';
  const excludesZero = m.diff.ci.lower > 0 || m.diff.ci.upper < 0;
  return `${signedPp(m.diff.estimate)} pp [${signedPp(m.diff.ci.lower)}, ${signedPp(m.diff.ci.upper)}]${excludesZero ? ' *' : ''}`;
}

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
