import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import type { Plugin, UserConfig } from 'vite';

/**
 * The renderer build, shared by electron.vite.config.ts (the app and the web
 * transport serve its out/renderer) and e2e/renderer.vite.config.ts (renderer only,
 * for the browser tests), so both ship the same bundle.
 */
/**
 * monaco-editor 0.57's worker helper (internal/common/workers.js, which the JSON
 * language service imports) also side-effect-imports every editor feature, which
 * would put the whole editor back into the bundle. Keep its code, drop those bare
 * imports; setupMonaco.ts imports the features the screens use.
 */
export const MONACO_WORKERS_MODULE = /[\\/]monaco-editor[\\/]esm[\\/]vs[\\/]internal[\\/]common[\\/]workers\.js$/;
export function stripMonacoFeatureImports(code: string): string {
  return code.replace(/^import '[^']+';\r?\n/gm, '');
}
function monacoWorkersWithoutEveryFeature(): Plugin {
  return {
    name: 'stageb:monaco-workers-without-every-feature',
    enforce: 'pre',
    transform(code, id) {
      return MONACO_WORKERS_MODULE.test(id.split('?')[0]) ? { code: stripMonacoFeatureImports(code), map: null } : undefined;
    },
  };
}

export function rendererViteConfig(repoRoot: string): UserConfig {
  return {
    root: resolve(repoRoot, 'src/renderer'),
    base: './',
    plugins: [react(), monacoWorkersWithoutEveryFeature()],
    resolve: {
      alias: [
        // monaco-worker-manager (used by monaco-yaml's worker) imports the pre-0.55 path
        // monaco-editor/esm/vs/...; monaco-editor 0.57's exports map sends that to a file
        // that does not exist, so point it at the package's esm folder directly.
        { find: /^monaco-editor\/esm\/vs\/(.*)$/, replacement: `${resolve(repoRoot, 'node_modules/monaco-editor/esm/vs')}/$1` },
      ],
    },
    worker: { format: 'es' },
    build: {
      outDir: resolve(repoRoot, 'out/renderer'),
      emptyOutDir: true,
      // Minified for production: the shell the runs list needs is the first thing a user waits for.
      minify: true,
      cssMinify: true,
      // Monaco's editor chunk is large by nature; it loads only on editor screens.
      chunkSizeWarningLimit: 4000,
      rollupOptions: { input: resolve(repoRoot, 'src/renderer/index.html') },
    },
  };
}
