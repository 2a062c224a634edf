import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumMissingReason, screenshot } from './fixtures/browser';
import { readGuidanceFromAnotherProcess, writeGuidanceFromAnotherProcess } from './fixtures/cliGuidanceWrite';
import { FIXTURE_GUIDANCE_STEPS } from './fixtures/makeFixtureRun';
import { openFixtureRun, type WorkbenchSession, useWorkbenchSessions } from './fixtures/workbenchSession';

const missing = chromiumMissingReason();
if (missing) console.warn(missing);

async function selectionRows(session: WorkbenchSession): Promise<Array<{ group_id: string; signals: { label_match: boolean | null } }>> {
  const text = await readFile(path.join(session.fixture.missionDir, 'selections.jsonl'), 'utf8');
  return text.trim().split('\n').map((line) => JSON.parse(line));
}

describe.skipIf(Boolean(missing))('workbench in Chromium over the web transport', () => {
  const sessions = useWorkbenchSessions();

  it('opens a fixture run from the keyboard-driven runs list, with a shortcuts overlay', async () => {
    const session = await sessions.open();
    const { page } = session;
    await page.goto(session.server.url);
    const list = page.getByTestId('runs-list');
    await list.getByRole('option').first().waitFor();
    await expect(list.getByRole('option').first().textContent()).resolves.toContain('BBU接地线检查');
    await expect(list.getByRole('option').first().getAttribute('aria-selected')).resolves.toBe('true');
    await screenshot(page, '01-runs');
    await page.keyboard.press('?');
    await page.getByTestId('shortcuts').waitFor();
    await screenshot(page, '02-shortcuts');
    await page.keyboard.press('Escape');
    await page.getByTestId('shortcuts').waitFor({ state: 'detached' });
    await list.focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('rows-total').filter({ hasText: '96 rows' }).waitFor();
    await expect(page.getByTestId('current-run').textContent()).resolves.toContain('fixture-run');
  });

  it('filters selections on the server, moves with j/k and opens a group with Enter', async () => {
    const session = await sessions.open();
    const { page, fixture } = session;
    await openFixtureRun(session);
    const rows = await selectionRows(session);
    const mismatches = rows.filter((r) => r.signals.label_match === false).length;
    expect(mismatches).toBeGreaterThan(0);
    await page.getByTestId('filter-label-match').selectOption('false');
    await page.getByTestId('rows-total').filter({ hasText: new RegExp(`^${mismatches} rows`) }).waitFor();
    await screenshot(page, '03-rows-filtered');
    await page.getByTestId('filter-label-match').selectOption('');
    const groupId = fixture.groupIds[1];
    await page.getByTestId('filter-text').fill(groupId);
    const expected = rows.filter((r) => r.group_id === groupId).length;
    await page.getByTestId('rows-total').filter({ hasText: new RegExp(`^${expected} rows`) }).waitFor();
    await page.getByTestId('filter-text').fill('');
    await page.getByTestId('rows-total').filter({ hasText: /^96 rows/ }).waitFor();
    await page.getByTestId('rows-scroll').focus();
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    await expect(page.locator('#row-1').getAttribute('aria-selected')).resolves.toBe('true');
    await expect(page.locator('#row-0').getAttribute('aria-selected')).resolves.toBe('false');
    await screenshot(page, '04-rows-keyboard');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: `Group ${groupId}` }).waitFor();
    // The heading renders before the group detail arrives; wait for the summaries themselves.
    await page.getByTestId('summary-format').first().waitFor();
    const formats = await page.getByTestId('summary-format').allTextContents();
    expect(formats).toContain('text');
    expect(formats).toContain('json');
    await expect(page.getByTestId('selected-verdict').textContent()).resolves.toMatch(/epoch 0[\s\S]*epoch 1/);
    await expect(page.getByTestId('group-guidance-step').textContent()).resolves.toMatch(/guidance step \d/);
    await screenshot(page, '05-group');
    await page.keyboard.press('Escape');
    await page.getByTestId('rows-scroll').waitFor();
  });

  it('shows a reflection decision with a structural and a Monaco diff, and links evidence to its group', async () => {
    const session = await sessions.open();
    const { page } = session;
    await openFixtureRun(session);
    await page.keyboard.press('3');
    const detail = page.getByTestId('reflection-detail');
    await detail.filter({ hasText: 'refl-e0-b1' }).waitFor();
    await expect(page.locator('[data-testid="rule-diff"] tr[data-kind="added"]').textContent()).resolves.toContain('G2');
    await page.locator('[data-testid="monaco-diff"] .monaco-diff-editor').waitFor();
    await page.locator('[data-testid="monaco-diff"] .view-line').first().waitFor();
    await screenshot(page, '06-reflection');
    await page.getByTestId('reflection-list').focus();
    await page.keyboard.press('j');
    await detail.filter({ hasText: 'refl-e1-b0' }).waitFor();
    await expect(detail.textContent()).resolves.toContain('holdout_no_uplift');
    const evidence = page.getByTestId('evidence-link').first();
    const key = (await evidence.textContent())!;
    await evidence.click();
    await page.getByRole('heading', { name: `Group ${key.split('::')[0]}` }).waitFor();
  });

  it('edits and saves guidance with its base step, and keeps an unsaved draft across a reload', async () => {
    const session = await sessions.open();
    const { page, fixture } = session;
    await openFixtureRun(session);
    await page.keyboard.press('4');
    await page.getByTestId('rule-G2').waitFor();
    await page.getByTestId('rule-G2').fill('只显示部分设备时，必须由其他照片补全接地点证据，否则判定为不通过。');
    await page.getByTestId('guidance-save').click();
    await page.getByTestId('guidance-saved').filter({ hasText: 'step 3' }).waitFor();
    const saved = readGuidanceFromAnotherProcess({ guidancePath: fixture.guidancePath, mission: fixture.mission });
    expect(saved.step).toBe(3);
    expect(saved.experiences.G2).toBe('只显示部分设备时，必须由其他照片补全接地点证据，否则判定为不通过。');
    await screenshot(page, '07-guidance-saved');
    await page.getByTestId('mode-raw').click();
    // Monaco renders its lines over several frames: wait for the line, not for the first one to appear.
    await page.locator('[data-testid="guidance-raw"] .view-lines').filter({ hasText: '"G2"' }).waitFor();
    await expect(page.locator('[data-testid="guidance-raw"] .view-lines').textContent()).resolves.toContain('"G2"');
    await screenshot(page, '07b-guidance-raw');
    await page.getByTestId('mode-rules').click();

    await page.getByTestId('rule-G1').fill('草稿：标签无法识别时判定为不通过。');
    await page.getByTestId('rule-G0').fill('');
    await page.getByTestId('guidance-issues').waitFor();
    await screenshot(page, '08-guidance-invalid');
    await page.getByTestId('rule-G0').fill(FIXTURE_GUIDANCE_STEPS[2].G0);
    // The reload restores the view (the URL names the screen and the run) and the draft.
    await page.reload();
    await page.getByTestId('draft-restored').waitFor();
    await expect(page.getByTestId('current-run').textContent()).resolves.toContain('fixture-run');
    await expect(page.getByTestId('rule-G1').inputValue()).resolves.toBe('草稿：标签无法识别时判定为不通过。');
    expect(readGuidanceFromAnotherProcess({ guidancePath: fixture.guidancePath, mission: fixture.mission }).step).toBe(3);
  });

  it('keeps the annotator text when the CLI writes meanwhile, and saves a per-rule merge on the new step', async () => {
    const session = await sessions.open();
    const { page, fixture } = session;
    await openFixtureRun(session);
    await page.keyboard.press('4');
    await page.getByTestId('rule-G1').waitFor();
    await page.getByTestId('rule-G1').fill('我的版本：标签模糊时判定为不通过。');
    const theirs = writeGuidanceFromAnotherProcess({
      guidancePath: fixture.guidancePath,
      mission: fixture.mission,
      baseStep: 2,
      experiences: { ...FIXTURE_GUIDANCE_STEPS[2], G1: '引擎版本：标签缺失时判定为不通过。', G3: '接地螺丝松动时判定为不通过。' },
    });
    expect(theirs.step).toBe(3);
    await page.getByTestId('guidance-moved').filter({ hasText: 'step 3' }).waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('rule-G1').inputValue()).resolves.toBe('我的版本：标签模糊时判定为不通过。');
    await page.getByTestId('guidance-save').click();
    await page.getByTestId('merge-view').waitFor();
    await expect(page.getByTestId('merge-row-G1').textContent()).resolves.toContain('both changed');
    await expect(page.getByTestId('merge-row-G3').textContent()).resolves.toContain('接地螺丝松动');
    await page.getByTestId('pick-custom-G1').check();
    await page.getByTestId('custom-G1').fill('合并版本：标签缺失或模糊时判定为不通过。');
    await screenshot(page, '09-guidance-merge');
    await page.getByTestId('save-merge').click();
    await page.getByTestId('guidance-saved').filter({ hasText: 'step 4' }).waitFor();
    const merged = readGuidanceFromAnotherProcess({ guidancePath: fixture.guidancePath, mission: fixture.mission });
    expect(merged.step).toBe(4);
    expect(merged.experiences.G1).toBe('合并版本：标签缺失或模糊时判定为不通过。');
    expect(merged.experiences.G3).toBe('接地螺丝松动时判定为不通过。');
    expect(merged.experiences.G2).toBe(FIXTURE_GUIDANCE_STEPS[2].G2);
  });

  it('previews a snapshot and rolls back through a keyboard-accessible confirm dialog', async () => {
    const session = await sessions.open();
    const { page, fixture } = session;
    await openFixtureRun(session);
    await page.keyboard.press('5');
    await page.getByTestId('snapshot-list').getByRole('option').first().waitFor();
    await page.getByTestId('snapshot-list').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('snapshot-preview').filter({ hasText: 'step 1 vs current step 2' }).waitFor();
    await page.getByTestId('rollback').click();
    const dialog = page.getByRole('dialog', { name: 'Roll back guidance?' });
    await dialog.waitFor();
    // Enter means the primary (blue) button: it has the focus; Esc cancels.
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Roll back');
    await screenshot(page, '10-rollback-confirm');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(readGuidanceFromAnotherProcess({ guidancePath: fixture.guidancePath, mission: fixture.mission }).step).toBe(2);
    await page.getByTestId('rollback').click();
    await dialog.waitFor();
    // Tab to Cancel and back: Enter on Cancel would cancel, Enter on Roll back rolls back.
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Cancel');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByTestId('rollback-done').filter({ hasText: 'step 3' }).waitFor();
    const after = readGuidanceFromAnotherProcess({ guidancePath: fixture.guidancePath, mission: fixture.mission });
    expect(after).toEqual({ step: 3, experiences: FIXTURE_GUIDANCE_STEPS[1] });
    await screenshot(page, '11-snapshots');
  });

  it('marks a QA item reviewed with r and charts label_match, false-release and guidance size', async () => {
    const session = await sessions.open();
    const { page, fixture } = session;
    await openFixtureRun(session);
    await page.keyboard.press('6');
    const first = page.getByTestId('qa-list').getByRole('option').first();
    await first.waitFor();
    await expect(first.getByTestId('qa-review').textContent()).resolves.toBe('not reviewed');
    await page.keyboard.press('r');
    await first.getByTestId('qa-review').filter({ hasText: 'reviewed: ok' }).waitFor();
    const reviews = await readFile(path.join(fixture.missionDir, 'qa_reviews.jsonl'), 'utf8');
    expect(reviews).toContain('"status":"ok"');
    await page.getByTestId('qa-reason').selectOption('need_review');
    await page.getByTestId('qa-list').getByRole('option').first().filter({ hasText: 'need_review' }).waitFor();
    await screenshot(page, '12-qa');
    await page.keyboard.press('7');
    // uPlot draws on a canvas; e2e/charts.e2e.test.ts checks ticks, legend values and lone points.
    for (const id of ['chart-batch', 'chart-epoch', 'chart-guidance']) {
      await page.getByTestId(`${id}-plot`).locator('canvas').waitFor();
      expect(await page.getByTestId(`${id}-plot`).getAttribute('data-points'), id).toMatch(/^[1-9]/);
    }
    await screenshot(page, '13-charts');
  });
});
