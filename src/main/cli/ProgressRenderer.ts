import { warningText, type RunEvent } from '../../shared/schemas/telemetry';
import type { CliStream } from './CliIo';
import type { Verbosity } from './Command';
import { RUN_FILES } from '../../shared/runFiles';

/**
 * The CLI's progress display: one redrawn line with a bar, epoch/batch, tokens/s
 * and ETA on a TTY, fitted to the terminal's width (a line that wraps cannot be
 * redrawn with `\r`); on a pipe (CI, logs) one plain line per batch instead, so
 * logs stay readable. Warnings and phases always print on their own line.
 * --quiet shows nothing but errors; --verbose shows every warning and guidance event.
 */
/** ANSI EL: clears from the cursor to the end of the line (every TTY we draw on supports it). */
const CLEAR_TO_END = '\x1b[K';

export class ProgressRenderer {
  private lastLineLength = 0;
  private readonly isTty: boolean;
  private warnings = 0;
  private readonly verbosity: Verbosity;
  /** Per-group warnings go to events.jsonl; the console shows the first few, then a count. */
  static readonly WARNINGS_SHOWN = 5;
  /** The bar's widest and narrowest; below the narrowest it is left out. */
  static readonly BAR_WIDTH = { max: 24, min: 6 } as const;

  constructor(
    private readonly out: CliStream,
    options: { verbosity?: Verbosity } = {},
  ) {
    this.isTty = Boolean(out.isTTY);
    this.verbosity = options.verbosity ?? 'normal';
  }

  handle(event: RunEvent): void {
    if (this.verbosity === 'quiet') {
      if (event.type === 'error') this.line(`[error] ${event.error.code}: ${event.error.message}`);
      return;
    }
    const verbose = this.verbosity === 'verbose';
    switch (event.type) {
      case 'phase':
        this.line(`[${event.phase}] ${event.message}`);
        break;
      case 'guidance':
        if (!this.isTty || verbose) this.line(`[guidance] ${event.message}`);
        break;
      case 'warning':
        this.warnings++;
        if (verbose || this.warnings <= ProgressRenderer.WARNINGS_SHOWN) this.line(`[warning] ${event.group_id ?? '-'} ${warningText(event)}`);
        else if (this.warnings === ProgressRenderer.WARNINGS_SHOWN + 1) this.line(`[warning] further warnings are recorded in ${RUN_FILES.events}; the run summary counts them (one count, the whole run's)`);
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
    const bar = ProgressRenderer.bar(event, width);
    return `${bar} ${ProgressRenderer.progressText(event)}`;
  }

  /**
   * The progress line in at most `columns - 1` characters (the last column would make
   * some terminals wrap): the bar shrinks first, then goes, then the text is cut.
   */
  static fitProgress(event: Extract<RunEvent, { type: 'progress' }>, columns: number): string {
    const room = Math.max(1, columns - 1);
    const text = ProgressRenderer.progressText(event);
    const barWidth = Math.min(ProgressRenderer.BAR_WIDTH.max, room - text.length - 1);
    if (barWidth >= ProgressRenderer.BAR_WIDTH.min) return `${ProgressRenderer.bar(event, barWidth)} ${text}`;
    return text.length <= room ? text : `${text.slice(0, room - 1)}…`;
  }

  private static fraction(event: Extract<RunEvent, { type: 'progress' }>): number {
    return event.groups_total > 0 ? Math.min(1, event.groups_done / event.groups_total) : 0;
  }

  private static bar(event: Extract<RunEvent, { type: 'progress' }>, width: number): string {
    const filled = Math.round(ProgressRenderer.fraction(event) * width);
    return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
  }

  private static progressText(event: Extract<RunEvent, { type: 'progress' }>): string {
    const eta = event.eta_ms === null ? '--' : formatDuration(event.eta_ms);
    return `${(ProgressRenderer.fraction(event) * 100).toFixed(0).padStart(3)}% epoch ${event.epoch + 1}/${event.epochs} batch ${event.batch_index + 1}/${event.batches} groups ${event.groups_done}/${event.groups_total} ${event.tokens_per_second.toFixed(1)} tok/s ETA ${eta}`;
  }

  private progress(event: Extract<RunEvent, { type: 'progress' }>): void {
    if (this.isTty) {
      // Asked at every redraw: the terminal may have been resized since the last one.
      const text = ProgressRenderer.fitProgress(event, this.out.columns ?? process.stdout.columns ?? 80);
      // Erase-to-end-of-line rather than padding: padding to the last length could itself wrap.
      this.out.write(`\r${text}${CLEAR_TO_END}`);
      this.lastLineLength = text.length;
    } else {
      this.out.write(`${ProgressRenderer.formatProgress(event)}\n`);
    }
  }

  private line(text: string): void {
    if (this.isTty && this.lastLineLength > 0) {
      this.out.write(`\r${CLEAR_TO_END}`);
      this.lastLineLength = 0;
    }
    this.out.write(`${text}\n`);
  }

  finish(): void {
    if (this.isTty && this.lastLineLength > 0) {
      this.out.write('\n');
      this.lastLineLength = 0;
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
