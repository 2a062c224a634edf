import { resolve } from 'node:path';
import { StageBError } from '../../shared/errors';
import type { RunEvent } from '../../shared/schemas/telemetry';
import type { HoldoutComparison, PairedDifference } from '../../shared/schemas/holdoutComparison';
import type { HoldoutStudyTarget } from '../composeHoldoutStudy';
import { readFlag } from '../cli';
import type { CliIo } from './CliIo';
import { ProgressRenderer } from './ProgressRenderer';
import { cancelOnSignals } from './cancelOnSignals';

/** `--config <file>` (a run config) or `--run <dir>` (a run directory: its run.json holds the config). */
export function readStudyTarget(argv: string[], usage: string): HoldoutStudyTarget {
  const configPath = readFlag(argv, '--config');
  const runDir = readFlag(argv, '--run');
  if ((configPath === undefined) === (runDir === undefined)) {
    throw new StageBError('CONFIG_INVALID', `give exactly one of --config <file> or --run <runDir>\n\n${usage}`, { field: configPath === undefined ? '--config' : '--run' });
  }
  return configPath !== undefined ? { configPath: resolve(configPath) } : { runDir: resolve(runDir!) };
}

/**
 * Runs a holdout study with progress on stderr (or RunEvent JSON lines on stdout with
 * --events-json, for the workbench's JobRunner) and SIGINT/SIGTERM as cancel: the study
 * stops with CANCELLED and the CLI exits 130.
 */
export async function runCancellable<T>(argv: string[], io: CliIo, body: (options: { signal: AbortSignal; onEvent: (event: RunEvent) => void }) => Promise<T>): Promise<T> {
  const eventsJson = argv.includes('--events-json');
  const progress = new ProgressRenderer(io.stderr);
  const controller = new AbortController();
  const removeSignalHandlers = cancelOnSignals(controller);
  try {
    return await body({
      signal: controller.signal,
      onEvent: (event) => {
        if (eventsJson) io.stdout.write(`${JSON.stringify(event)}\n`);
        progress.handle(event);
      },
    });
  } finally {
    removeSignalHandlers();
    progress.finish();
  }
}

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
