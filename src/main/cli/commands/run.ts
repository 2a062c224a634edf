import { resolve } from 'node:path';
import { defineCommand } from '../Command';
import { RUN_OPTIONS, runWithProgress } from '../runWithProgress';

export const runCommand = defineCommand({
  name: 'run',
  summary: 'run (or resume) Stage-B end to end',
  usage: '--config <file> [--events-json]',
  options: RUN_OPTIONS,
  description: `Validates the config, inputs and guidance before anything is written, loads the model,
then rolls out, reflects and exports. A finished run is left as it is; an interrupted
one resumes where it stopped. Ctrl-C stops at a safe point (exit 130).`,
  run: ({ values, io, verbosity }) => runWithProgress({ configPath: resolve(values.config), eventsJson: values['events-json'], io, verbosity }),
});
