/**
 * Renderer bench: what a browser has to fetch and how long until the first screen
 * is useful, against a built renderer served by the real web server
 * (createWebServer, the same headers and compression the workbench sends).
 *
 * Per repetition, in a fresh browser context (empty cache):
 *   shell    the scripts (and CSS) loaded until the runs list shows its first run;
 *   monaco   what opening a config in the launcher's editor adds on top (editor
 *            chunks, CSS, fonts, workers);
 *   first_runs_list_ms  page.goto until the first row of the runs list is rendered,
 *            with the main-thread script and task time Chromium reports until then.
 * Bytes are printed raw (file size), gzipped (zlib level 9 of the file) and as sent
 * on the wire (content-length of the response, after any content-encoding).
 * Times are medians over the repetitions; the byte counts are identical in each.
 *
 * Usage: npm run build && npm run bench:renderer [-- --dir out/renderer --repeat 5]
 * Needs Chromium at /usr/bin/chromium (or STAGEB_CHROMIUM).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync, constants as zlibConstants } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserContext } from 'playwright-core';
import { createDefaultWorkbenchApi } from '../../src/main/api/createDefaultWorkbenchApi';
import { writeFixtureRun } from '../../src/main/api/fixtureRun';
import { createToken } from '../../src/main/security/checkToken';
import { createWebServer } from '../../src/main/web/createWebServer';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const CHROMIUM = process.env.STAGEB_CHROMIUM ?? '/usr/bin/chromium';

function arg(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : (process.argv[index + 1] ?? fallback);
}

type Loaded = { url: string; file: string; kind: 'js' | 'css' | 'font' | 'other'; raw: number; gzip: number; wire: number };

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function kindOf(file: string): Loaded['kind'] {
  const ext = path.extname(file);
  if (ext === '.js' || ext === '.mjs') return 'js';
  if (ext === '.css') return 'css';
  if (['.ttf', '.woff', '.woff2'].includes(ext)) return 'font';
  return 'other';
}

function sum(items: Loaded[], field: 'raw' | 'gzip' | 'wire', kind?: Loaded['kind']): number {
  return items.filter((i) => !kind || i.kind === kind).reduce((s, i) => s + i[field], 0);
}

async function main(): Promise<void> {
  const staticDir = path.resolve(REPO, arg('--dir', 'out/renderer'));
  const repeat = Number(arg('--repeat', '5'));
  if (!existsSync(path.join(staticDir, 'index.html'))) {
    console.error(`no built renderer at ${staticDir}; run \`npm run build\` first (or pass --dir)`);
    process.exit(2);
  }
  if (!existsSync(CHROMIUM)) {
    console.error(`Chromium not found at ${CHROMIUM} (set STAGEB_CHROMIUM)`);
    process.exit(2);
  }
  const base = await mkdtemp(path.join(tmpdir(), 'bench-renderer-'));
  const runsRoot = path.join(base, 'runs');
  const configsRoot = path.join(base, 'configs');
  await writeFixtureRun(runsRoot, { runName: 'bench-run', mission: 'BBU接地线检查', groups: 40, candidates: 2, epochs: 1 });
  await mkdir(configsRoot, { recursive: true });
  await writeFile(path.join(configsRoot, 'demo.yaml'), await readFile(path.join(REPO, 'configs', 'demo.yaml'), 'utf8'));

  const api = createDefaultWorkbenchApi({ runsRoot, configsRoot });
  const token = createToken();
  const server = createWebServer({ api, token, staticDir });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });

  const gzipCache = new Map<string, number>();
  const describe = async (url: string, wire: number): Promise<Loaded | null> => {
    const pathname = new URL(url).pathname;
    if (!url.startsWith(origin) || pathname.startsWith('/api/')) return null;
    const file = pathname === '/' ? 'index.html' : pathname.slice(1);
    const body = await readFile(path.join(staticDir, file)).catch(() => null);
    if (!body) return null;
    if (!gzipCache.has(file)) gzipCache.set(file, gzipSync(body, { level: zlibConstants.Z_BEST_COMPRESSION }).length);
    return { url, file, kind: kindOf(file), raw: body.length, gzip: gzipCache.get(file)!, wire };
  };

  async function once(): Promise<{ firstRunsListMs: number; scriptMs: number; taskMs: number; shell: Loaded[]; monaco: Loaded[]; workers: string[] }> {
    const context: BrowserContext = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const loaded: Loaded[] = [];
    const pending: Promise<void>[] = [];
    const workers: string[] = [];
    context.on('response', (response) => {
      if (new URL(response.url()).pathname.startsWith('/api/')) return;
      pending.push((async () => {
        const length = Number(response.headers()['content-length'] ?? (await response.body().catch(() => Buffer.alloc(0))).length);
        const item = await describe(response.url(), length);
        if (item) loaded.push(item);
      })());
    });
    const page = await context.newPage();
    page.on('worker', (worker) => workers.push(path.basename(new URL(worker.url()).pathname)));
    page.on('crash', () => console.error('page crashed'));
    page.on('pageerror', (error) => console.error(`pageerror: ${error.message}`));
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const started = performance.now();
    await page.goto(`${origin}/#token=${token}`);
    await page.getByTestId('runs-list').getByRole('option').first().waitFor();
    const firstRunsListMs = performance.now() - started;
    // Main-thread time Chromium spent running script / all tasks up to here: less
    // sensitive than wall time to other load on a shared machine.
    const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
    const metric = (name: string) => (metrics.find((m) => m.name === name)?.value ?? 0) * 1000;
    const scriptMs = metric('ScriptDuration');
    const taskMs = metric('TaskDuration');
    await Promise.all(pending);
    const shell = [...loaded];
    const shellCount = loaded.length;
    await page.getByTestId('nav-launcher').click();
    await page.getByTestId('config-list').getByRole('option').first().waitFor();
    await page.getByTestId('config-list').focus();
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="config-editor"] .view-line').first().waitFor();
    // Workers and lazily added chunks arrive after the first paint of the editor; wait until
    // nothing new has been fetched for a second.
    let seen = -1;
    while (seen !== loaded.length) {
      seen = loaded.length;
      await page.waitForTimeout(1000);
      await Promise.all(pending);
    }
    await context.close();
    return { firstRunsListMs, scriptMs, taskMs, shell, monaco: loaded.slice(shellCount), workers };
  }

  try {
    const runs = [];
    for (let i = 0; i < repeat; i++) runs.push(await once());
    const { shell, monaco, workers } = runs[runs.length - 1];
    const times = runs.map((r) => r.firstRunsListMs);
    console.log(`renderer: ${path.relative(REPO, staticDir) || staticDir}; ${repeat} repetitions, fresh browser context each`);
    console.log(`shell_js_bytes        raw ${sum(shell, 'raw', 'js')} (${kb(sum(shell, 'raw', 'js'))}), gzip ${sum(shell, 'gzip', 'js')} (${kb(sum(shell, 'gzip', 'js'))}), wire ${sum(shell, 'wire', 'js')} (${kb(sum(shell, 'wire', 'js'))}) in ${shell.filter((i) => i.kind === 'js').length} files`);
    console.log(`shell_all_bytes       raw ${sum(shell, 'raw')} (${kb(sum(shell, 'raw'))}), wire ${sum(shell, 'wire')} (${kb(sum(shell, 'wire'))}) incl. index.html and CSS`);
    console.log(`monaco_screen_adds    raw ${sum(monaco, 'raw')} (${kb(sum(monaco, 'raw'))}), gzip ${sum(monaco, 'gzip')} (${kb(sum(monaco, 'gzip'))}), wire ${sum(monaco, 'wire')} (${kb(sum(monaco, 'wire'))}) in ${monaco.length} files`);
    console.log(`monaco_screen_js      raw ${sum(monaco, 'raw', 'js')} (${kb(sum(monaco, 'raw', 'js'))}), gzip ${sum(monaco, 'gzip', 'js')} (${kb(sum(monaco, 'gzip', 'js'))})`);
    console.log(`monaco_workers        ${workers.length ? workers.join(', ') : 'none'}`);
    for (const item of [...monaco].sort((a, b) => b.raw - a.raw).slice(0, 8)) console.log(`  ${item.file.padEnd(48)} raw ${kb(item.raw).padStart(12)}  wire ${kb(item.wire).padStart(12)}`);
    const files = readdirSync(staticDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && !/\.(gz|br)$/.test(e.name));
    const onDisk = files.reduce((s, e) => s + statSync(path.join(e.parentPath, e.name)).size, 0);
    console.log(`renderer_build_bytes  ${onDisk} (${kb(onDisk)}) in ${files.length} files, precompressed copies not counted`);
    console.log(`first_runs_list_ms    median ${median(times).toFixed(0)} (runs: ${times.map((t) => t.toFixed(0)).join(', ')})`);
    console.log(`  main-thread script  median ${median(runs.map((r) => r.scriptMs)).toFixed(0)} ms, all tasks median ${median(runs.map((r) => r.taskMs)).toFixed(0)} ms (Chromium Performance metrics, until the runs list)`);
  } finally {
    await browser.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    api.jobs.shutdown();
    await rm(base, { recursive: true, force: true });
  }
}

await main();
