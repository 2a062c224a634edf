import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { loadRunSelections } from '../src/main/distill/loadRunSelections';
import { changedGroups, sliceBreakdown } from '../src/shared/metrics/compareBreakdown';
import { compareRuns, type RunComparison } from '../src/shared/metrics/compareRuns';
import { formatDiff, formatRate } from '../src/shared/metrics/formatComparison';
import type { SelectionRecord } from '../src/shared/schemas/records';
import { chromiumMissingReason, screenshot } from './fixtures/browser';
import { FIXTURE_MISSION, FIXTURE_RUN, makeFixtureRun } from './fixtures/makeFixtureRun';
import { useWorkbenchSessions } from './fixtures/workbenchSession';

const missing = chromiumMissingReason();
if (missing) console.warn(missing);

const RUN_B = 'fixture-run-b';
const OTHER_RUN = 'other-mission-run';
const OTHER_MISSION = '挂墙式BBU检查';

/** Moves the selection of a keyboard list (which has the focus) to the option that contains `text`. */
async function selectOption(page: Page, list: string, text: string): Promise<void> {
  const options = page.getByTestId(list).getByRole('option');
  await options.first().waitFor();
  const count = await options.count();
  const texts = await options.allTextContents();
  const target = texts.findIndex((t) => t.includes(text));
  expect(target, `${text} in ${list}: ${texts.join(' | ')}`).toBeGreaterThanOrEqual(0);
  await page.keyboard.press('Home');
  for (let i = 0; i < target && i < count; i += 1) await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId(list).locator('[role="option"][aria-selected="true"]').textContent()).resolves.toContain(text);
}

/** The rates row of the comparison table, as the CLI formats its cells. */
async function expectRates(page: Page, scope: string, expected: RunComparison['overall']): Promise<void> {
  for (const metric of ['label_match', 'false_release'] as const) {
    const row = page.getByTestId('compare-rates').locator(`tr[data-scope="${scope}"][data-metric="${metric}"]`);
    await expect(row.locator('[data-cell="a"]').textContent()).resolves.toBe(formatRate(expected[metric].a));
    await expect(row.locator('[data-cell="b"]').textContent()).resolves.toBe(formatRate(expected[metric].b));
    await expect(row.locator('[data-cell="diff"]').textContent()).resolves.toBe(formatDiff(expected[metric]));
  }
}

