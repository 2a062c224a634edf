import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumMissingReason, screenshot, watchPage } from './fixtures/browser';
import { openFixtureRun, type WorkbenchSession, useWorkbenchSessions } from './fixtures/workbenchSession';

const missing = chromiumMissingReason();
if (missing) console.warn(missing);

/** A second page of the same browser session (same context: its localStorage holds the token), its errors checked too. */
async function freshPage(session: WorkbenchSession): Promise<{ page: Page; errors: string[] }> {
  const page = await session.context.newPage();
  return { page, errors: watchPage(page).errors };
}

const params = (url: string) => Object.fromEntries(new URL(url).searchParams);

describe.skipIf(Boolean(missing))('deep links (issue 18)', () => {
  const sessions = useWorkbenchSessions();

  it('gives a group and candidate, a reflection decision and a snapshot a URL that a fresh page opens to the same view', async () => {
    const session = await sessions.open();
    const { page, fixture } = session;
    await openFixtureRun(session);
    // The token left the address bar once kept; the route is in the query.
    expect(page.url()).not.toContain('token');
    expect(params(page.url())).toEqual({ screen: 'rows', run: fixture.runId, mission: fixture.mission });

    // A group, then a candidate in it.
    await page.getByTestId('rows-scroll').focus();
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.getByTestId('summary-format').first().waitFor();
    const groupId = params(page.url()).group;
    expect(groupId).toBeTruthy();
    const candidates = page.locator('tr[data-candidate]');
    await candidates.nth(2).click();
    const candidate = await candidates.nth(2).getAttribute('data-candidate');
    await expect.poll(() => params(page.url()).candidate).toBe(candidate);
    const groupUrl = page.url();

    // A decision other than the first.
    await page.keyboard.press('3');
    await page.getByTestId('reflection-list').focus();
    await page.keyboard.press('j');
    await page.getByTestId('reflection-detail').filter({ hasText: 'refl-e1-b0' }).waitFor();
    await expect.poll(() => params(page.url()).decision).toBe('refl-e1-b0');
    const decisionUrl = page.url();

    // A snapshot other than the first, opened.
    await page.keyboard.press('5');
    await page.getByTestId('snapshot-list').getByRole('option').nth(1).waitFor();
    await page.getByTestId('snapshot-list').focus();
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.getByTestId('snapshot-preview').filter({ hasText: 'step 0 vs current step 2' }).waitFor();
    const snapshot = params(page.url()).snapshot;
    expect(snapshot).toMatch(/\S/);
    const snapshotUrl = page.url();

    for (const url of [groupUrl, decisionUrl, snapshotUrl]) expect(url, 'no token in a link to share').not.toMatch(/token/);

    const fresh = await freshPage(session);
    await fresh.page.goto(groupUrl);
    await fresh.page.getByRole('heading', { name: `Group ${groupId}` }).waitFor();
    await fresh.page.locator(`tr[data-candidate="${candidate}"][aria-selected="true"]`).waitFor();
    await expect(fresh.page.getByTestId('current-run').textContent()).resolves.toContain(fixture.runId);
    await screenshot(fresh.page, 'deeplink-group-candidate');

    await fresh.page.goto(decisionUrl);
    await fresh.page.getByTestId('reflection-detail').filter({ hasText: 'refl-e1-b0' }).waitFor();
    await expect(fresh.page.locator('[data-testid="reflection-list"] [aria-selected="true"]').textContent()).resolves.toContain('e1 b0');

    await fresh.page.goto(snapshotUrl);
    await fresh.page.getByTestId('snapshot-preview').filter({ hasText: 'step 0 vs current step 2' }).waitFor();
    await expect(fresh.page.locator('[data-testid="snapshot-list"] [aria-selected="true"]').textContent()).resolves.toContain(snapshot);
    await fresh.page.close();
    expect(fresh.errors).toEqual([]);
  });

  it('moves through the app with Back and Forward, and a reload keeps the view', async () => {
    const session = await sessions.open();
    const { page, fixture } = session;
    await openFixtureRun(session);
    await page.getByTestId('rows-scroll').focus();
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await expect.poll(() => params(page.url()).group).toBeTruthy();
    const groupId = params(page.url()).group;
    expect(fixture.groupIds).toContain(groupId);
    await page.getByRole('heading', { name: `Group ${groupId}` }).waitFor();
    await page.keyboard.press('6');
    await page.getByTestId('qa-list').waitFor();

    await page.goBack();
    await page.getByRole('heading', { name: `Group ${groupId}` }).waitFor();
    await page.goBack();
    await page.getByTestId('rows-scroll').waitFor();
    await page.goBack();
    await page.getByTestId('runs-list').waitFor();
    await expect(page.getByTestId('current-run').count()).resolves.toBe(0);
    await page.goForward();
    await page.getByTestId('rows-scroll').waitFor();
    await page.goForward();
    await page.getByRole('heading', { name: `Group ${groupId}` }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: `Group ${groupId}` }).waitFor();
    await page.getByTestId('summary-format').first().waitFor();
    // Esc (the app's Back) after the reload is still inside the app, and Forward returns.
    await page.keyboard.press('Escape');
    await page.getByTestId('rows-scroll').waitFor();
    await page.goForward();
    await page.getByRole('heading', { name: `Group ${groupId}` }).waitFor();
  });

  it('opens a link it cannot follow on the runs list with a notice, and never crashes', async () => {
    const session = await sessions.open();
    const { page, server } = session;
    await page.goto(server.url);
    await page.getByTestId('runs-list').getByRole('option').first().waitFor();
    for (const search of ['?screen=nowhere', '?screen=group&run=fixture-run', '?screen=group&run=fixture-run&mission=x']) {
      await page.goto(`${server.origin}/${search}`);
      await page.getByTestId('runs-list').waitFor();
      await page.getByTestId('route-notice').waitFor();
    }
    await expect(page.getByTestId('route-notice').textContent()).resolves.toMatch(/no group/);
  });

  it('without the token, a page says where the token comes from and sends no request; the printed URL then opens the link', async () => {
    const session = await sessions.open();
    const { server } = session;
    const stranger = await session.context.browser()!.newContext();
    try {
      const page = await stranger.newPage();
      const { errors } = watchPage(page);
      const apiCalls: string[] = [];
      page.on('request', (request) => {
        if (new URL(request.url()).pathname.startsWith('/api/')) apiCalls.push(request.url());
      });
      const link = `${server.origin}/?screen=reflection&run=fixture-run&mission=${encodeURIComponent(session.fixture.mission)}&decision=refl-e1-b0`;
      await page.goto(link);
      const tokenPage = page.getByTestId('token-page');
      await tokenPage.waitFor();
      await expect(tokenPage.textContent()).resolves.toMatch(/npm run workbench:web[\s\S]*#token=/);
      await screenshot(page, 'token-page');
      expect(apiCalls).toEqual([]);
      // The printed URL keeps the token for this browser; the link then opens.
      await page.goto(server.url);
      await page.getByTestId('runs-list').getByRole('option').first().waitFor();
      await page.goto(link);
      await page.getByTestId('reflection-detail').filter({ hasText: 'refl-e1-b0' }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await stranger.close();
    }
  });

  it('lays the linked views out without sideways scrolling at 1280 and 1440 px', async () => {
    const session = await sessions.open();
    const { page, fixture, server } = session;
    await page.goto(server.url);
    await page.getByTestId('runs-list').getByRole('option').first().waitFor();
    const run = `run=${fixture.runId}&mission=${encodeURIComponent(fixture.mission)}`;
    const views: Array<[string, string, (p: Page) => Promise<void>]> = [
      ['group', `?screen=group&${run}&group=${fixture.mismatchGroupId}&candidate=1-1`, (p) => p.locator('tr[data-candidate="1-1"][aria-selected="true"]').waitFor()],
      ['reflection', `?screen=reflection&${run}&decision=refl-e1-b0`, (p) => p.getByTestId('reflection-detail').filter({ hasText: 'refl-e1-b0' }).waitFor()],
      ['snapshots', `?screen=snapshots&${run}`, async (p) => {
        await p.getByTestId('snapshot-list').getByRole('option').first().waitFor();
        await p.getByTestId('snapshot-list').focus();
        await p.keyboard.press('Enter');
        await p.getByTestId('rollback').click();
        await p.getByRole('dialog', { name: 'Roll back guidance?' }).waitFor();
      }],
      ['guidance-save-blocked', `?screen=guidance&${run}`, async (p) => {
        await p.getByTestId('rule-G0').fill('');
        await p.getByTestId('save-blocked').waitFor();
      }],
      ['notice', '?screen=group&run=x', (p) => p.getByTestId('route-notice').waitFor()],
    ];
    for (const width of [1280, 1440]) {
      await page.setViewportSize({ width, height: 900 });
      for (const [name, search, ready] of views) {
        await page.goto(`${server.origin}/${search}`);
        await ready(page);
        await screenshot(page, `deeplink-${name}-${width}`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${name} at ${width} px`).toBeLessThanOrEqual(0);
        await page.keyboard.press('Escape');
      }
    }
  }, 300_000);
});
