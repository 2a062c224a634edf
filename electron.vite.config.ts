import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { rendererViteConfig } from './vite.renderer.config';

// Three builds: the main process (+ the engine host that runs in a utilityProcess),
// the sandboxed preload (CommonJS, as sandboxed preloads must be), and the React renderer.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      externalizeDeps: true,
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/electron/main.ts'),
          engineHost: resolve(__dirname, 'src/main/electron/engineHost.ts'),
        },
        output: { format: 'es', entryFileNames: '[name].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // The preload has no runtime dependencies besides electron; bundle everything into one file.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  // The same renderer build as e2e/renderer.vite.config.ts: minified, Monaco's lean entry.
  renderer: rendererViteConfig(__dirname),
});
