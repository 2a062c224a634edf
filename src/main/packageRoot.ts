import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const APP_PACKAGE_NAME = 'stage-b-workbench';

type PackageJson = { name?: string; version?: string };

function readPackageJson(dir: string): PackageJson | null {
  const file = path.join(dir, 'package.json');
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
  } catch {
    return null;
  }
}

/** The nearest folder at or above `from` whose package.json is named `name`. */
function findPackageDir(from: string, name: string): string | null {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (readPackageJson(dir)?.name === name) return dir;
    if (path.dirname(dir) === dir) return null;
  }
}

/**
 * The app's own folder (package.json, configs/, resources/, bin/), found by walking up
 * from this module: the same answer from src/main (tsx), out/main (the Electron build)
 * and an installed package, whatever the current directory is.
 */
export function findPackageRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  const dir = findPackageDir(from, APP_PACKAGE_NAME);
  if (!dir) throw new Error(`no package.json named ${APP_PACKAGE_NAME} above ${from}`);
  return dir;
}

/** This app's version from its package.json. */
export function appVersion(): string {
  return readPackageJson(findPackageRoot())?.version ?? 'unknown';
}

/**
 * An installed dependency's version. Read from the package's folder found through its
 * resolved entry point, because packages with an `exports` map (node-llama-cpp) refuse
 * `require('<name>/package.json')`.
 */
export function dependencyVersion(name: string): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    return 'unknown';
  }
  const dir = findPackageDir(path.dirname(entry), name);
  return (dir && readPackageJson(dir)?.version) || 'unknown';
}
