import { resolve } from 'node:path';
import type { HoldoutComparison, PairedDifference } from '../../shared/schemas/holdoutComparison';
import type { HoldoutStudyTarget } from '../composeHoldoutStudy';
import { UsageError } from './UsageError';
import { RUN_FILES } from '../../shared/runFiles';

/** `--config <file>` (a run config) or `--run <dir>` (a run directory: its run.json holds the config). */
export function readStudyTarget(values: { config?: string; run?: string }): HoldoutStudyTarget {
  if ((values.config === undefined) === (values.run === undefined)) throw new UsageError('give exactly one of --config <file> or --run <runDir>');
  return values.config !== undefined ? { configPath: resolve(values.config) } : { runDir: resolve(values.run!) };
}

/** The options attribute and preview share. */
export const STUDY_OPTIONS = {
  config: { type: 'string', value: 'file', description: "the run's config (YAML)" },
  run: { type: 'string', value: 'runDir', description: `the run directory (its ${RUN_FILES.manifest} holds the config)` },
  json: { type: 'boolean', description: 'print the result as JSON' },
  'events-json': { type: 'boolean', description: 'print progress as run events, one JSON line each, on stdout (the result moves to stderr)' },
} as const;


const pct = (value: number | null) => (value === null ? 'n/a' : `${(value * 100).toFixed(1)}%`);
const pp = (value: number | null) => (value === null ? 'n/a' : `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}`);

/** "+12.5 pp [-12.5, +37.5]": a paired difference with its 95 % interval. */
export function formatDifference(d: PairedDifference): string {
  if (d.estimate === null) return 'n/a';
  return `${pp(d.estimate)} pp [${pp(d.lower)}, ${pp(d.upper)}]`;
}

/** One comparison as table cells: label match (candidate / baseline, difference), false release (same), probability. */
export function comparisonCells(c: HoldoutComparison): string[] {
  return [
    `${pct(c.candidate.label_match_rate)} / ${pct(c.baseline.label_match_rate)}`,
    formatDifference(c.label_match_difference),
    `${pct(c.candidate.false_release_rate)} / ${pct(c.baseline.false_release_rate)}`,
    formatDifference(c.false_release_difference),
    c.uplift_probability === null ? 'n/a' : c.uplift_probability.toFixed(3),
  ];
}

export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
