import { replaceInEditor } from './fixtures/launcherPage';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumMissingReason, screenshot } from './fixtures/browser';
import { DEMO_CONFIG, STAGEB, writeDemoConfig } from './fixtures/demoConfig';
import { REPO_ROOT } from './fixtures/ensureRendererBuilt';
import { openFixtureRun, useWorkbenchSessions } from './fixtures/workbenchSession';

const skip = chromiumMissingReason() ?? (existsSync(STAGEB) && existsSync(DEMO_CONFIG) ? null : 'bin/stageb.js or configs/demo.yaml missing — launcher template e2e skipped');
if (skip) console.warn(skip);

const SFT = 'sft/dense_summary_chat_stageb.yaml';

/** The self-contained demo config plus the shipped SFT config, which the launcher must not offer as a run. */
async function configsWithSft(dir: string): Promise<string> {
  const configs = await writeDemoConfig(dir, path.join(dir, 'runs'));
  await mkdir(path.join(configs, 'sft'), { recursive: true });
  await copyFile(path.join(REPO_ROOT, 'configs', SFT), path.join(configs, SFT));
  return configs;
}

async function shoot(page: Page, name: string): Promise<void> {
  for (const width of [1280, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    await screenshot(page, `${name}-${width}`);
  }
}

describe.skipIf(Boolean(skip))('launcher: a config created from a template, saved under a new name and started', () => {
  const sessions = useWorkbenchSessions();

  it('lists runs by run_name and mission and the SFT config by its kind; New config → edit → Save as (overwrite refused) → Start; the job is named by run and mission', { timeout: 300_000 }, async () => {
    const session = await sessions.open({ configsRoot: configsWithSft });
    const { page } = session;
    const configs = path.join(session.dir, 'configs');
    const demoText = await readFile(path.join(configs, 'demo.yaml'), 'utf8');
    const mission = /^mission:\s*(\S+)/m.exec(demoText)![1];
    await openFixtureRun(session);
    await page.keyboard.press('8');

    const runs = page.getByTestId('config-list');
    await runs.getByRole('option').first().waitFor();
    expect(await runs.getByRole('option').allTextContents()).toEqual([expect.stringMatching(new RegExp(`^demo(distill)?${mission}demo\\.yaml`))]);
    expect(await page.getByTestId('config-list-sft').getByRole('option').allTextContents()).toEqual([expect.stringContaining(SFT)]);
    await shoot(page, '14a-launcher-kinds');

    // The SFT config opens (validated as an SFT config) but has no Start.
    await page.getByTestId('config-list-sft').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('config-title').filter({ hasText: SFT }).waitFor();
    await page.getByTestId('config-validation').filter({ hasText: 'Config is valid.' }).waitFor({ timeout: 30_000 });
    await page.getByTestId('config-save').waitFor();
    expect(await page.getByTestId('launch-start').count()).toBe(0);

    // New config from the template (demo.yaml, the only run config): the draft opens and the name field has the focus.
    await page.getByTestId('new-config').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('config-title').filter({ hasText: 'New config from demo.yaml' }).waitFor();
    await page.getByTestId('config-validation').filter({ hasText: 'Config is valid.' }).waitFor({ timeout: 30_000 });
    await replaceInEditor(page, 'run_name: demo', 'run_name: my-demo');
    await page.getByTestId('config-validation').filter({ hasText: 'Config is valid.' }).waitFor();

    // Save as the template's own name: refused until confirmed; Enter on the focused "keep" leaves demo.yaml as it was.
    const name = page.getByTestId('config-save-name');
    await name.focus();
    await page.keyboard.type('demo.yaml');
    await page.keyboard.press('Enter');
    await page.getByTestId('confirm-overwrite').waitFor();
    await shoot(page, '14b-launcher-save-as-exists');
    await page.keyboard.press('Enter');
    await page.getByTestId('confirm-overwrite').waitFor({ state: 'detached' });
    expect(await readFile(path.join(configs, 'demo.yaml'), 'utf8')).toBe(demoText);

    // A name with a folder is refused before it is sent.
    await expect(name.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await page.keyboard.press('Control+a');
    await page.keyboard.type('sub/x.yaml');
    await expect(page.getByTestId('config-save-as').isDisabled()).resolves.toBe(true);
    await page.keyboard.press('Control+a');
    await page.keyboard.type('my-demo.yaml');
    await page.keyboard.press('Enter');
    await page.getByTestId('config-title').filter({ hasText: /^my-demo\.yaml$/ }).waitFor();
    const saved = await readFile(path.join(configs, 'my-demo.yaml'), 'utf8');
    expect(saved).toContain('run_name: my-demo');
    expect(saved.replace('run_name: my-demo', 'run_name: demo')).toBe(demoText);
    await runs.getByRole('option').filter({ hasText: 'my-demo.yaml' }).waitFor();

    // Start it; the job list and the progress panel name it by run and mission.
    await page.getByTestId('launch-start').focus();
    await page.keyboard.press('Enter');
    const title = `my-demo · ${mission} (stage_b)`;
    await page.getByTestId('job-list').getByRole('button', { name: title }).waitFor();
    await page.getByTestId('job-title').filter({ hasText: title }).waitFor();
    await page.getByTestId('job-status').filter({ hasText: /running|completed/ }).waitFor({ timeout: 120_000 });
    await shoot(page, '15a-launcher-started-from-template');
  });
});
