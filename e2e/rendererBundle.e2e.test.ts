import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stripMonacoFeatureImports } from '../vite.renderer.config';
import { ensureRendererBuilt, REPO_ROOT } from './fixtures/ensureRendererBuilt';

const ASSETS = path.join(REPO_ROOT, 'out', 'renderer', 'assets');

/** What the renderer build ships: the lean Monaco and a minified shell (sizes go in bench:renderer). */
describe('renderer bundle', () => {
  let files: string[];
  beforeAll(() => {
    ensureRendererBuilt();
    files = readdirSync(ASSETS);
  });

  it('has the editor, JSON and YAML workers and no other', () => {
    const workers = files.filter((f) => /\.worker-[\w-]+\.js$/.test(f)).map((f) => f.replace(/-[\w-]+\.js$/, '')).sort();
    expect(workers).toEqual(['editor.worker', 'json.worker', 'yaml.worker']);
  });

  it("carries no language of Monaco's besides YAML and JSON", () => {
    for (const language of ['python', 'typescript', 'javascript', 'css', 'html', 'markdown', 'cpp', 'tsMode', 'cssMode', 'htmlMode']) {
      expect(files.filter((f) => f.startsWith(`${language}-`)), language).toEqual([]);
    }
    expect(files.some((f) => /^yaml-[\w-]+\.js$/.test(f))).toBe(true);
  });

  it('is minified: the entry script averages thousands of characters a line', () => {
    const entry = /src="\.\/assets\/(index-[\w-]+\.js)"/.exec(readFileSync(path.join(REPO_ROOT, 'out', 'renderer', 'index.html'), 'utf8'))?.[1];
    expect(entry).toBeTruthy();
    const text = readFileSync(path.join(ASSETS, entry!), 'utf8');
    expect(text.length / text.split('\n').length).toBeGreaterThan(2000);
  });

  it("drops only the bare feature imports from Monaco's worker helper", () => {
    const helper = "import '../../editor/contrib/find/browser/findController.js';\nimport { editor } from '../../editor/editor.api.js';\nfunction createWebWorker() {}\n";
    expect(stripMonacoFeatureImports(helper)).toBe("import { editor } from '../../editor/editor.api.js';\nfunction createWebWorker() {}\n");
  });
});
