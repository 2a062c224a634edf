import { dirname, join, resolve } from 'node:path';
import { findPackageRoot } from '../../packageRoot';
import { defineCommand } from '../Command';
import { runWithProgress } from '../runWithProgress';

/** The demo's config, in the package (not the current folder), so `stageb demo` works from anywhere. */
export function defaultDemoConfigPath(): string {
  return join(findPackageRoot(), 'configs', 'demo.yaml');
}

export const demoCommand = defineCommand({
  name: 'demo',
  summary: 'generate the demo mission and model, then run it',
  usage: '[--config <file>] [--events-json]',
  options: {
    config: { type: 'string', value: 'file', description: "the demo config (default: the package's configs/demo.yaml)" },
    'events-json': { type: 'boolean', description: 'also print every run event as one JSON line on stdout' },
  },
  description: `Writes the seeded demo mission (resources/demo/) and the tiny random-weight model
(resources/models/tiny.gguf) where the config points, then runs it. The model is written
where nothing is or over an earlier tiny model; another GGUF there is used as it is, and
any other file is refused and left as it was. The default config
and the files it names are the package's own, whatever the current folder is. A demo
run left by an earlier version is moved aside (<run>.previous-<hash>), not deleted.
The random-weight model's verdicts are noise: the demo shows the machinery, not accuracy.`,
  run: async ({ values, io, verbosity }) => {
    const { ensureDemoMission } = await import('../../demo/generateDemoMission');
    const { loadRunConfig } = await import('../../io/loadRunConfig');
    const { ensureDemoModel } = await import('../../demo/ensureDemoModel');
    const { setAsideStaleDemoRun } = await import('../../demo/setAsideStaleDemoRun');
    const configPath = values.config === undefined ? defaultDemoConfigPath() : resolve(values.config);
    // The demo config points at the generators' output: fill it before validation (the run only reads it).
    const prepare = async () => {
      const { config } = await loadRunConfig(configPath);
      const demo = await ensureDemoMission(dirname(config.stage_a_paths[0]));
      if (demo.generated && verbosity !== 'quiet') io.stderr.write(`generated the demo mission in ${demo.outDir}\n`);
      const model = await ensureDemoModel(config.model);
      if (model?.written && verbosity !== 'quiet') io.stderr.write(`wrote the tiny random-weight model to ${model.path}\n`);
      const setAside = await setAsideStaleDemoRun(config);
      if (setAside && verbosity !== 'quiet') io.stderr.write(`the previous demo run was made with another config (an earlier version?); moved it to ${setAside}\n`);
    };
    return await runWithProgress({ configPath, eventsJson: values['events-json'], io, verbosity, prepare });
  },
});
