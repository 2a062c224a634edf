import { replaceInEditor } from './fixtures/launcherPage';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumMissingReason, screenshot } from './fixtures/browser';
import { DEMO_CONFIG, STAGEB, writeDemoConfig } from './fixtures/demoConfig';
import { REPO_ROOT } from './fixtures/ensureRendererBuilt';
import { E2E_REVIEWER, useWorkbenchSessions } from './fixtures/workbenchSession';
import { ExportRowSchema, SelectionRecordSchema, TrajectoryRecordSchema } from '../src/shared/schemas/records';
import { LabelCorrectionSchema, type LabelCorrection } from '../src/shared/schemas/labelCorrections';
import { RUN_FILES } from '../src/shared/runFiles';
import { validateStageBRun } from '../src/main/composeStageBRun';
import { splitHoldout } from '../src/main/engine/epochPlan';

const skip = chromiumMissingReason() ?? (existsSync(STAGEB) && existsSync(DEMO_CONFIG) ? null : 'bin/stageb.js or configs/demo.yaml missing — corrections loop e2e skipped');
if (skip) console.warn(skip);

/** The second run's name, and the file names the test gives the corrections and its config. */
const SECOND_RUN = 'demo-corrected';
const CORRECTIONS_FILE = 'qa-corrections.jsonl';
const SECOND_CONFIG = 'demo-corrected.yaml';
/** Items marked label_wrong in the first run's QA queue: two epochs of one group at most, so at least two tickets. */
const MARKED_ITEMS = 3;

async function jsonl<T>(file: string, parse: (value: unknown) => T): Promise<T[]> {
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((line) => parse(JSON.parse(line)));
}

const focusedTestId = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);

/** Opens, from the runs list, the run whose row names `runId`, moving the selection with the arrow keys. */
async function openRun(page: Page, runId: string): Promise<void> {
  await page.keyboard.press('1');
  const list = page.getByTestId('runs-list');
  const runName = page.locator('strong', { hasText: new RegExp(`^${runId}$`) });
  await list.getByRole('option').filter({ has: runName }).waitFor();
  const names = await list.getByRole('option').evaluateAll((options) => options.map((option) => option.querySelector('strong')?.textContent ?? ''));
  const index = names.indexOf(runId);
  expect(index, `runs list: ${names.join(', ')}`).toBeGreaterThanOrEqual(0);
  await list.focus();
  await page.keyboard.press('Home');
  for (let i = 0; i < index; i += 1) await page.keyboard.press('ArrowDown');
  await list.locator('[role="option"][aria-selected="true"]').filter({ has: runName }).waitFor();
  await page.keyboard.press('Enter');
  await page.getByTestId('rows-total').filter({ hasText: 'rows' }).waitFor();
}

/** The selected QA item's group id, as the QA list shows it. */
async function selectedGroup(page: Page): Promise<string> {
  return (await page.getByTestId('qa-list').locator('[role="option"][aria-selected="true"] strong.group-id').textContent()) ?? '';
}

