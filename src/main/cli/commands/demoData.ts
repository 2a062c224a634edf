import { join } from 'node:path';
import { findPackageRoot } from '../../packageRoot';
import { DEMO_DEFAULT_COUNT, DEMO_DEFAULT_SEED } from '../../demo/generateDemoMission';
import { DEMO_DEFAULT_DIR } from '../../demo/demoMissionCommand';
import { defineCommand } from '../Command';
import { integerOption } from '../UsageError';

export const demoDataCommand = defineCommand({
  name: 'demo-data',
  summary: '(re)generate only the demo mission files',
  usage: '[--out <dir>] [--seed <n>] [--count <n>] [--force]',
  options: {
    out: { type: 'string', value: 'dir', description: `where to write (default: the package's ${DEMO_DEFAULT_DIR}, which configs/demo.yaml reads)` },
    seed: { type: 'string', value: 'n', default: String(DEMO_DEFAULT_SEED), description: 'generator seed' },
    count: { type: 'string', value: 'n', default: String(DEMO_DEFAULT_COUNT), description: 'tickets to generate' },
    force: { type: 'boolean', description: 'regenerate even when the files are up to date' },
  },
  description: 'Files already written for the same seed, count and generator version are left as they are.',
  run: async ({ values, io }) => {
    const seed = integerOption('seed', values.seed)!;
    const count = integerOption('count', values.count)!;
    const { runDemoMissionCommand } = await import('../../demo/demoMissionCommand');
    const outDir = values.out ?? join(findPackageRoot(), DEMO_DEFAULT_DIR);
    io.stdout.write(`${await runDemoMissionCommand({ outDir, seed, count, force: values.force })}\n`);
    return 0;
  },
});
