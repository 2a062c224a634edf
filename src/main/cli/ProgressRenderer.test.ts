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

  it('caps per-group warnings on the console and reports the total', () => {
    const out = sink(false);
    const renderer = new ProgressRenderer(out.stream);
    for (let i = 0; i < 12; i++) renderer.handle({ type: 'warning', ts: 't', group_id: `G${i}`, code: 'malformed_output', message: 'm', guidance_step: 0, ineligible_reason: null });
    renderer.finish();
    const text = out.chunks.join('');
    expect(text.match(/\[warning\] G\d+/g)).toHaveLength(ProgressRenderer.WARNINGS_SHOWN);
    expect(text).toContain('12 warnings in total');
  });

  it('formats durations', () => {
    expect(formatDuration(4_000)).toBe('4s');
    expect(formatDuration(3_723_000)).toBe('1h02m');
  });
});
