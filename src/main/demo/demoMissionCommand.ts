import * as path from 'node:path';
import { StageBError } from '../../shared/errors';
import { DEMO_DEFAULT_COUNT, DEMO_DEFAULT_SEED, ensureDemoMission, generateDemoMission } from './generateDemoMission';

export const DEMO_DEFAULT_DIR = path.join('resources', 'demo');

export type DemoMissionCommandOptions = { outDir?: string; seed?: number; count?: number; force?: boolean };

function parseNonNegativeInt(flag: string, value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value)) {
    throw new StageBError('API_INVALID_REQUEST', `${flag} needs a non-negative integer, got ${JSON.stringify(value ?? '')}`, { field: flag });
  }
  return Number(value);
}

/** `stageb demo-data [--out DIR] [--seed N] [--count N] [--force]` arguments. */
export function parseDemoMissionArgs(args: readonly string[]): DemoMissionCommandOptions {
  const options: DemoMissionCommandOptions = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--out') options.outDir = args[++i];
    else if (arg === '--seed') options.seed = parseNonNegativeInt('--seed', args[++i]);
    else if (arg === '--count') options.count = parseNonNegativeInt('--count', args[++i]);
    else if (arg === '--force') options.force = true;
    else throw new StageBError('API_INVALID_REQUEST', `unknown argument ${JSON.stringify(arg)}; use --out DIR, --seed N, --count N, --force`, { field: arg });
  }
  if (options.outDir === undefined && args.includes('--out')) {
    throw new StageBError('API_INVALID_REQUEST', '--out needs a folder', { field: '--out' });
  }
  return options;
}

/**
 * Writes (or reuses) the demo mission files and returns a line for the console.
 * The CLI calls this before a demo run; `--force` regenerates unconditionally.
 */
export async function runDemoMissionCommand(options: DemoMissionCommandOptions = {}, cwd: string = process.cwd()): Promise<string> {
  const outDir = path.resolve(cwd, options.outDir ?? DEMO_DEFAULT_DIR);
  const seed = options.seed ?? DEMO_DEFAULT_SEED;
  const count = options.count ?? DEMO_DEFAULT_COUNT;
  if (options.force) {
    const paths = await generateDemoMission({ outDir, seed, count });
    return `demo mission written to ${paths.outDir} (seed ${seed}, ${count} tickets)`;
  }
  const result = await ensureDemoMission(outDir, seed, count);
  return result.generated
    ? `demo mission written to ${result.outDir} (seed ${seed}, ${count} tickets)`
    : `demo mission up to date in ${result.outDir} (seed ${seed}, ${count} tickets)`;
}