describe.skipIf(Boolean(skip))('label corrections from a QA review feed a second run, through the workbench', () => {
  const sessions = useWorkbenchSessions();

  it('marks labels wrong in the QA queue, downloads the corrections file, starts a run on it from the launcher, and the run shows and records the corrected labels', { timeout: 900_000 }, async () => {
    // The first run: the small demo config, run by the CLI before the server starts.
    const session = await sessions.open({
      configsRoot: async (dir) => {
        const configs = await writeDemoConfig(dir, path.join(dir, 'runs'));
        execFileSync(process.execPath, [STAGEB, 'run', '--config', path.join(configs, 'demo.yaml'), '-q'], { cwd: REPO_ROOT, stdio: 'pipe' });
        return configs;
      },
    });
    const { page, dir } = session;
    const configs = path.join(dir, 'configs');
    const demoText = await readFile(path.join(configs, 'demo.yaml'), 'utf8');
    const mission = /^mission:\s*(\S+)/m.exec(demoText)![1];
    const firstDir = path.join(dir, 'runs', 'demo', mission);
    const firstSelections = await jsonl(path.join(firstDir, RUN_FILES.selections), (v) => SelectionRecordSchema.parse(v));
    const inputLabel = new Map(firstSelections.map((row) => [row.ticket_key, row.label]));
    expect(firstSelections.every((row) => row.original_label === null)).toBe(true);

    await page.goto(session.server.url);
    await openRun(page, 'demo');

    // QA queue: mark items label_wrong, each with a note, by keyboard.
    await page.keyboard.press('6');
    await page.getByTestId('qa-list').getByRole('option').first().waitFor();
    const total = Number(/\d+ \/ (\d+) reviewed/.exec((await page.getByTestId('qa-progress').filter({ hasText: /^\s*0 \/ \d+ reviewed/ }).textContent()) ?? '')![1]);
    expect(total).toBeGreaterThanOrEqual(MARKED_ITEMS);
    await page.getByTestId('qa-list').focus();
    const notes = new Map<string, string>();
    for (let i = 0; i < MARKED_ITEMS; i += 1) {
      const group = await selectedGroup(page);
      const note = `第${i + 1}张照片：标签应相反`;
      await page.keyboard.press('n');
      await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('qa-note');
      await page.keyboard.type(note);
      await page.keyboard.press('Escape');
      await expect(focusedTestId(page)).resolves.toBe('qa-list');
      await page.keyboard.press('l');
      await page.getByTestId('qa-progress').filter({ hasText: `${i + 1} / ${total} reviewed` }).waitFor();
      notes.set(group, note); // a group reviewed again (its other epoch) keeps its latest review's note
    }
    expect(notes.size).toBeGreaterThanOrEqual(2);

    // "Corrections file": two Shift+Tabs reach "Export reviews", a Tab the corrections; saved beside the configs.
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    await expect(focusedTestId(page)).resolves.toBe('qa-corrections');
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    const correctionsPath = path.join(configs, CORRECTIONS_FILE);
    await download.saveAs(correctionsPath);
    const corrections = await jsonl(correctionsPath, (v) => LabelCorrectionSchema.parse(v));
    expect(corrections.map((c) => c.group_id).sort()).toEqual([...notes.keys()].sort());
    for (const c of corrections) {
      expect(c).toMatchObject({ mission, original_label: inputLabel.get(c.ticket_key), reviewer: E2E_REVIEWER, note: notes.get(c.group_id) });
      expect(c.corrected_label).not.toBe(c.original_label);
    }
    const corrected = new Map<string, LabelCorrection>(corrections.map((c) => [c.ticket_key, c]));

    // Launcher: a new config from the first run's, with its own run_name and the corrections file, saved and started.
    await page.keyboard.press('8');
    await page.getByTestId('config-list').getByRole('option').first().waitFor();
    await expect(page.getByTestId('template-select').inputValue()).resolves.toBe('demo.yaml');
    await page.getByTestId('new-config').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('config-title').filter({ hasText: 'New config from demo.yaml' }).waitFor();
    await page.getByTestId('config-validation').filter({ hasText: 'Config is valid.' }).waitFor({ timeout: 30_000 });
    await replaceInEditor(page, 'run_name: demo', `run_name: ${SECOND_RUN}\nlabel_corrections:\n  path: ${CORRECTIONS_FILE}`);
    await page.getByTestId('config-validation').filter({ hasText: 'Config is valid.' }).waitFor({ timeout: 30_000 });
    await page.getByTestId('config-save-name').focus();
    await page.keyboard.type(SECOND_CONFIG);
    await page.keyboard.press('Enter');
    await page.getByTestId('config-title').filter({ hasText: new RegExp(`^${SECOND_CONFIG.replace('.', '\\.')}$`) }).waitFor();
    const saved = await readFile(path.join(configs, SECOND_CONFIG), 'utf8');
    expect(saved).toBe(demoText.replace('run_name: demo', `run_name: ${SECOND_RUN}\nlabel_corrections:\n  path: ${CORRECTIONS_FILE}`));

    await page.getByTestId('launch-start').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('job-title').filter({ hasText: `${SECOND_RUN} · ${mission} (stage_b)` }).waitFor();
    await page.getByTestId('job-status').filter({ hasText: /^(completed|failed|cancelled)$/ }).waitFor({ timeout: 840_000 });
    await expect(page.getByTestId('job-status').textContent(), (await page.getByTestId('job-progress').textContent()) ?? '').resolves.toBe('completed');

    // The second run's files: corrected tickets carry the corrected label and the input's; the others original_label null.
    const secondDir = path.join(dir, 'runs', SECOND_RUN, mission);
    const selections = await jsonl(path.join(secondDir, RUN_FILES.selections), (v) => SelectionRecordSchema.parse(v));
    const trajectories = await jsonl(path.join(secondDir, RUN_FILES.trajectories), (v) => TrajectoryRecordSchema.parse(v));
    const exported = await jsonl(path.join(secondDir, RUN_FILES.export, 'verdicts.jsonl'), (v) => ExportRowSchema.parse(v));
    for (const row of [...selections, ...trajectories, ...exported]) {
      const correction = corrected.get(row.ticket_key);
      if (correction) expect([row.label, row.original_label], row.ticket_key).toEqual([correction.corrected_label, correction.original_label]);
      else expect([row.label, row.original_label], row.ticket_key).toEqual([inputLabel.get(row.ticket_key) ?? row.label, null]);
    }
    // The split follows the corrected labels, so a corrected ticket may be held out; one at least trains, judged against the corrected label.
    const trained = selections.filter((row) => corrected.has(row.ticket_key));
    expect(trained.length).toBeGreaterThan(0);
    for (const row of trained) {
      if (row.verdict !== null) expect(row.signals.label_match, row.ticket_key).toBe(row.verdict === corrected.get(row.ticket_key)!.corrected_label);
    }
    const candidates = Number(/^\s*candidates:\s*(\d+)/m.exec(demoText)![1]);
    expect(trajectories.filter((row) => corrected.has(row.ticket_key)).length).toBe(trained.length * candidates);
    expect(exported.filter((row) => corrected.has(row.ticket_key)).length).toBe(new Set(trained.map((row) => row.ticket_key)).size);
    // The holdout the run gated on is the seeded split of the tickets with their corrected labels.
    const { loaded, tickets } = await validateStageBRun(path.join(configs, SECOND_CONFIG), async () => null);
    expect(tickets.filter((ticket) => corrected.has(ticket.ticket_key)).map((ticket) => [ticket.ticket_key, ticket.label]).sort())
      .toEqual(corrections.map((c) => [c.ticket_key, c.corrected_label]).sort());
    const { reflection, seed } = loaded.config;
    const split = splitHoldout(tickets, { fraction: reflection.holdout_fraction, max: reflection.holdout_max, seed });
    const trainedKeys = new Set(selections.map((row) => row.ticket_key));
    expect(tickets.filter((ticket) => !trainedKeys.has(ticket.ticket_key)).map((ticket) => ticket.ticket_key)).toEqual(split.holdout.map((ticket) => ticket.ticket_key));
    expect(split.holdout.some((ticket) => ticket.label === 'fail')).toBe(true);
    const manifest = JSON.parse(await readFile(path.join(secondDir, RUN_FILES.manifest), 'utf8'));
    expect(manifest.label_corrections).toEqual({
      path: correctionsPath,
      sha256: createHash('sha256').update(await readFile(correctionsPath)).digest('hex'),
      lines: corrections.length,
    });

    // The workbench: the trajectories table of the second run labels the corrected group's rows with the corrected label...
    const shown = trained[0];
    const correction = corrected.get(shown.ticket_key)!;
    await openRun(page, SECOND_RUN);
    await page.keyboard.press('2');
    await page.getByTestId('filter-text').focus();
    await page.keyboard.type(shown.group_id);
    const rowsOfGroup = selections.filter((row) => row.group_id === shown.group_id).length;
    await page.getByTestId('rows-total').filter({ hasText: new RegExp(`^${rowsOfGroup} rows$`) }).waitFor();
    await page.locator('.rows-row').nth(rowsOfGroup - 1).locator('[role="gridcell"]').first().waitFor();
    const labelCells = await page.locator('.rows-row').evaluateAll((rows) => rows.map((row) => row.querySelectorAll('[role="gridcell"]')[4]?.textContent));
    expect(labelCells).toEqual(Array(rowsOfGroup).fill(correction.corrected_label));

    // ...and its group detail names the corrected label and the input's, on the ticket and on every selected verdict.
    await page.getByTestId('rows-scroll').focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('Enter');
    await page.locator('#group-title').filter({ hasText: `Group ${shown.group_id}` }).waitFor();
    const want = `${correction.corrected_label} (corrected from ${correction.original_label})`;
    await page.getByTestId('ticket-label').filter({ hasText: `label: ${want}` }).waitFor();
    await expect(page.getByTestId('selection-label').allTextContents()).resolves.toEqual(Array(rowsOfGroup).fill(want));
    const reviewsCard = page.locator('.card', { hasText: 'QA reviews' });
    expect(await reviewsCard.count()).toBe(0); // the first run's reviews stay with the first run
    for (const width of [1280, 1440]) {
      await page.setViewportSize({ width, height: 900 });
      await screenshot(page, `18-corrections-group-detail-${width}`);
    }
  });
});
