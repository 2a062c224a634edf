import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRunConfigText } from '../io/loadRunConfig';
import type { EngineLauncher } from './JobRunner';
import { createNodeEngineLauncher } from './nodeEngineLauncher';
import { createWorkbenchApi, type WorkbenchApi } from './createWorkbenchApi';

/** The repository root (where bin/stageb.js lives), from this file's location in src/main/api or out/main. */
export function findProjectRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  return path.resolve(from, from.includes(`${path.sep}src${path.sep}`) ? '../../..' : '../..');
}

/** The workbench API wired to the real config parser and engine host (and, by default, the real guidance repository). */
export function createDefaultWorkbenchApi(options: { runsRoot: string; configsRoot?: string | null; engineLauncher?: EngineLauncher; projectRoot?: string }): WorkbenchApi {
  const projectRoot = options.projectRoot ?? findProjectRoot();
  return createWorkbenchApi({
    runsRoot: options.runsRoot,
    configsRoot: options.configsRoot ?? null,
    engineLauncher: options.engineLauncher ?? createNodeEngineLauncher({ stagebBin: path.join(projectRoot, 'bin', 'stageb.js'), cwd: projectRoot }),
    parseConfig: (text, label) => parseRunConfigText(text, label),
  });
}
