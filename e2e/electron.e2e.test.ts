import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { _electron } from 'playwright-core';
import { REPO_ROOT } from './fixtures/ensureRendererBuilt';

/**
 * The Electron binary, or null. Read from electron's path.txt rather than
 * `require('electron')`, which in this version starts a download when the binary is missing.
 */
function electronBinary(): string | null {
  try {
    const dir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
    const pathFile = path.join(dir, 'path.txt');
    if (!existsSync(pathFile)) return null;
    const binary = path.join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
    return existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

const binary = electronBinary();
const mainEntry = path.join(REPO_ROOT, 'out', 'main', 'index.js');
const skip = !binary
  ? 'Electron binary absent (electron 45 downloads it on first launch; not done here) — Electron e2e skipped; the web-transport e2e covers the renderer'
  : !existsSync(mainEntry)
    ? `${mainEntry} not built (run npm run build) — Electron e2e skipped`
    : null;
if (skip) console.warn(skip);

describe.skipIf(Boolean(skip))('workbench in Electron', () => {
  it('opens the window with the renderer and the preload bridge, and lists runs', async () => {
    const app = await _electron.launch({ executablePath: binary!, args: [REPO_ROOT], cwd: REPO_ROOT });
    try {
      const window = await app.firstWindow();
      await window.getByTestId('nav-runs').waitFor();
      expect(await window.evaluate(() => typeof (globalThis as Record<string, unknown>).stagebApi)).toBe('object');
      expect(await window.evaluate(() => typeof (globalThis as Record<string, unknown>).require)).toBe('undefined');
    } finally {
      await app.close();
    }
  });
});
