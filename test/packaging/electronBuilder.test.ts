import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Configuration } from 'electron-builder';
import config from '../../electron-builder';
import { ICON_SIZES, encodePng, renderIcon } from '../../scripts/generateIcons';

const root = path.resolve(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);
// electron-builder's own pieces (app-builder-lib is its exact-version dependency): the
// schema validation `electron-builder` runs first, and the matcher its `files` globs go through.
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: Configuration, logger: { isEnabled: boolean; add(key: string, value: unknown): void }): Promise<void>;
};
const { FileMatcher } = require('app-builder-lib/out/fileMatcher.js') as {
  FileMatcher: new (from: string, to: string, expand: (pattern: string) => string, patterns: string[]) => { createFilter(): (file: string, stat: { isDirectory(): boolean }) => boolean };
};
const quietLogger = { isEnabled: false, add: () => undefined };

/** electron-builder's ${os} key for a Node platform. */
const OS_KEY: Record<string, string> = { linux: 'linux', darwin: 'mac', win32: 'win' };

/** Every binding package node-llama-cpp declares, plus any installed here. */
function bindingPackages(): string[] {
  const manifest = JSON.parse(readFileSync(path.join(root, 'node_modules', 'node-llama-cpp', 'package.json'), 'utf8')) as { optionalDependencies: Record<string, string> };
  const declared = Object.keys(manifest.optionalDependencies);
  const installedDir = path.join(root, 'node_modules', '@node-llama-cpp');
  const installed = existsSync(installedDir) ? readdirSync(installedDir).map((name) => `@node-llama-cpp/${name}`) : [];
  return [...new Set([...declared, ...installed])].map((name) => name.slice('@node-llama-cpp/'.length)).sort();
}

/** The binding folders whose native files the package for os/arch keeps, by electron-builder's own matcher. */
function keptBindings(os: string, arch: string): string[] {
  const expand = (pattern: string) => pattern.replace(/\$\{os\}/g, os).replace(/\$\{arch\}/g, arch);
  const filter = new FileMatcher(root, '/app', expand, config.files as string[]).createFilter();
  const file = { isDirectory: () => false };
  return bindingPackages().filter((name) => {
    const keepsScoped = filter(path.join(root, 'node_modules', '@node-llama-cpp', name, 'bins', name, 'llama-addon.node'), file);
    const keepsBundled = filter(path.join(root, 'node_modules', 'node-llama-cpp', 'bins', name, 'llama-addon.node'), file);
    expect(keepsBundled, `node-llama-cpp/bins/${name} and @node-llama-cpp/${name} must be filtered alike`).toBe(keepsScoped);
    return keepsScoped;
  });
}

const forTarget = (os: string, arch: string) => (name: string) => name === `${os}-${arch}` || name.startsWith(`${os}-${arch}-`);

describe('electron-builder config (npm run dist)', () => {
  it("passes electron-builder's configuration schema", async () => {
    await expect(validateConfiguration(config, quietLogger)).resolves.toBeUndefined();
  });

  it('and that check can fail: a misspelt key is refused', async () => {
    await expect(validateConfiguration({ ...config, linux: { ...config.linux, targte: 'deb' } } as Configuration, quietLogger)).rejects.toThrow(/Invalid configuration object[\s\S]*linux/);
  });

  it('names the app, its icons and Linux AppImage + deb targets, and packs the built app', () => {
    expect(config.appId).toMatch(/^[a-z0-9.-]+$/);
    expect(config.productName).toBeTruthy();
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.directories?.buildResources).toBe('resources');
    expect(existsSync(path.join(root, config.icon as string))).toBe(true);
    const main = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string }).main;
    const filter = new FileMatcher(root, '/app', (p) => p, config.files as string[]).createFilter();
    expect(filter(path.join(root, main), { isDirectory: () => false })).toBe(true);
    expect(filter(path.join(root, 'out', 'renderer', 'index.html'), { isDirectory: () => false })).toBe(true);
    expect(filter(path.join(root, 'src', 'main', 'cli.ts'), { isDirectory: () => false })).toBe(false);
    expect(config.asarUnpack).toContain('node_modules/@node-llama-cpp/*');
  });

  const hostOs = OS_KEY[process.platform];
  it.skipIf(!hostOs)(`keeps this host's node-llama-cpp bindings (${hostOs}-${process.arch}*) and drops every other platform's`, () => {
    const kept = keptBindings(hostOs, process.arch);
    const all = bindingPackages();
    expect(kept).toEqual(all.filter(forTarget(hostOs, process.arch)));
    expect(all.length - kept.length).toBeGreaterThan(0);
    const installed = readdirSync(path.join(root, 'node_modules', '@node-llama-cpp')).filter(forTarget(hostOs, process.arch));
    for (const name of installed) expect(kept).toContain(name);
  });

  it.each([
    ['linux', 'x64', ['linux-x64', 'linux-x64-cuda', 'linux-x64-cuda-ext', 'linux-x64-vulkan']],
    ['linux', 'arm64', ['linux-arm64']],
    ['mac', 'arm64', ['mac-arm64-metal']],
    ['win', 'x64', ['win-x64', 'win-x64-cuda', 'win-x64-cuda-ext', 'win-x64-vulkan']],
  ])('a %s-%s package keeps exactly %j', (os, arch, expected) => {
    expect(keptBindings(os, arch)).toEqual(expected);
  });

  it('ships the icon sizes the desktop entries use, as drawn by scripts/generateIcons.ts', () => {
    for (const size of ICON_SIZES) {
      const png = readFileSync(path.join(root, 'resources', 'icons', `${size}x${size}.png`));
      expect(png.readUInt32BE(16)).toBe(size);
      expect(png.readUInt32BE(20)).toBe(size);
    }
    expect(readFileSync(path.join(root, 'resources', 'icons', '32x32.png')).equals(encodePng(32, renderIcon(32)))).toBe(true);
    expect(readFileSync(path.join(root, 'resources', 'icon.png')).equals(readFileSync(path.join(root, 'resources', 'icons', '512x512.png')))).toBe(true);
  });

  // Packaging downloads Electron's binary (and the AppImage/fpm tools) from GitHub and
  // takes minutes; it runs only when asked for.
  const packagingSkip = process.env.STAGEB_PACKAGE === '1' ? null : 'packaging step skipped: set STAGEB_PACKAGE=1 to run electron-builder --dir here (it downloads Electron from GitHub); `npm run dist` builds the AppImage and deb';
  if (packagingSkip) console.warn(packagingSkip);
  it.skipIf(Boolean(packagingSkip))('packs an unpacked Linux app with the host bindings outside the asar', { timeout: 900_000 }, () => {
    const build = spawnSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: 'inherit' });
    expect(build.status).toBe(0);
    const pack = spawnSync('npx', ['electron-builder', '--dir', '--publish', 'never'], { cwd: root, stdio: 'inherit' });
    expect(pack.status).toBe(0);
    const unpacked = path.join(root, 'dist', `linux-${process.arch === 'x64' ? '' : `${process.arch}-`}unpacked`, 'resources', 'app.asar.unpacked', 'node_modules', '@node-llama-cpp');
    expect(readdirSync(unpacked).sort()).toEqual(readdirSync(path.join(root, 'node_modules', '@node-llama-cpp')).filter(forTarget('linux', process.arch)).sort());
  });
});
