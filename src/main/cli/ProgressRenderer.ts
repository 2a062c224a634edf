import type { RunEvent } from '../../shared/schemas/telemetry';
import type { CliStream } from './CliIo';

/**
 * The CLI's progress display: one redrawn line with a bar, epoch/batch, tokens/s
 * and ETA on a TTY; on a pipe (CI, logs) one plain line per batch instead, so
 * logs stay readable. Warnings and phases always print on their own line.
 */
export class ProgressRenderer {
  private lastLineLength = 0;
  private readonly isTty: boolean;
  private warnings = 0;
  /** Per-group warnings go to events.jsonl; the console shows the first few, then a count. */
  static readonly WARNINGS_SHOWN = 5;

  constructor(private readonly out: CliStream) {
    this.isTty = Boolean(out.isTTY);
  }

  handle(event: RunEvent): void {
    switch (event.type) {
      case 'phase':
        this.line(`[${event.phase}] ${event.message}`);
        break;
      case 'guidance':
        if (!this.isTty) this.line(`[guidance] ${event.message}`);
        break;
      case 'warning':
        this.warnings++;
        if (this.warnings <= ProgressRenderer.WARNINGS_SHOWN) this.line(`[warning] ${event.group_id ?? '-'} ${event.code}: ${event.message}`);
        else if (this.warnings === ProgressRenderer.WARNINGS_SHOWN + 1) this.line('[warning] further warnings are recorded in events.jsonl and counted at the end');
        break;
      case 'reflection':
        this.line(`[reflection] epoch ${event.epoch} batch ${event.batch_index}: ${event.applied ? 'applied' : `not applied (${event.ineligible_reason ?? 'gate'})`}`);
        break;
      case 'progress':
        this.progress(event);
        break;
      case 'error':
        this.line(`[error] ${event.error.code}: ${event.error.message}`);
        break;
      default:
        break;
    }
  }

  static formatProgress(event: Extract<RunEvent, { type: 'progress' }>, width = 24): string {
    const fraction = event.groups_total > 0 ? Math.min(1, event.groups_done / event.groups_total) : 0;
    const filled = Math.round(fraction * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const eta = event.eta_ms === null ? '--' : formatDuration(event.eta_ms);
    return `${bar} ${(fraction * 100).toFixed(0).padStart(3)}% epoch ${event.epoch + 1}/${event.epochs} batch ${event.batch_index + 1}/${event.batches} groups ${event.groups_done}/${event.groups_total} ${event.tokens_per_second.toFixed(1)} tok/s ETA ${eta}`;
  }

  private progress(event: Extract<RunEvent, { type: 'progress' }>): void {
    const text = ProgressRenderer.formatProgress(event);
    if (this.isTty) {
      this.out.write(`\r${text.padEnd(this.lastLineLength)}`);
      this.lastLineLength = text.length;
    } else {
      this.out.write(`${text}\n`);
    }
  }

  private line(text: string): void {
    if (this.isTty && this.lastLineLength > 0) {
      this.out.write(`\r${' '.repeat(this.lastLineLength)}\r`);
      this.lastLineLength = 0;
    }
    this.out.write(`${text}\n`);
  }

  finish(): void {
    if (this.isTty && this.lastLineLength > 0) {
      this.out.write('\n');
      this.lastLineLength = 0;
    }
    if (this.warnings > ProgressRenderer.WARNINGS_SHOWN) {
      this.out.write(`[warning] ${this.warnings} warnings in total (events.jsonl)\n`);
      this.warnings = ProgressRenderer.WARNINGS_SHOWN;
    }
  }
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
