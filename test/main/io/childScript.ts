import * as path from 'node:path';

/**
 * How the crash and race tests start their TypeScript child processes. With esbuild
 * (installed with tsx) the fixture is bundled once into one .mjs so that each of the
 * hundreds of spawns starts in tens of milliseconds instead of the ~0.6 s that
 * `node --import tsx` needs to boot; without it the children run through tsx.
 */
export async function prepareChildScript(entry: string, outDir: string): Promise<{ args: string[] }> {
  try {
    const esbuild = (await import('esbuild')) as typeof import('esbuild');
    const outfile = path.join(outDir, `${path.basename(entry, '.ts')}.bundle.mjs`);
    await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'silent',
      banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    });
    return { args: [outfile] };
  } catch {
    return { args: ['--import', 'tsx', entry] };
  }
}
