import { openFirstConfig } from './fixtures/launcherPage';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumMissingReason, screenshot } from './fixtures/browser';
import { DEMO_CONFIG, STAGEB, writeDemoConfig } from './fixtures/demoConfig';
import { JOB_CHART, jobChartLegend, pct } from './fixtures/jobChart';
import { openFixtureRun, useWorkbenchSessions } from './fixtures/workbenchSession';

function skipReason(): string | null {
  const chromium = chromiumMissingReason();
  if (chromium) return chromium;
  if (!existsSync(STAGEB) || !existsSync(DEMO_CONFIG)) return 'bin/stageb.js or configs/demo.yaml missing — pause/resume e2e skipped';
  return null;
}
const skip = skipReason();
if (skip) console.warn(skip);

/** The demo run's folder (runs/demo/<mission>), as the run wrote it. */
async function demoRunDir(runsRoot: string): Promise<string> {
  const [mission] = await readdir(path.join(runsRoot, 'demo'));
  return path.join(runsRoot, 'demo', mission);
}

type EventLine = { type: string; epoch?: number; batch_index?: number; label_match_rate?: number | null; false_release_rate?: number | null };

async function readEvents(runsRoot: string): Promise<EventLine[]> {
  const text = await readFile(path.join(await demoRunDir(runsRoot), 'events.jsonl'), 'utf8');
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

const status = (page: Page) => page.getByTestId('job-status');

/**
 * Live run control from the launcher, keyboard only, on a real run of the tiny model (the demo
 * config, 16 tickets in batches of 2): `p` pauses at the next batch boundary and the launcher
 * says where the run waits; `p` resumes it; `x` cancels it while paused, and the run ends
 * cancelled with its telemetry finalised.
 */
describe.skipIf(Boolean(skip))('launcher: pause, resume and cancel a run', () => {
  const sessions = useWorkbenchSessions();

  it('pauses at a batch boundary, resumes, pauses again and cancels while paused', { timeout: 600_000 }, async () => {
    let runsRoot = '';
    const session = await sessions.open({
      configsRoot: (dir) => {
        runsRoot = path.join(dir, 'runs');
        return writeDemoConfig(dir, runsRoot, { maxTickets: 16, batchSize: 2 });
      },
    });
    const { page } = session;
    await openFixtureRun(session);
    await openFirstConfig(page);
    await page.getByTestId('launch-start').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('job-progress').waitFor();
    await status(page).filter({ hasText: /^running$/ }).waitFor({ timeout: 120_000 });
    // Not before the run's first batch has finished, so the pause lands between two batches.
    await page.getByTestId('bar-overall').and(page.locator(':not([aria-valuenow="0"])')).waitFor({ timeout: 300_000 });

    // The `?` overlay lists the run-control keys.
    await page.keyboard.press('?');
    await expect(page.getByTestId('shortcuts').textContent()).resolves.toMatch(/pause the run at the next batch boundary/);
    await page.keyboard.press('Escape');
    await page.getByTestId('shortcuts').waitFor({ state: 'detached' });

    await page.keyboard.press('p');
    await status(page).filter({ hasText: /^(pausing|paused)$/ }).waitFor({ timeout: 10_000 });
    await status(page).filter({ hasText: /^paused$/ }).waitFor({ timeout: 300_000 });
    const pausedText = (await page.getByTestId('job-paused').textContent()) ?? '';
    expect(pausedText).toMatch(/^Paused (at batch \d+\/\d+|before the first batch) of epoch \d\/2/);
    expect(pausedText).toMatch(/Resume continues with batch \d+\/\d+\./);
    await expect(page.getByTestId('job-pause').isDisabled()).resolves.toBe(true);
    await expect(page.getByTestId('job-resume').isEnabled()).resolves.toBe(true);
    await expect(page.getByTestId('job-cancel').isEnabled()).resolves.toBe(true);
    await expect(page.getByTestId('job-eta').textContent()).resolves.toBe('paused');
    const pausedEvents = (await readEvents(runsRoot)).filter((e) => e.type === 'paused');
    expect(pausedEvents).toHaveLength(1);

    // The live chart (uPlot) holds every batch that finished before the pause; its legend shows the last.
    const batchEvents = (await readEvents(runsRoot)).filter((e) => e.type === 'batch');
    const chart = page.getByTestId(JOB_CHART);
    await chart.locator('canvas').waitFor();
    const present = (rate: 'label_match_rate' | 'false_release_rate') => batchEvents.filter((e) => e[rate] !== null).length;
    await expect.poll(() => chart.getAttribute('data-points')).toBe(`${present('label_match_rate')},${present('false_release_rate')}`);
    const lastBatch = batchEvents[batchEvents.length - 1];
    expect(await jobChartLegend(page)).toEqual([`e${lastBatch.epoch}·b${lastBatch.batch_index}`, pct(lastBatch.label_match_rate ?? null), pct(lastBatch.false_release_rate ?? null)]);

    // Paused is paused: nothing moves while it waits.
    const groupsWhilePaused = await page.getByTestId('bar-overall').getAttribute('aria-valuenow');
    for (const width of [1280, 1440]) {
      await page.setViewportSize({ width, height: 900 });
      await screenshot(page, `pause-launcher-paused-${width}`);
    }
    await expect(page.getByTestId('bar-overall').getAttribute('aria-valuenow')).resolves.toBe(groupsWhilePaused);

    await page.keyboard.press('p');
    await status(page).filter({ hasText: /^running$/ }).waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('job-paused').count()).resolves.toBe(0);
    // It continues with the next batch.
    await page.getByTestId('bar-overall').and(page.locator(`:not([aria-valuenow="${groupsWhilePaused}"])`)).waitFor({ timeout: 300_000 });
    const events = await readEvents(runsRoot);
    const pausedAt = events.findIndex((e) => e.type === 'paused');
    expect(events[pausedAt + 1]).toMatchObject({ type: 'resumed', epoch: events[pausedAt].epoch, batch_index: events[pausedAt].batch_index });

    await page.keyboard.press('p');
    await status(page).filter({ hasText: /^paused$/ }).waitFor({ timeout: 300_000 });
    await page.keyboard.press('x');
    await status(page).filter({ hasText: /^cancelled$/ }).waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('job-cancel').count()).resolves.toBe(0);
    await screenshot(page, 'pause-launcher-cancelled-1440');

    const telemetry = JSON.parse(await readFile(path.join(await demoRunDir(runsRoot), 'telemetry.json'), 'utf8'));
    expect(telemetry.status).toBe('cancelled');
    expect(telemetry.finished_at).not.toBeNull();
  });
});
