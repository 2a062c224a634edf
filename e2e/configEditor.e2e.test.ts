import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumMissingReason, screenshot } from './fixtures/browser';
import { REPO_ROOT } from './fixtures/ensureRendererBuilt';
import { useWorkbenchSessions } from './fixtures/workbenchSession';

const missing = chromiumMissingReason();
if (missing) console.warn(missing);

/** The repository's configs, at the same relative places, so their yaml-language-server lines resolve as in the repository. */
async function copyConfigs(dir: string): Promise<string> {
  const configs = path.join(dir, 'configs');
  await mkdir(path.join(configs, 'sft'), { recursive: true });
  await copyFile(path.join(REPO_ROOT, 'configs', 'demo.yaml'), path.join(configs, 'demo.yaml'));
  await copyFile(path.join(REPO_ROOT, 'configs', 'sft', 'dense_summary_chat_stageb.yaml'), path.join(configs, 'sft', 'dense_summary_chat_stageb.yaml'));
  return configs;
}

/** The launcher lists configs by kind: run configs in config-list, SFT configs in config-list-sft. */
async function openConfig(page: Page, listTestId: 'config-list' | 'config-list-sft', index: number): Promise<void> {
  const list = page.getByTestId(listTestId);
  await list.getByRole('option').nth(index).click();
  await list.focus();
  await page.keyboard.press('Enter');
  await page.locator('[data-testid="config-editor"] .view-line').first().waitFor();
}

/** Hovers a top-level key in the editor (found with the find widget, which scrolls it into view) and returns the hover's text. */
async function hoverKey(page: Page, key: string): Promise<string> {
  await page.locator('[data-testid="config-editor"] .view-lines').click();
  await page.keyboard.press('Control+f');
  await page.keyboard.type(`${key}:`);
  await page.keyboard.press('Enter');
  await page.keyboard.press('Escape');
  const token = page.locator('[data-testid="config-editor"] .view-line span', { hasText: new RegExp(`^${key}$`) }).first();
  await token.hover();
  const hover = page.locator('.monaco-hover:not(.hidden)').filter({ hasText: /\S/ }).first();
  await hover.waitFor({ timeout: 20_000 });
  return (await hover.textContent()) ?? '';
}

/** The messages of the editor's problems, read through the next-problem widget (Alt+F8). */
async function problemMessages(page: Page, count: number): Promise<string[]> {
  const messages: string[] = [];
  await page.keyboard.press('Escape');
  for (let i = 0; i < count; i++) {
    await page.keyboard.press('Alt+F8');
    const widget = page.locator('.marker-widget').first();
    await widget.waitFor({ timeout: 20_000 });
    messages.push((await widget.textContent()) ?? '');
  }
  await page.keyboard.press('Escape');
  return messages;
}

describe.skipIf(Boolean(missing))("launcher's YAML editor uses the published config schemas", () => {
  const sessions = useWorkbenchSessions();

  it('hover, completion and validation from run-config.schema.json; the sft config gets its own schema from its modeline', { timeout: 180_000 }, async () => {
    const session = await sessions.open({ configsRoot: copyConfigs });
    const { page } = session;
    await page.goto(session.server.url);
    await page.getByTestId('nav-launcher').click();

    await openConfig(page, 'config-list-sft', 0);
    expect(await hoverKey(page, 'base_model')).toContain('Student checkpoint to fine-tune');

    await openConfig(page, 'config-list', 0);

    expect(await hoverKey(page, 'seed')).toContain('Master seed');

    // A key the schema does not know is flagged by the YAML language service itself.
    await page.locator('[data-testid="config-editor"] .view-lines').click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.type('bogus_key: 1');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="config-editor"] .squiggly-error').first().waitFor({ timeout: 20_000 });
    await page.keyboard.press('Control+Home');
    const messages = await problemMessages(page, 2);
    expect(messages.join('\n')).toMatch(/bogus_key is not allowed/);
    await screenshot(page, '17-config-editor-schema');

    // Completion of a top-level key demo.yaml does not set, on a new last line (a key already set is not offered).
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Shift+Home');
    await page.keyboard.press('Shift+Home');
    await page.keyboard.type('label_corr');
    await page.keyboard.press('Control+Space');
    const suggestion = page.locator('.suggest-widget .monaco-list-row', { hasText: 'label_corrections' }).first();
    await suggestion.waitFor({ timeout: 20_000 });
    await page.keyboard.press('Escape');
  });
});
