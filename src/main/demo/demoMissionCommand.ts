import * as path from 'node:path';
import { DEMO_DEFAULT_COUNT, DEMO_DEFAULT_SEED, ensureDemoMission, generateDemoMission } from './generateDemoMission';

export const DEMO_DEFAULT_DIR = path.join('resources', 'demo');

export type DemoMissionCommandOptions = { outDir?: string; seed?: number; count?: number; force?: boolean };

/**
 * Writes (or reuses) the demo mission files and returns a line for the console.
 * `stageb demo-data` (src/main/cli/commands/demoData.ts); `force` regenerates unconditionally.
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
