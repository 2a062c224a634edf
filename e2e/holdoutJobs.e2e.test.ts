import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS_DIR, chromiumMissingReason, launchChromium, watchPage } from './fixtures/browser';
import { ensureRendererBuilt } from './fixtures/ensureRendererBuilt';
import { startWebServer, type WebServer } from './fixtures/webServer';
import { E2E_REVIEWER } from './fixtures/workbenchSession';
import { finishedTinyRun } from '../test/integration/holdoutStudyFixture';

/**
 * Issue 16 §7/§8 in Chromium over the web transport on a real finished tiny-model run
 * (node-llama-cpp, random weights: the numbers are noise, only the plumbing is tested):
 * "Attribute rules" and "Evaluate on holdout" run as jobs in the engine process, with
 * progress, and show their tables; the measured effect appears beside each rule.
 */
const missing = chromiumMissingReason();
if (missing) console.warn(missing);

const SHOTS_DIR = process.env.STAGEB_SHOTS_DIR ?? ARTIFACTS_DIR;

async function shoot(page: Page, name: string): Promise<void> {
  await mkdir(SHOTS_DIR, { recursive: true });
  for (const width of [1280, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(150); // layout settles before the picture; not a measurement
    await page.screenshot({ path: path.join(SHOTS_DIR, `${name}-${width}.png`), fullPage: false });
  }
  await page.setViewportSize({ width: 1400, height: 900 });
}

describe.skipIf(Boolean(missing))('holdout jobs in the guidance editor (tiny model)', () => {
  let browser: Browser;
  let dir: string;
  let server: WebServer;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    ensureRendererBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'stageb-e2e-holdout-'));
    await finishedTinyRun(dir, 'tinyjobs');
    server = await startWebServer({ runsRoot: path.join(dir, 'runs') });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.addInitScript((name) => localStorage.setItem('stageb.reviewer.name', name), E2E_REVIEWER);
    page = await context.newPage();
    ({ errors } = watchPage(page));
  }, 900_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('attributes every rule as a job with progress, shows the per-rule table and the effect beside each rule', async () => {
    await page.goto(server.url);
    await page.getByTestId('runs-list').getByRole('option').first().waitFor();
    await page.keyboard.press('Enter');
    await page.getByTestId('rows-total').filter({ hasText: 'rows' }).waitFor();
    await page.keyboard.press('4');
    await page.getByTestId('attribution-none').waitFor();
    await page.getByTestId('attribute-rules').click();
    await page.getByTestId('attribution-job').waitFor();
    const table = page.getByTestId('attribution-table');
    await table.waitFor({ timeout: 600_000 });
    const rows = await table.locator('tbody tr').count();
    const ruleCount = await page.locator('[data-testid^="rule-row-"]').count();
    expect(rows).toBe(ruleCount);
    await expect(page.getByTestId('attribution-summary').textContent()).resolves.toMatch(/Guidance step 0 · 4 holdout tickets/);
    const effect = await page.getByTestId('rule-row-G0').getByTestId('rule-effect').textContent();
    expect(effect).toMatch(/effect at step 0: label_match [+−±]\d+\.\d pts \[/);
    await page.getByTestId('attribution-panel').scrollIntoViewIfNeeded();
    await shoot(page, '16-attribution');
    expect(errors).toEqual([]);
  }, 900_000);

  it('evaluates an unsaved draft on the holdout as a job and shows uplift, false-release change and the changed tickets before saving', async () => {
    const g1 = page.getByTestId('rule-G1');
    await g1.waitFor();
    const before = await g1.inputValue();
    await g1.fill(`${before}（复核时以照片为准）`);
    await page.getByTestId('evaluate-holdout').click();
    await page.getByTestId('preview-panel').waitFor();
    await page.getByTestId('preview-comparison').waitFor({ timeout: 600_000 });
    await expect(page.getByTestId('preview-uplift').textContent()).resolves.toMatch(/pts|n\/a/);
    await expect(page.getByTestId('preview-false-release').textContent()).resolves.toMatch(/pts|n\/a/);
    await expect(page.getByTestId('preview-gate').textContent()).resolves.toMatch(/The reflection gate would (not )?apply/);
    const changed = (await page.getByTestId('preview-changed').count()) + (await page.getByTestId('preview-no-change').count());
    expect(changed).toBe(1);
    await expect(page.getByTestId('guidance-step').textContent()).resolves.toBe('step 0');
    await page.getByTestId('preview-panel').scrollIntoViewIfNeeded();
    await shoot(page, '16-preview');
    await g1.fill(`${before}（又改了）`);
    await page.getByTestId('preview-outdated').waitFor();
    expect(errors).toEqual([]);
  }, 900_000);

  it('cancels a running attribution from the editor', async () => {
    await expect(page.getByTestId('attribute-rules').textContent()).resolves.toBe('Measure again');
    await page.getByTestId('attribute-rules').click();
    await page.getByTestId('attribution-job-cancel').click();
    await page.getByTestId('attribution-job-status').filter({ hasText: 'cancelled' }).waitFor({ timeout: 120_000 });
    // The result measured before stays on screen.
    await page.getByTestId('attribution-table').waitFor();
    await expect(page.getByTestId('attribute-rules').isEnabled()).resolves.toBe(true);
    expect(errors).toEqual([]);
  }, 300_000);
});
