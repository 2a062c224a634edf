import { defineCommand } from '../Command';

export const helpCommand = defineCommand({
  name: 'help',
  summary: 'print the help of stageb or of a command (stageb help model tiny)',
  usage: '[<command> [<subcommand>]]',
  positionals: true,
  run: async ({ positionals, io }) => {
    // Imported here: the registry lists this command.
    const { helpText } = await import('../dispatch');
    io.stdout.write(helpText(positionals));
    return 0;
  },
});
