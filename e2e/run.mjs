#!/usr/bin/env node
// `npm run test:e2e`: build the renderer when stale, then run the e2e specs only.
// The web-transport specs need Debian Chromium (/usr/bin/chromium); they skip with a message without it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' }).status ?? 1;

const build = run('npx', ['vite', 'build', '--config', 'e2e/renderer.vite.config.ts']);
if (build !== 0) process.exit(build);
process.exit(run('npx', ['vitest', 'run', 'e2e/', ...process.argv.slice(2)]));
