import { processRunControlSource, type RunControlSource } from './runControlChannel';

/**
 * A stream a command prints to: a process stream, or a collector in tests.
 * `isTTY` decides how progress is drawn, `columns` how wide (ProgressRenderer).
 */
export type CliStream = { write(text: string): unknown; isTTY?: boolean; columns?: number };

/**
 * Where a CLI command prints: every `stageb` command takes one of these. `runControl` is where
 * an engine host (`--events-json`) hears pause / resume from the workbench; none in tests.
 */
export type CliIo = { stdout: CliStream; stderr: CliStream; runControl?: RunControlSource };

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr, runControl: processRunControlSource };
