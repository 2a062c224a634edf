import { describe, expect, it } from 'vitest';
import { ProgressRenderer, formatDuration } from './ProgressRenderer';
import type { CliStream } from './CliIo';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, write: (s: string) => chunks.push(s) } satisfies CliStream };
}

const progress = (groups_done: number) => ({ type: 'progress' as const, ts: 't', epoch: 0, epochs: 2, batch_index: 1, batches: 4, groups_done, groups_total: 40, epoch_groups_done: groups_done % 20, epoch_groups_total: 20, tokens_per_second: 123.4, eta_ms: 95_000 });

describe('ProgressRenderer', () => {
  it('formats a bar with percentage, epoch, batch, tokens/s and ETA', () => {
    const text = ProgressRenderer.formatProgress(progress(10), 10);
    expect(text).toBe('███░░░░░░░  25% epoch 1/2 batch 2/4 groups 10/40 123.4 tok/s ETA 1m35s');
  });

  it('redraws one line on a TTY and writes plain lines on a pipe', () => {
    const tty = sink(true);
    new ProgressRenderer(tty.stream).handle(progress(10));
    expect(tty.chunks[0].startsWith('\r')).toBe(true);
    const pipe = sink(false);
    new ProgressRenderer(pipe.stream).handle(progress(10));
    expect(pipe.chunks[0].endsWith('\n')).toBe(true);
  });

  it('caps per-group warnings on the console and leaves the count to the run summary (one count)', () => {
    const out = sink(false);
    const renderer = new ProgressRenderer(out.stream);
    for (let i = 0; i < 12; i++) renderer.handle({ type: 'warning', ts: 't', group_id: `G${i}`, code: 'malformed_output', message: 'm', guidance_step: 0, ineligible_reason: null });
    renderer.finish();
    const text = out.chunks.join('');
    expect(text.match(/\[warning\] G\d+/g)).toHaveLength(ProgressRenderer.WARNINGS_SHOWN);
    expect(text).toContain('the run summary counts them');
    expect(text).not.toMatch(/\d+ warnings in total/);
  });

  it("prints a warning with its batch's reflection reason", () => {
    const out = sink(false);
    const renderer = new ProgressRenderer(out.stream);
    renderer.handle({ type: 'warning', ts: 't', group_id: 'G1', code: 'low_self_consistency', message: 'm', guidance_step: 0, ineligible_reason: 'holdout_no_uplift' });
    renderer.finish();
    expect(out.chunks.join('')).toContain('[warning] G1 low_self_consistency: m (reflection: holdout_no_uplift)');
  });

  it('formats durations', () => {
    expect(formatDuration(4_000)).toBe('4s');
    expect(formatDuration(3_723_000)).toBe('1h02m');
  });
});

describe('ProgressRenderer width', () => {
  const wide = { ...progress(10), groups_done: 12345, groups_total: 99999, epochs: 10, epoch: 9, batches: 1000, batch_index: 999, tokens_per_second: 12345.6, eta_ms: 3_600_000 * 99 };

  it.each([200, 120, 80, 60, 40, 20])('fits a %i-column terminal', (columns) => {
    for (const event of [progress(10), wide]) {
      const line = ProgressRenderer.fitProgress(event, columns);
      expect(line.length).toBeLessThan(columns);
    }
  });

  it('keeps the full bar when there is room, shrinks it, then drops it before cutting the text', () => {
    expect(ProgressRenderer.fitProgress(progress(10), 200)).toBe(ProgressRenderer.formatProgress(progress(10), 24));
    const full = ProgressRenderer.formatProgress(progress(10), 24);
    expect(full.length).toBeGreaterThan(79);
    const at80 = ProgressRenderer.fitProgress(progress(10), 80);
    expect(at80).toMatch(/^█*░+ {2}25% epoch 1\/2 batch 2\/4 groups 10\/40 123\.4 tok\/s ETA 1m35s$/);
    expect(at80.length).toBe(79);
    const narrow = ProgressRenderer.fitProgress(progress(10), 40);
    expect(narrow).not.toMatch(/[█░]/);
    expect(narrow.endsWith('…')).toBe(true);
  });

  it('draws the TTY line at the stream width and erases what the last one left', () => {
    const chunks: string[] = [];
    const renderer = new ProgressRenderer({ isTTY: true, columns: 80, write: (s: string) => chunks.push(s) });
    renderer.handle(progress(10));
    const drawn = chunks[0].replace(/^\r/, '').replace('\x1b[K', '');
    expect(drawn.length).toBeLessThan(80);
    expect(chunks[0].endsWith('\x1b[K')).toBe(true);
  });
});

describe('ProgressRenderer verbosity', () => {
  const warning = (i: number) => ({ type: 'warning' as const, ts: 't', group_id: `G${i}`, code: 'malformed_output' as const, message: 'm', guidance_step: 0, ineligible_reason: null });

  it('--quiet prints errors only', () => {
    const out = sink(false);
    const renderer = new ProgressRenderer(out.stream, { verbosity: 'quiet' });
    renderer.handle({ type: 'phase', ts: 't', phase: 'model_load', message: 'loading' });
    renderer.handle(progress(10));
    renderer.handle(warning(1));
    renderer.handle({ type: 'error', ts: 't', error: { code: 'INTERNAL', message: 'boom', location: {} } });
    renderer.finish();
    expect(out.chunks.join('')).toBe('[error] INTERNAL: boom\n');
  });

  it('--verbose prints every warning', () => {
    const out = sink(false);
    const renderer = new ProgressRenderer(out.stream, { verbosity: 'verbose' });
    for (let i = 0; i < 12; i++) renderer.handle(warning(i));
    expect(out.chunks.join('').match(/\[warning\] G\d+/g)).toHaveLength(12);
  });
});
