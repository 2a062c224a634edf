import { describe, expect, it } from 'vitest';
import { chromiumMissingReason, screenshot } from './fixtures/browser';
import { readGuidanceFromAnotherProcess, writeGuidanceFromAnotherProcess } from './fixtures/cliGuidanceWrite';
import { FIXTURE_GUIDANCE_STEPS } from './fixtures/makeFixtureRun';
import { openFixtureRun, useWorkbenchSessions } from './fixtures/workbenchSession';

const missing = chromiumMissingReason();
if (missing) console.warn(missing);

const activeTestId = (page: import('playwright-core').Page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName);

describe.skipIf(Boolean(missing))('the small traps of issue 18', () => {
  const sessions = useWorkbenchSessions();

  it('Esc leaves the search box for its list; a Mark button leaves the focus on the list', async () => {
    const session = await sessions.open();
    const { page, fixture } = session;
    await openFixtureRun(session);
    await page.keyboard.press('/');
    expect(await activeTestId(page)).toBe('filter-text');
    await page.keyboard.type(fixture.groupIds[3]);
    await page.keyboard.press('Escape');
    expect(await activeTestId(page)).toBe('rows-scroll');
    await expect(page.getByTestId('filter-text').inputValue(), 'the search is kept').resolves.toBe(fixture.groupIds[3]);
    // The next digit is a shortcut again, not search text.
    await page.keyboard.press('6');
    const first = page.getByTestId('qa-list').getByRole('option').first();
    await first.waitFor();
    await page.locator('.qa-form .actions button', { hasText: 'ok' }).first().click();
    await first.getByTestId('qa-review').filter({ hasText: 'reviewed: ok' }).waitFor();
    expect(await activeTestId(page)).toBe('qa-list');
  });

  it('guidance: Save is disabled with the reason, Discard asks (Enter) and can be undone, a conflicted rule must be chosen', async () => {
    const session = await sessions.open();
    const { page, fixture } = session;
    await openFixtureRun(session);
    await page.keyboard.press('4');
    await page.getByTestId('rule-G1').waitFor();

    await page.getByTestId('rule-G0').fill('');
    await page.getByTestId('save-blocked').filter({ hasText: /Fix 1 problem to save: G0/ }).waitFor();
    await expect(page.getByTestId('guidance-save').isDisabled()).resolves.toBe(true);
    await screenshot(page, 'trap-save-blocked');
    await page.getByTestId('rule-G0').fill(FIXTURE_GUIDANCE_STEPS[2].G0);
    await expect(page.getByTestId('guidance-save').isEnabled()).resolves.toBe(true);

    const draft = '我的草稿：标签被遮挡时判定为不通过。';
    await page.getByTestId('rule-G1').fill(draft);
    await page.getByTestId('guidance-discard').click();
    const dialog = page.getByRole('dialog', { name: 'Discard your edits?' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await expect(page.getByTestId('rule-G1').inputValue()).resolves.toBe(draft);
    await page.getByTestId('guidance-discard').click();
    await dialog.waitFor();
    await page.keyboard.press('Enter');
    await page.getByTestId('discarded').waitFor();
    // The rule's field takes the saved text on its next render: wait for it rather than read it once.
    await expect.poll(() => page.getByTestId('rule-G1').inputValue(), { timeout: 15_000 }).toBe(FIXTURE_GUIDANCE_STEPS[2].G1);
    await screenshot(page, 'trap-discard-undo');
    await page.getByTestId('undo-discard').click();
    await expect.poll(() => page.getByTestId('rule-G1').inputValue(), { timeout: 15_000 }).toBe(draft);

    // Another writer changes the same rule: the merge has no default for it.
    writeGuidanceFromAnotherProcess({
      guidancePath: fixture.guidancePath, mission: fixture.mission, baseStep: 2,
      experiences: { ...FIXTURE_GUIDANCE_STEPS[2], G1: '引擎版本：标签缺失时判定为不通过。' },
    });
    await page.getByTestId('guidance-moved').waitFor({ timeout: 15_000 }).catch(() => undefined);
    await page.getByTestId('guidance-save').click();
    await page.getByTestId('merge-view').waitFor();
    await expect(page.getByTestId('pick-mine-G1').isChecked()).resolves.toBe(false);
    await expect(page.getByTestId('pick-theirs-G1').isChecked()).resolves.toBe(false);
    await page.getByTestId('merge-blocked').filter({ hasText: '1 conflicted rule (G1)' }).waitFor();
    await expect(page.getByTestId('save-merge').isDisabled()).resolves.toBe(true);
    await screenshot(page, 'trap-merge-unchosen');
    await page.getByTestId('pick-mine-G1').check();
    await page.getByTestId('save-merge').click();
    await page.getByTestId('guidance-saved').filter({ hasText: 'step 4' }).waitFor();
    expect(readGuidanceFromAnotherProcess({ guidancePath: fixture.guidancePath, mission: fixture.mission }).experiences.G1).toBe(draft);
  });
});
