import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumMissingReason, launchChromium, screenshot } from './fixtures/browser';
import { DEMO_CONFIG, STAGEB, writeDemoConfig } from './fixtures/demoConfig';
import { ensureRendererBuilt } from './fixtures/ensureRendererBuilt';
import { openFixtureRun, openWorkbenchSession, type WorkbenchSession } from './fixtures/workbenchSession';

function skipReason(): string | null {
  const chromium = chromiumMissingReason();
  if (chromium) return chromium;
  if (!existsSync(STAGEB)) return `bin/stageb.js does not exist yet — the launcher e2e (start the demo run and watch it finish) is skipped`;
  if (!existsSync(DEMO_CONFIG)) return 'configs/demo.yaml does not exist yet — launcher e2e skipped';
  return null;
}
const skip = skipReason();
if (skip) console.warn(skip);

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
