import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * Builds only the renderer, the same way electron.vite.config.ts's renderer
 * section does (root src/renderer, output out/renderer, relative base), so the
 * e2e run does not depend on the main/preload builds.
 */
const root = resolve(import.meta.dirname, '..');

export default defineConfig({
  root: resolve(root, 'src/renderer'),
  base: './',
  plugins: [react()],
  worker: { format: 'es' },
  build: {
    outDir: resolve(root, 'out/renderer'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 8000,
    rollupOptions: { input: resolve(root, 'src/renderer/index.html') },
  },
  logLevel: 'warn',
});
