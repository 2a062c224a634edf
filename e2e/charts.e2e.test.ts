import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { FsArtifactStore } from '../src/main/io/FsArtifactStore';
import { TelemetrySchema } from '../src/shared/schemas/telemetry';
import { chromiumMissingReason, screenshot } from './fixtures/browser';
import { openFixtureRun, useWorkbenchSessions } from './fixtures/workbenchSession';

const missing = chromiumMissingReason();
if (missing) console.warn(missing);

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);

/** The legend values of a chart (uPlot's .u-legend), the x value first. */
async function legendValues(page: Page, id: string): Promise<string[]> {
  return page.getByTestId(`chart-${id}-plot`).locator('.u-legend .u-value').allTextContents();
}

/** The RGBA of the canvas pixel at (x, y) in canvas pixels. */
async function canvasPixel(page: Page, id: string, x: number, y: number): Promise<number[]> {
  return page.getByTestId(`chart-${id}-plot`).locator('canvas').evaluate((canvas: HTMLCanvasElement, [px, py]) => [...canvas.getContext('2d')!.getImageData(px, py, 1, 1).data], [x, y]);
}

describe.skipIf(Boolean(missing))('charts drawn by uPlot in Chromium', () => {
  const sessions = useWorkbenchSessions();

  it('draws axes with tick values, legend values at the cursor, a one-point series, and fits 1280 and 1440 px', async () => {
    const session = await sessions.open();
    const { page, fixture } = session;
    // One batch's progress event: tokens/s is a series with a single point.
    await new FsArtifactStore(fixture.missionDir).appendEvent({
      type: 'progress', ts: '2025-03-01T08:01:00.000Z', epoch: 0, epochs: 2, batch_index: 0, batches: 6, groups_done: 8, groups_total: 96,
      epoch_groups_done: 8, epoch_groups_total: 48, tokens_per_second: 42.5, eta_ms: 1000,
    });
    const telemetry = TelemetrySchema.parse(JSON.parse(await readFile(path.join(fixture.missionDir, 'telemetry.json'), 'utf8')));
    const batches = telemetry.batches;

    await page.setViewportSize({ width: 1440, height: 900 });
    await openFixtureRun(session);
    await page.keyboard.press('7');
    for (const id of ['batch', 'epoch', 'holdout', 'guidance', 'throughput']) {
      await page.getByTestId(`chart-${id}-plot`).locator('canvas').waitFor();
    }
    const batch = page.getByTestId('chart-batch-plot');
    await expect.poll(() => batch.getAttribute('data-y-ticks')).toMatch(/%/);

    // Axes: the y axis of a rate runs 0–100 % with ticks between; the x axis names batches.
    const yTicks = (await batch.getAttribute('data-y-ticks'))!.split('|');
    expect(yTicks[0]).toBe('0%');
    expect(yTicks[yTicks.length - 1]).toBe('100%');
    expect(yTicks.length).toBeGreaterThan(2);
    const xTicks = (await batch.getAttribute('data-x-ticks'))!.split('|');
    expect(xTicks[0]).toBe('e0·b0');
    expect(xTicks.length).toBeGreaterThan(2);
    expect(await page.getByTestId('chart-guidance-plot').getAttribute('data-x-ticks')).toBe('step 0|step 1|step 2');
    expect(await batch.getAttribute('data-points')).toBe(`${batches.length},${batches.length}`);

    // Legend: the last batch's values while the cursor is elsewhere, the first batch's under the cursor.
    const last = batches[batches.length - 1];
    expect((await legendValues(page, 'batch')).slice(1)).toEqual([pct(last.label_match_rate), pct(last.false_release_rate)]);
    const over = (await batch.locator('.u-over').boundingBox())!;
    await page.mouse.move(over.x + over.width * (0.5 / batches.length), over.y + over.height / 2);
    await expect.poll(() => legendValues(page, 'batch')).toEqual(['e0·b0', pct(batches[0].label_match_rate), pct(batches[0].false_release_rate)]);
    await page.mouse.move(0, 0);

    // The holdout before and with each gated plan (the fixture's reflection.jsonl: 3 decisions).
    expect(await page.getByTestId('chart-holdout-plot').getAttribute('data-points')).toBe('3,3,3,3');
    expect((await legendValues(page, 'holdout')).slice(1)).toEqual(['62.5%', '75.0%', '20.0%', '10.0%']);

    // A series with one point is drawn: its pixel carries the series colour.
    const throughput = page.getByTestId('chart-throughput-plot');
    expect(await throughput.getAttribute('data-points')).toBe('1');
    const [x, y] = (await throughput.getAttribute('data-lone-points'))!.split(',').map(Number);
    const [r, g, b, alpha] = await canvasPixel(page, 'throughput', x, y);
    expect(alpha).toBeGreaterThan(200);
    // --warn is #a15c00.
    expect(Math.abs(r - 0xa1) + Math.abs(g - 0x5c) + Math.abs(b - 0x00)).toBeLessThan(60);
    expect((await legendValues(page, 'throughput')).slice(1)).toEqual(['42.5']);
    await screenshot(page, 'charts-1440');

    // Sized to the container: narrower at 1280, with no horizontal scroll.
    const wide = (await batch.locator('canvas').boundingBox())!.width;
    await page.setViewportSize({ width: 1280, height: 900 });
    await expect.poll(async () => (await batch.locator('canvas').boundingBox())!.width).toBeLessThan(wide);
    for (const id of ['batch', 'epoch', 'holdout', 'guidance', 'throughput']) {
      const figure = (await page.getByTestId(`chart-${id}`).boundingBox())!;
      const canvas = (await page.getByTestId(`chart-${id}-plot`).locator('canvas').boundingBox())!;
      expect(canvas.x + canvas.width, id).toBeLessThanOrEqual(figure.x + figure.width);
    }
    const overflow = await page.evaluate(() => {
      const content = document.querySelector('main.content')!;
      return content.scrollWidth - content.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'charts-1280');
  });
});
