import type { CliIo } from './CliIo';

/**
 * One `stageb` command, as data: what `--help` prints and what the parser accepts come
 * from the same fields, so they cannot drift apart. A command either runs or has
 * subcommands (`stageb model tiny`), never both.
 */
export type CliOption = {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  default?: string | boolean;
  /** A string option the command cannot run without (missing → usage error, exit 2). */
  required?: boolean;
  /** The value's placeholder in help, e.g. `file` for `--config <file>`. */
  value?: string;
  description: string;
};

export type CliOptions = Record<string, CliOption>;

type OptionValue<O extends CliOption> = O['type'] extends 'boolean'
  ? O['multiple'] extends true ? boolean[] : boolean
  : O['multiple'] extends true ? string[] : string;

/** What `parseArgs` hands a command: options with a default (or required) are always there. */
export type OptionValues<O extends CliOptions> = {
  [K in keyof O]: O[K] extends { default: string | boolean } | { required: true } | { type: 'boolean' }
    ? OptionValue<O[K]>
    : OptionValue<O[K]> | undefined;
};

export type Verbosity = 'quiet' | 'normal' | 'verbose';

export type CommandContext<O extends CliOptions> = {
  values: OptionValues<O>;
  positionals: string[];
  io: CliIo;
  /** --quiet / --verbose, accepted by every command. */
  verbosity: Verbosity;
  /** The command's own arguments as typed (after its name), for commands that delegate. */
  argv: readonly string[];
};

export type CommandDefinition<O extends CliOptions = CliOptions> = {
  /** The word after `stageb` (or after the parent command). */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The synopsis line(s), without the leading `stageb <parents>`. */
  usage?: string;
  /** Paragraphs printed after the options in `--help`. */
  description?: string;
  options?: O;
  /** Accept positional arguments (described in usage); rejected otherwise. */
  positionals?: boolean;
  subcommands?: readonly AnyCommand[];
  run?: (context: CommandContext<O>) => Promise<number>;
};

// The registry holds commands of many option shapes; each is checked where it is defined.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommand = CommandDefinition<any>;

/** Keeps a command's option literals, so `run` sees `values.config` as a string, not `unknown`. */
export function defineCommand<const O extends CliOptions>(command: CommandDefinition<O>): CommandDefinition<O> {
  return command;
}
