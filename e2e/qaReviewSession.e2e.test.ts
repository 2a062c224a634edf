import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Download, Page } from 'playwright-core';
import { chromiumMissingReason } from './fixtures/browser';
import { E2E_REVIEWER, openFixtureRun, useWorkbenchSessions } from './fixtures/workbenchSession';

const missing = chromiumMissingReason();
if (missing) console.warn(missing);

/** Where the QA screen screenshots go, at the widths the issue asks for. */
const SHOTS_DIR = process.env.STAGEB_QA_SHOTS ?? '/tmp/shots-18';
const STATUS_KEYS: Array<[string, string]> = [['o', 'ok'], ['l', 'label_wrong'], ['e', 'guidance_gap'], ['m', 'model_error'], ['x', 'other']];
const SESSION_LENGTH = 20;

async function readDownload(download: Download): Promise<Array<Record<string, unknown>>> {
  const file = await download.path();
  const text = await readFile(file, 'utf8');
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

/** The selected item's group id and epoch, as the QA list shows them. */
async function selectedItem(page: Page): Promise<{ group: string; epoch: string }> {
  const option = page.getByTestId('qa-list').locator('[role="option"][aria-selected="true"]');
  const group = (await option.locator('strong.group-id').textContent()) ?? '';
  const meta = (await option.locator('.muted').first().textContent()) ?? '';
  return { group, epoch: /epoch (\S+)/.exec(meta)?.[1] ?? '' };
}

async function progress(page: Page): Promise<{ reviewed: number; total: number }> {
  const text = (await page.getByTestId('qa-progress').textContent()) ?? '';
  const m = /(\d+) \/ (\d+) reviewed/.exec(text);
  if (!m) throw new Error(`no progress in ${JSON.stringify(text)}`);
  return { reviewed: Number(m[1]), total: Number(m[2]) };
}

describe.skipIf(Boolean(missing))('a keyboard-only QA review session in Chromium', () => {
  const sessions = useWorkbenchSessions();

  it('reviews 20 items with notes, undoes one, shows progress, and exports the reviews and corrections', async () => {
    const session = await sessions.open();
    const { page, fixture } = session;
    await openFixtureRun(session);
    await page.keyboard.press('6');
    await page.getByTestId('qa-list').getByRole('option').first().waitFor();
    await page.getByTestId('qa-progress').filter({ hasText: /^\s*0 \/ \d+ reviewed/ }).waitFor();

    // The queue starts on the items that need a person, not on every group with a critique.
    await expect(page.getByTestId('qa-scope').inputValue()).resolves.toBe('needs_person');
    const start = await progress(page);
    expect(start.total).toBeGreaterThanOrEqual(SESSION_LENGTH);
    expect(start.total).toBeLessThan(96);
    await expect(page.getByTestId('qa-reviewer').textContent()).resolves.toContain(E2E_REVIEWER);

    // The `?` overlay lists every status key.
    await page.keyboard.press('?');
    const overlay = page.getByTestId('shortcuts');
    await overlay.waitFor();
    const overlayText = (await overlay.textContent()) ?? '';
    for (const [, status] of STATUS_KEYS) expect(overlayText).toContain(status);
    expect(overlayText).toContain('undo the last review');
    await page.keyboard.press('Escape');
    await overlay.waitFor({ state: 'detached' });
    await page.getByTestId('qa-list').focus();

    const expected = new Map<string, { status: string; note: string }>();
    const order: string[] = [];
    for (let i = 0; i < SESSION_LENGTH; i += 1) {
      const item = await selectedItem(page);
      const id = `${item.group}@${item.epoch}`;
      expect(expected.has(id), `auto-advance reached ${id} twice`).toBe(false);
      const [key, status] = STATUS_KEYS[i % STATUS_KEYS.length];
      const note = i % 3 === 0 ? `note ${i}: checked the 接地线 photo` : '';
      if (note) {
        await page.keyboard.press('n');
        await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('qa-note');
        await page.keyboard.type(note);
        await page.keyboard.press('Escape');
        await expect(page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).resolves.toBe('qa-list');
      }
      await page.keyboard.press(key);
      await page.getByTestId('qa-progress').filter({ hasText: `${i + 1} / ${start.total} reviewed` }).waitFor();
      expected.set(id, { status, note });
      order.push(id);
    }
    // Auto-advance moved past the item just reviewed every time.
    expect(expected.size).toBe(SESSION_LENGTH);

    await mkdir(SHOTS_DIR, { recursive: true });
    for (const width of [1280, 1440]) {
      await page.setViewportSize({ width, height: 900 });
      await page.screenshot({ path: path.join(SHOTS_DIR, `qa-${width}.png`) });
    }

    // Undo takes back the last review: progress drops, the item is selected again, its note is back.
    const last = order[order.length - 1];
    await page.keyboard.press('u');
    await page.getByTestId('qa-progress').filter({ hasText: `${SESSION_LENGTH - 1} / ${start.total} reviewed` }).waitFor();
    const again = await selectedItem(page);
    expect(`${again.group}@${again.epoch}`).toBe(last);
    await expect(page.getByTestId('qa-list').locator('[role="option"][aria-selected="true"]').getByTestId('qa-review').textContent()).resolves.toBe('not reviewed');
    await expect(page.getByTestId('qa-note').inputValue()).resolves.toBe(expected.get(last)!.note);
    const log = await readFile(path.join(fixture.missionDir, 'qa_reviews.jsonl'), 'utf8');
    expect(log.trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'retraction')).toHaveLength(1);
    // Reviewed again, as something else.
    await page.keyboard.press('l');
    await page.getByTestId('qa-progress').filter({ hasText: `${SESSION_LENGTH} / ${start.total} reviewed` }).waitFor();
    expected.set(last, { status: 'label_wrong', note: expected.get(last)!.note });

    // Export from the keyboard: Shift+Tab from the list reaches the two download buttons.
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await expect(page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).resolves.toBe('qa-export');
    const [reviewsFile] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    expect(reviewsFile.suggestedFilename()).toBe(`${fixture.runId}-${fixture.mission}-reviews.jsonl`);
    const rows = await readDownload(reviewsFile);
    expect(rows).toHaveLength(SESSION_LENGTH);
    for (const row of rows) {
      const want = expected.get(`${row.group_id}@${row.epoch ?? '—'}`);
      expect(want, `exported an item not reviewed: ${row.group_id}@${row.epoch}`).toBeDefined();
      expect(row).toMatchObject({ mission: fixture.mission, status: want!.status, note: want!.note, reviewer: E2E_REVIEWER });
    }
    expect(rows.filter((r) => r.note !== '').length).toBe([...expected.values()].filter((e) => e.note).length);

    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).resolves.toBe('qa-corrections');
    const [correctionsFile] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    const corrections = await readDownload(correctionsFile);
    const wrongGroups = new Set([...expected].filter(([, e]) => e.status === 'label_wrong').map(([id]) => id.split('@')[0]));
    expect(corrections.length).toBeGreaterThan(0);
    for (const c of corrections) {
      expect(wrongGroups.has(String(c.group_id)), `correction for ${c.group_id}, never marked label_wrong`).toBe(true);
      expect(c.corrected_label).not.toBe(c.original_label);
      expect(c.reviewer).toBe(E2E_REVIEWER);
    }

    // The toggle widens the queue to every item; progress counts over the wider scope.
    await page.getByTestId('qa-list').focus();
    await page.keyboard.press('s');
    await page.getByTestId('qa-scope').filter({ has: page.locator('option[value="all"]:checked') }).waitFor();
    await page.getByTestId('qa-progress').filter({ hasText: new RegExp(`^\\s*${SESSION_LENGTH} / (?!${start.total} )\\d+ reviewed`) }).waitFor();
    expect((await progress(page)).total).toBeGreaterThan(start.total);

    // The trajectories table shows and filters the reviews.
    await page.keyboard.press('2');
    await page.getByTestId('filter-review').selectOption('reviewed');
    await page.getByTestId('rows-total').filter({ hasText: `${SESSION_LENGTH} rows` }).waitFor();
    await page.getByTestId('filter-review').selectOption('label_wrong');
    const wrongCount = [...expected.values()].filter((e) => e.status === 'label_wrong').length;
    await page.getByTestId('rows-total').filter({ hasText: `${wrongCount} rows` }).waitFor();
    const cells = await page.locator('.rows-row [role="gridcell"]').allTextContents();
    expect(cells.filter((c) => c === 'label_wrong')).toHaveLength(wrongCount);
    for (const width of [1280, 1440]) {
      await page.setViewportSize({ width, height: 900 });
      await page.screenshot({ path: path.join(SHOTS_DIR, `rows-review-filter-${width}.png`) });
    }
  });
});
