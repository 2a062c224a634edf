import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumMissingReason, screenshot } from './fixtures/browser';
import { REPO_ROOT } from './fixtures/ensureRendererBuilt';
import { openFixtureRun, useWorkbenchSessions } from './fixtures/workbenchSession';

const missing = chromiumMissingReason();
if (missing) console.warn(missing);

const WIDTHS = [1280, 1440] as const;

/** How far the page and the content pane scroll sideways (0 when everything fits the window). */
async function sidewaysOverflow(page: Page): Promise<{ page: number; content: number }> {
  return page.evaluate(() => {
    const content = document.querySelector('main.content');
    return {
      page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      content: content ? content.scrollWidth - content.clientWidth : 0,
    };
  });
}

/**
 * Every screen of the sidebar, reached by its key the way a reviewer moves, at the two window widths the
 * issue names: each one renders its heading, fits without sideways scrolling, and leaves a screenshot in
 * e2e/artifacts/tour-<screen>-<width>.png to look at. The screens come from the sidebar itself, so a
 * screen added to the registry is toured without editing this file.
 */
describe.skipIf(Boolean(missing))('every screen at 1280 and 1440 px', () => {
  const sessions = useWorkbenchSessions();

  it('renders each sidebar screen and the group detail without sideways scrolling', async () => {
    const session = await sessions.open({ configsRoot: async () => path.join(REPO_ROOT, 'configs') });
    const { page, fixture } = session;
    await openFixtureRun(session);
    const nav = await page.locator('nav.sidebar [data-testid^="nav-"]').evaluateAll((buttons) =>
      buttons.map((b) => ({ id: (b.getAttribute('data-testid') ?? '').slice('nav-'.length), key: b.querySelector('kbd')?.textContent ?? '' })),
    );
    expect(nav.length).toBeGreaterThanOrEqual(10);
    const toured: string[] = [];
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      for (const { id, key } of nav) {
        await page.locator('body').focus();
        await page.keyboard.press(key);
        await page.locator(`[data-testid="nav-${id}"][aria-current="page"]`).waitFor();
        await page.locator('main.content h1').first().waitFor();
        // Let lazily loaded screens (Monaco, uPlot) settle before measuring.
        await page.waitForLoadState('networkidle');
        await page.waitForTimeout(300);
        await screenshot(page, `tour-${id}-${width}`);
        expect(await sidewaysOverflow(page), `${id} at ${width} px`).toEqual({ page: 0, content: 0 });
        toured.push(`${id}@${width}`);
      }
      await page.goto(`${session.server.origin}/?screen=group&run=${fixture.runId}&mission=${encodeURIComponent(fixture.mission)}&group=${encodeURIComponent(fixture.mismatchGroupId)}`);
      await page.locator('main.content h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      await screenshot(page, `tour-group-${width}`);
      expect(await sidewaysOverflow(page), `group at ${width} px`).toEqual({ page: 0, content: 0 });
      await openFixtureRun(session);
    }
    expect(toured).toHaveLength(nav.length * WIDTHS.length);
  }, 300_000);
});
