import type { AnyCommand, CliOption, CliOptions } from './Command';
import { EXIT } from './exitCodes';
import { GLOBAL_OPTIONS } from './parseCommandLine';

function optionLabel(name: string, option: CliOption): string {
  const flag = `${option.short ? `-${option.short}, ` : '    '}--${name}`;
  return option.type === 'string' ? `${flag} <${option.value ?? 'value'}>` : flag;
}

function optionNote(option: CliOption): string {
  const notes: string[] = [];
  if (option.required) notes.push('required');
  if (option.default !== undefined && option.default !== false) notes.push(`default ${String(option.default)}`);
  if (option.multiple) notes.push('repeatable');
  return notes.length > 0 ? ` (${notes.join('; ')})` : '';
}

function table(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`.trimEnd());
}

function optionRows(options: CliOptions): [string, string][] {
  return Object.entries(options).map(([name, option]) => [optionLabel(name, option), `${option.description}${optionNote(option)}`]);
}

/** `stageb <path> --help`: synopsis, summary, subcommands or options, then the description. `program` names another entry point (workbench-web). */
export function formatCommandHelp(command: AnyCommand, commandPath: readonly string[], program = 'stageb'): string {
  const prefix = [program, ...commandPath].join(' ');
  const lines: string[] = [];
  if (command.subcommands) {
    lines.push(`usage: ${prefix} <command> [options]`, '', command.summary, '', 'Commands:');
    lines.push(...table(command.subcommands.map((sub) => [sub.name, sub.summary])));
    lines.push('', `Run '${prefix} <command> --help' for a command's options.`);
  } else {
    const usage = (command.usage ?? '[options]').split('\n').map((line, index) => `${index === 0 ? 'usage: ' : '       '}${prefix} ${line}`);
    lines.push(...usage, '', command.summary, '', 'Options:');
    lines.push(...table(optionRows({ ...(command.options ?? {}), ...GLOBAL_OPTIONS })));
  }
  if (command.description) lines.push('', command.description.trim());
  return `${lines.join('\n')}\n`;
}

/** `stageb --help`: every registered command, the global flags and the exit codes. */
export function formatMainHelp(commands: readonly AnyCommand[]): string {
  const rows: [string, string][] = [];
  for (const command of commands) {
    if (command.subcommands) for (const sub of command.subcommands) rows.push([`${command.name} ${sub.name}`, sub.summary]);
    else rows.push([command.name, command.summary]);
  }
  return [
    'stageb — Stage-B training-free verdict loop',
    '',
    'usage: stageb <command> [options]',
    '       stageb <command> --help     the options of a command (starts nothing)',
    '       stageb --version',
    '',
    'Commands:',
    ...table(rows),
    '',
    'Options of every command:',
    ...table(optionRows(GLOBAL_OPTIONS)),
    '',
    'Flags take a value as `--flag value` or `--flag=value`; an unknown flag is refused.',
    'Errors print as "CODE file:line field: message", one line per issue.',
    `Exit codes: ${EXIT.ok} success, ${EXIT.failure} failure, ${EXIT.usage} usage error, ${EXIT.cancelled} cancelled.`,
    '',
  ].join('\n');
}
