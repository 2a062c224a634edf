import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import { rendererViteConfig } from '../vite.renderer.config.js';

/**
 * Builds only the renderer, with the same options as electron.vite.config.ts's
 * renderer section (both come from vite.renderer.config.ts), so the e2e run does
 * not depend on the main/preload builds.
 */
export default defineConfig({ ...rendererViteConfig(resolve(import.meta.dirname, '..')), logLevel: 'warn' });
