import { parseArgs } from 'node:util';
import { toStageBError } from '../../shared/errors';
import { compareRuns, type ComparisonRow, type MetricComparison, type RateEstimate, type RunComparison } from '../../shared/distill/compareRuns';
import { loadRunSelections } from './loadRunSelections';
import { processIo, type CliIo } from '../cli/CliIo';
import { stripCommandWords } from './stripCommandWords';

export const COMPARE_USAGE = `usage: stageb compare --runs <runDirA> <runDirB> [--json]

Compares label_match and the false-release rate (label=fail judged pass) of two
runs, overall and per mission, using each group's selection from its last epoch.
Rates carry 95% Wilson intervals; B − A carries a 95% Newcombe interval.
A run dir is {output.root}/{run_name} (one folder per mission with selections.jsonl).`;

/** `stageb compare --runs A B [--json]`; argv is what follows `compare`. Returns the exit code. */
export async function runCompare(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: stripCommandWords(argv, ['compare']),
      options: {
        runs: { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    io.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${COMPARE_USAGE}\n`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout.write(`${COMPARE_USAGE}\n`);
    return 0;
  }
  // `--runs A B` leaves B as a positional; `--runs A --runs B` works too.
  const runs = [...(parsed.values.runs ?? []), ...parsed.positionals];
  if (runs.length !== 2) {
    io.stderr.write(`--runs needs exactly two run directories, got ${runs.length}\n${COMPARE_USAGE}\n`);
    return 2;
  }
  try {
    const [a, b] = await Promise.all(runs.map((dir) => loadRunSelections(dir)));
    const comparison = compareRuns(a, b);
    io.stdout.write(`${parsed.values.json ? JSON.stringify(comparison, null, 2) : formatComparison(comparison)}\n`);
    return 0;
  } catch (error) {
    io.stderr.write(`${toStageBError(error).format()}\n`);
    return 1;
  }
}

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
