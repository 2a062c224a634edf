import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumMissingReason, screenshot } from './fixtures/browser';
import { openFixtureRun, useWorkbenchSessions, type WorkbenchSession } from './fixtures/workbenchSession';

const missing = chromiumMissingReason();
if (missing) console.warn(missing);

async function selections(session: WorkbenchSession): Promise<Array<{ group_id: string; epoch: number }>> {
  const text = await readFile(path.join(session.fixture.missionDir, 'selections.jsonl'), 'utf8');
  return text.trim().split('\n').map((line) => JSON.parse(line));
}

const heading = (page: Page, groupId: string) => page.getByRole('heading', { name: `Group ${groupId}`, exact: true });

/** True when nothing on the page is wider than the viewport (no horizontal overflow of the content pane). */
async function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const content = document.querySelector('.content') as HTMLElement;
    return document.documentElement.scrollWidth > window.innerWidth || content.scrollWidth > content.clientWidth;
  });
}

describe.skipIf(Boolean(missing))('group detail in Chromium over the web transport', () => {
  const sessions = useWorkbenchSessions();

  it('opens a group from a sorted, filtered table, steps next/previous by keyboard, copies the id, and shows the prompt and decode params', async () => {
    const session = await sessions.open();
    const { page, context, server } = session;
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });
    await openFixtureRun(session);
    const rows = await selections(session);
    // The search covers the tickets' Stage-A summaries: 中兴 is a vendor only the summaries name.
    const stageA = (await readFile(session.fixture.stageAPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { group_id: string; per_image: Record<string, string> });
    const zte = new Set(stageA.filter((ticket) => Object.values(ticket.per_image).some((text) => text.includes('中兴'))).map((ticket) => ticket.group_id));
    const selectionsText = await readFile(path.join(session.fixture.missionDir, 'selections.jsonl'), 'utf8');
    expect(selectionsText).not.toContain('中兴');
    expect(zte.size).toBeGreaterThan(0);
    await expect(page.getByTestId('search-covers').textContent()).resolves.toContain('Stage-A');
    await page.getByTestId('filter-text').fill('中兴');
    await page.getByTestId('rows-total').filter({ hasText: new RegExp(`^${rows.filter((row) => zte.has(row.group_id)).length} rows$`) }).waitFor();
    await page.getByTestId('filter-text').fill('');
    await page.getByTestId('rows-total').filter({ hasText: new RegExp(`^${rows.length} rows$`) }).waitFor();
    // The table the reviewer works in: epoch 1, sorted by group id descending.
    await page.getByTestId('filter-epoch').fill('1');
    const epoch1 = rows.filter((row) => row.epoch === 1).map((row) => row.group_id).sort().reverse();
    await page.getByTestId('rows-total').filter({ hasText: new RegExp(`^${epoch1.length} rows`) }).waitFor();
    await page.getByRole('columnheader', { name: 'Group' }).click();
    await page.getByRole('columnheader', { name: 'Group ▲' }).click();
    await page.getByRole('columnheader', { name: 'Group ▼' }).waitFor();
    await page.locator('#row-0').filter({ hasText: epoch1[0] }).waitFor();
    await page.getByTestId('rows-scroll').focus();
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');

    await heading(page, epoch1[1]).waitFor();
    await page.getByTestId('group-position').filter({ hasText: `row 2 of ${epoch1.length} in the trajectories table` }).waitFor();
    // The prompt the first candidate was sampled with, beside its decode parameters.
    const user = page.getByTestId('prompt-user');
    await user.waitFor();
    await expect(user.textContent()).resolves.toContain(`工单 ${epoch1[1]} 的图片摘要`);
    await expect(page.getByTestId('prompt-system').textContent()).resolves.toContain('Verdict: 通过 或 不通过');
    const params = await page.getByTestId('decode-params').textContent();
    for (const name of ['temperature', 'top_p', 'seed', 'max_new_tokens', 'prompt_variant', 'format']) expect(params).toContain(name);
    // The fixture's run.json records no sampler: the defaults assumed are said so.
    await page.getByTestId('prompt-warning').first().waitFor();

    // j selects the next candidate: its own prompt and seed.
    const firstSeed = params!.match(/seed(\d+)/)?.[1];
    await page.keyboard.press('j');
    await expect(page.getByTestId('candidate-1').getAttribute('aria-selected')).resolves.toBe('true');
    await expect.poll(async () => (await page.getByTestId('decode-params').textContent())!.match(/seed(\d+)/)?.[1]).not.toBe(firstSeed);
    await screenshot(page, 'group-detail-1400');

    await page.keyboard.press(']');
    await heading(page, epoch1[2]).waitFor();
    await page.getByTestId('group-position').filter({ hasText: `row 3 of ${epoch1.length}` }).waitFor();
    await page.keyboard.press('[');
    await heading(page, epoch1[1]).waitFor();
    await page.keyboard.press('[');
    await heading(page, epoch1[0]).waitFor();
    await expect(page.getByTestId('group-prev').isDisabled()).resolves.toBe(true);

    await page.keyboard.press('c');
    await page.getByTestId('copy-status').filter({ hasText: `Copied group id ${epoch1[0]}` }).waitFor();
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(epoch1[0]);
    await expect(page.getByTestId('group-id').textContent()).resolves.toBe(epoch1[0]);

    // Back leaves the group screen in one step, whatever was stepped through.
    await page.keyboard.press('Escape');
    await page.getByTestId('rows-scroll').waitFor();
  });

  it('steps through the run order when a group is opened directly, and fits 1280 and 1440 px', async () => {
    const session = await sessions.open();
    const { page } = session;
    await openFixtureRun(session);
    const rows = await selections(session);
    for (const width of [1280, 1440]) {
      await page.setViewportSize({ width, height: 900 });
      await page.getByTestId('filter-kind').selectOption('trajectories');
      await page.getByTestId('rows-total').filter({ hasText: /rows/ }).waitFor();
      await page.locator('#row-0').waitFor();
      expect(await overflowsHorizontally(page), `trajectories table at ${width}px`).toBe(false);
      // The group column shows the whole id (wrapped when needed), never an ellipsis.
      const cell = page.locator('#row-0 [role="gridcell"]').nth(3);
      expect(await cell.evaluate((el) => el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight + 1)).toBe(true);
      await screenshot(page, `trajectories-${width}`);
      await page.getByTestId('filter-kind').selectOption('selections');
      await page.getByTestId('rows-total').filter({ hasText: /rows/ }).waitFor();
      await page.locator('#row-0').waitFor();
      expect(await overflowsHorizontally(page), `selections table at ${width}px`).toBe(false);
      await screenshot(page, `selections-${width}`);
    }
    // Opened from the reflection screen's evidence link, not the table: the run order.
    await page.keyboard.press('3');
    const evidence = page.getByTestId('evidence-link').first();
    await evidence.waitFor();
    const groupId = (await evidence.textContent())!.split('::')[0];
    await evidence.click();
    await heading(page, groupId).waitFor();
    const order = rows.map((row) => row.group_id);
    const at = order.indexOf(groupId);
    await page.getByTestId('group-position').filter({ hasText: `row ${at + 1} of ${order.length} in the run order` }).waitFor();
    const next = order.slice(at + 1).find((id) => id !== groupId)!;
    await page.getByTestId('prompt-user').waitFor();
    for (const width of [1280, 1440]) {
      await page.setViewportSize({ width, height: 900 });
      expect(await overflowsHorizontally(page), `group detail at ${width}px`).toBe(false);
      await screenshot(page, `group-detail-${width}`);
      await page.getByTestId('candidate-prompt').scrollIntoViewIfNeeded();
      await screenshot(page, `group-prompt-${width}`);
    }
    await page.getByTestId('group-next').click();
    await heading(page, next).waitFor();
  });
});
