import { parseArgs } from 'node:util';
import { toStageBError } from '../../shared/errors';
import { appVersion } from '../packageRoot';
import { processIo, type CliIo } from './CliIo';
import type { AnyCommand, Verbosity } from './Command';
import { COMMANDS } from './commands/index';
import { EXIT } from './exitCodes';
import { formatCliError } from './formatCliError';
import { formatCommandHelp, formatMainHelp } from './formatHelp';
import { asksForHelp, GLOBAL_OPTIONS, parseCommandLine } from './parseCommandLine';
import { UsageError } from './UsageError';

function find(commands: readonly AnyCommand[], name: string, parentPath: readonly string[]): AnyCommand {
  const command = commands.find((candidate) => candidate.name === name);
  if (command) return command;
  const prefix = parentPath.length > 0 ? `${parentPath.join(' ')} ` : '';
  throw new UsageError(`unknown command "${prefix}${name}"; one of: ${commands.map((c) => c.name).join(', ')}`, parentPath);
}

/** The help of `stageb <path...>`, or of stageb itself for an empty path. */
export function helpText(commandPath: readonly string[]): string {
  if (commandPath.length === 0) return formatMainHelp(COMMANDS);
  let commands = COMMANDS;
  let command: AnyCommand | undefined;
  const path: string[] = [];
  for (const name of commandPath) {
    command = find(commands, name, path);
    path.push(name);
    commands = command.subcommands ?? [];
  }
  return formatCommandHelp(command!, path);
}

/** Flags before the command name: --version, --help and the verbosity flags. */
function parseLeadingFlags(args: string[]): { help: boolean; version: boolean; forwarded: string[] } {
  try {
    const { values } = parseArgs({
      args,
      options: { ...GLOBAL_OPTIONS, version: { type: 'boolean', short: 'V' } },
      strict: true,
      allowPositionals: false,
    });
    const forwarded = [...(values.quiet ? ['--quiet'] : []), ...(values.verbose ? ['--verbose'] : [])];
    return { help: Boolean(values.help), version: Boolean(values.version), forwarded };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function dispatch(argv: readonly string[], io: CliIo, setVerbosity: (v: Verbosity) => void): Promise<number> {
  let index = 0;
  while (index < argv.length && argv[index].startsWith('-')) index++;
  const leading = parseLeadingFlags(argv.slice(0, index));
  if (leading.version) {
    io.stdout.write(`stageb ${appVersion()}\n`);
    return EXIT.ok;
  }
  const name = argv[index];
  if (name === undefined) {
    if (leading.help) {
      io.stdout.write(formatMainHelp(COMMANDS));
      return EXIT.ok;
    }
    io.stderr.write(formatMainHelp(COMMANDS));
    return EXIT.usage;
  }
  const path = [name];
  let command = find(COMMANDS, name, []);
  let rest = argv.slice(index + 1);
  const help = leading.help || asksForHelp(rest);
  while (command.subcommands) {
    const sub = rest[0];
    if (sub === undefined || sub.startsWith('-')) {
      if (help) {
        io.stdout.write(formatCommandHelp(command, path));
        return EXIT.ok;
      }
      throw new UsageError(sub === undefined ? `"${path.join(' ')}" needs a command: ${command.subcommands.map((c) => c.name).join(', ')}` : `"${path.join(' ')}" needs a command before ${sub}`, path);
    }
    command = find(command.subcommands, sub, path);
    path.push(sub);
    rest = rest.slice(1);
  }
  if (help) {
    io.stdout.write(formatCommandHelp(command, path));
    return EXIT.ok;
  }
  const parsed = parseCommandLine(command, [...leading.forwarded, ...rest], path);
  setVerbosity(parsed.verbosity);
  // parseArgs checked the values against this command's own options.
  return await command.run!({ values: parsed.values as never, positionals: parsed.positionals, io, verbosity: parsed.verbosity, argv: rest });
}

/**
 * The `stageb` entry (bin/stageb.js, and the engine host in Electron): finds the command in
 * the registry, parses its flags, runs it, and turns what it throws into an exit code —
 * usage 2, failure 1, cancelled 130 — after printing every issue.
 */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let verbosity: Verbosity = argv.includes('--verbose') || argv.includes('-v') ? 'verbose' : 'normal';
  try {
    return await dispatch(argv, io, (v) => (verbosity = v));
  } catch (raw) {
    if (raw instanceof UsageError) {
      const helpPath = raw.commandPath.length > 0 ? `${raw.commandPath.join(' ')} ` : '';
      io.stderr.write(`stageb: ${raw.message}\nSee 'stageb ${helpPath}--help'.\n`);
      return EXIT.usage;
    }
    const error = toStageBError(raw);
    io.stderr.write(formatCliError(error, verbosity));
    return error.code === 'CANCELLED' ? EXIT.cancelled : EXIT.failure;
  }
}
