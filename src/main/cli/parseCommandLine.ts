import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { AnyCommand, CliOptions, OptionValues, Verbosity } from './Command';
import { UsageError } from './UsageError';

/** Accepted by every command (and before the command name). */
export const GLOBAL_OPTIONS = {
  help: { type: 'boolean', short: 'h', description: 'print this help and exit; starts nothing' },
  quiet: { type: 'boolean', short: 'q', description: 'print only results and errors: no progress, phases or warnings' },
  verbose: { type: 'boolean', short: 'v', description: 'print every event and warning, and the details of an error' },
} as const satisfies CliOptions;

/** `--help` / `-h` anywhere before a `--` terminator: help wins over everything else, so it never starts work. */
export function asksForHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

function toParseArgsOptions(options: CliOptions): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    Object.entries(options).map(([name, option]) => [
      name,
      {
        type: option.type,
        ...(option.short !== undefined ? { short: option.short } : {}),
        ...(option.multiple ? { multiple: true } : {}),
        ...(option.default !== undefined ? { default: option.multiple ? [option.default] : option.default } : {}),
        // An absent boolean flag is false, as OptionValues types it.
        ...(option.default === undefined && option.type === 'boolean' && !option.multiple ? { default: false } : {}),
      },
    ]),
  ) as NonNullable<ParseArgsConfig['options']>;
}

export type ParsedCommandLine = { values: Record<string, unknown>; positionals: string[]; verbosity: Verbosity };

/**
 * The one parser behind every command: node:util parseArgs, strict (an unknown flag or a
 * missing value is a usage error, exit 2), `--flag value` and `--flag=value` alike; then
 * required options and --quiet/--verbose.
 */
export function parseCommandLine(command: AnyCommand, args: readonly string[], commandPath: readonly string[]): ParsedCommandLine {
  const options: CliOptions = { ...(command.options ?? {}), ...GLOBAL_OPTIONS };
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...args], options: toParseArgsOptions(options), strict: true, allowPositionals: Boolean(command.positionals) }) as typeof parsed;
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (code.startsWith('ERR_PARSE_ARGS')) throw new UsageError((error as Error).message, commandPath);
    throw error;
  }
  const missing = Object.entries((command.options ?? {}) as CliOptions)
    .filter(([name, option]) => option.required && (parsed.values[name] === undefined || (Array.isArray(parsed.values[name]) && (parsed.values[name] as unknown[]).length === 0)))
    .map(([name, option]) => `--${name}${option.value ? ` <${option.value}>` : ''}`);
  if (missing.length > 0) throw new UsageError(`missing ${missing.join(', ')}`, commandPath);
  if (parsed.values.quiet && parsed.values.verbose) throw new UsageError('--quiet and --verbose exclude each other', commandPath);
  return { ...parsed, verbosity: parsed.values.quiet ? 'quiet' : parsed.values.verbose ? 'verbose' : 'normal' };
}

export type { OptionValues };