describe.skipIf(Boolean(missing))('two runs compared in Chromium, keyboard only', () => {
  const sessions = useWorkbenchSessions();

  it('marks two runs on the runs screen, compares them with the numbers of stageb compare, opens a changed group, compares two guidance steps, and warns about different missions', async () => {
    const session = await sessions.open();
    const { page, server, fixture } = session;
    const runB = await makeFixtureRun(session.dir, { runId: RUN_B, accuracyBonus: 0.2 });
    await makeFixtureRun(session.dir, { runId: OTHER_RUN, mission: OTHER_MISSION, accuracyBonus: 0.1 });
    const a = await loadRunSelections(fixture.missionDir);
    const b = await loadRunSelections(runB.missionDir);
    const expected = compareRuns(a, b);
    const changed = changedGroups(a.selections, b.selections);
    expect(changed.length).toBeGreaterThan(1);

    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(server.url);
    // Runs screen: a on run A, b on run B, c to compare.
    await selectOption(page, 'runs-list', `${FIXTURE_RUN} / `);
    await page.keyboard.press('a');
    await selectOption(page, 'runs-list', RUN_B);
    await page.keyboard.press('b');
    await page.getByTestId('compare-mark-a').waitFor();
    await page.getByTestId('compare-mark-b').waitFor();
    await page.keyboard.press('c');

    await page.getByTestId('compare-result').waitFor();
    await expect(page.getByTestId('compare-pick-a').textContent()).resolves.toContain(`${FIXTURE_RUN} / ${FIXTURE_MISSION}`);
    await expect(page.getByTestId('compare-pick-b').textContent()).resolves.toContain(`${RUN_B} / ${FIXTURE_MISSION}`);
    await expectRates(page, 'overall', expected.overall);
    expect(await page.getByTestId('compare-mission-warning').count()).toBe(0);
    await expect(page.getByTestId('compare-changed-total').textContent()).resolves.toBe(`${changed.length} of 48 judged by both`);
    const listed = await page.getByTestId('compare-changed').getByRole('option').locator('.group-id').allTextContents();
    expect(listed).toEqual(changed.map((row) => row.group_id));
    // The slices: labels and the Stage-A categories of the fixture photos.
    for (const slice of ['label:fail', 'label:pass', 'category:BBU设备', 'category:标签', 'category:无关图片']) {
      await page.getByTestId('compare-slices').locator(`tr[data-scope="${slice}"][data-metric="label_match"]`).waitFor();
    }
    for (const slice of sliceBreakdown(a.selections, b.selections, null)) {
      const row = page.getByTestId('compare-slices').locator(`tr[data-scope="label:${slice.slice}"][data-metric="label_match"]`);
      await expect(row.locator('[data-cell="b"]').textContent()).resolves.toBe(formatRate(slice.row.label_match.b));
    }
    await screenshot(page, 'compare-runs-1440');
    await page.setViewportSize({ width: 1280, height: 900 });
    const overflow = await page.evaluate(() => {
      const content = document.querySelector('main.content')!;
      return content.scrollWidth - content.clientWidth;
    });
    expect(overflow, 'the compare screen fits 1280 px without a horizontal scroll').toBeLessThanOrEqual(0);
    await screenshot(page, 'compare-runs-1280');

    // The changed groups list has the focus: the second one, Enter opens it in B's run; Esc comes back.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.locator('#group-title').filter({ hasText: changed[1].group_id }).waitFor();
    await expect(page.getByTestId('current-run').textContent()).resolves.toContain(RUN_B);
    await page.keyboard.press('Escape');
    await page.getByTestId('compare-result').waitFor();

    // Two guidance steps of one run: t, Enter on the run, Enter on step 1 (A), Enter on step 2 (B).
    await page.keyboard.press('t');
    await expect(page.getByTestId('compare-mode-steps').getAttribute('aria-checked')).resolves.toBe('true');
    await selectOption(page, 'compare-runs', `${FIXTURE_RUN} / `);
    await page.keyboard.press('Enter');
    await selectOption(page, 'compare-steps', 'step 1');
    await page.keyboard.press('Enter');
    await selectOption(page, 'compare-steps', 'step 2');
    await page.keyboard.press('Enter');
    await page.getByTestId('compare-result').waitFor();
    const atStep = (step: number): SelectionRecord[] => a.selections.filter((row) => row.guidance_step === step);
    const stepsExpected = compareRuns({ name: 'a', selections: atStep(1) }, { name: 'b', selections: atStep(2) });
    await expectRates(page, 'overall', stepsExpected.overall);
    await expect(page.getByTestId('compare-note').textContent()).resolves.toMatch(/sampled with guidance step 1 and with step 2/);
    const stepChanges = changedGroups(atStep(1), atStep(2));
    await expect(page.getByTestId('compare-changed-total').textContent()).resolves.toMatch(new RegExp(`^${stepChanges.length} of \\d+ judged by both$`));
    await screenshot(page, 'compare-steps-1280');

    // Two runs of different missions: a warning above the numbers.
    await page.keyboard.press('t');
    await selectOption(page, 'compare-runs', `${FIXTURE_RUN} / `);
    await page.keyboard.press('Enter');
    await selectOption(page, 'compare-runs', OTHER_RUN);
    await page.keyboard.press('Enter');
    const warning = page.getByTestId('compare-mission-warning');
    await warning.waitFor();
    await expect(warning.textContent()).resolves.toContain(OTHER_MISSION);
    const other = await loadRunSelections(path.join(session.fixture.runsRoot, OTHER_RUN, OTHER_MISSION));
    await expectRates(page, 'overall', compareRuns(a, other).overall);
    await screenshot(page, 'compare-missions-1280');
  });
});
