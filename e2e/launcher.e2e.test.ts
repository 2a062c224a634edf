import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumMissingReason, launchChromium, screenshot } from './fixtures/browser';
import { ensureRendererBuilt, REPO_ROOT } from './fixtures/ensureRendererBuilt';
import { openFixtureRun, openWorkbenchSession, type WorkbenchSession } from './fixtures/workbenchSession';
import { ensureTinyModelForTests, TINY_MODEL_PATH } from '../test/helpers/tinyModel';

const STAGEB = path.join(REPO_ROOT, 'bin', 'stageb.js');
const DEMO_CONFIG = path.join(REPO_ROOT, 'configs', 'demo.yaml');
const TINY_MODEL = TINY_MODEL_PATH;

function skipReason(): string | null {
  const chromium = chromiumMissingReason();
  if (chromium) return chromium;
  if (!existsSync(STAGEB)) return `bin/stageb.js does not exist yet — the launcher e2e (start the demo run and watch it finish) is skipped`;
  if (!existsSync(DEMO_CONFIG)) return 'configs/demo.yaml does not exist yet — launcher e2e skipped';
  return null;
}
const skip = skipReason();
if (skip) console.warn(skip);

/**
 * The demo config, made self-contained for a temp directory: demo data generated
 * by `stageb demo-data`, absolute paths, output into the test's runs root, and a
 * smaller ticket count so a CPU-only machine finishes in minutes.
 */
async function writeDemoConfig(dir: string, runsRoot: string): Promise<string> {
  const demo = path.join(dir, 'demo');
  execFileSync(process.execPath, [STAGEB, 'demo-data', '--out', demo], { cwd: REPO_ROOT, stdio: 'pipe' });
  // A run only loads its model; `stageb demo` writes the demo's, the tests' helper this one.
  await ensureTinyModelForTests();
  const configs = path.join(dir, 'configs');
  await mkdir(configs, { recursive: true });
  const text = (await readFile(DEMO_CONFIG, 'utf8'))
    .replace(/(^\s*-\s*).*demo_mission\.stage_a\.jsonl\s*$/m, `$1${path.join(demo, 'demo_mission.stage_a.jsonl')}`)
    .replace(/(^\s*path:\s*).*demo_guidance\.json\s*$/m, `$1${path.join(demo, 'demo_guidance.json')}`)
    .replace(/(^\s*path:\s*).*tiny\.gguf\s*$/m, `$1${TINY_MODEL}`)
    .replace(/(^\s*root:\s*).*$/m, `$1${runsRoot}`)
    .replace(/(^\s*max_tickets:\s*)\d+/m, '$18')
    .replace(/(^\s*batch_size:\s*)\d+/m, '$14');
  await writeFile(path.join(configs, 'demo.yaml'), text);
  return configs;
}

describe.skipIf(Boolean(skip))('launcher: start the demo run from the workbench and watch it finish', () => {
  let browser: Browser;
  let session: WorkbenchSession | null = null;

  beforeAll(async () => {
    ensureRendererBuilt();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await session?.close();
    session = null;
  });

  it('validates the config, starts the run, shows live progress and ends completed', { timeout: 900_000 }, async () => {
    session = await openWorkbenchSession(browser, { configsRoot: (dir) => writeDemoConfig(dir, path.join(dir, 'runs')) });
    const { page } = session;
    await openFixtureRun(session);
    await page.keyboard.press('8');
    await page.getByTestId('config-list').getByRole('option').first().waitFor();
    await page.getByTestId('config-list').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('config-validation').filter({ hasText: 'Config is valid.' }).waitFor({ timeout: 30_000 });
    await screenshot(page, '14-launcher');
    await page.getByTestId('launch-start').click();
    await page.getByTestId('job-progress').waitFor();
    await page.getByTestId('job-status').filter({ hasText: /running|completed/ }).waitFor({ timeout: 120_000 });
    await screenshot(page, '15-launcher-running');
    await page.getByTestId('job-status').filter({ hasText: /completed|failed|cancelled/ }).waitFor({ timeout: 840_000 });
    await screenshot(page, '16-launcher-done');
    const status = await page.getByTestId('job-status').textContent();
    const log = await page.getByTestId('job-progress').textContent();
    expect(status, log ?? '').toBe('completed');
    await expect(page.getByTestId('bar-overall').getAttribute('aria-valuenow')).resolves.toBe('100');
    await page.keyboard.press('1');
    await page.getByTestId('runs-list').getByRole('option').filter({ hasText: 'demo' }).first().waitFor();
  });
});
