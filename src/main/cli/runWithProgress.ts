import type { RunEvent } from '../../shared/schemas/telemetry';
import { toStageBError } from '../../shared/errors';
import type { CliIo } from './CliIo';
import type { Verbosity } from './Command';
import { ProgressRenderer } from './ProgressRenderer';
import { cancelOnSignals } from './cancelOnSignals';

function formatRate(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(1)}%`;
}

/**
 * A Stage-B run as `stageb run`, `demo` and `distill run` launch it: progress on stderr
 * (events as JSON lines on stdout with `eventsJson`, which the workbench's engine host
 * reads), Ctrl-C / SIGTERM cancel it (the run stops at a safe point; exit 130; a second
 * signal exits at once), and a summary when it ends.
 */
export async function runWithProgress(options: { configPath: string; eventsJson: boolean; io: CliIo; verbosity: Verbosity }): Promise<number> {
  const { io, eventsJson, verbosity } = options;
  const { runStageB } = await import('../runStageB');
  const progress = new ProgressRenderer(io.stderr, { verbosity });
  const controller = new AbortController();
  const removeSignalHandlers = cancelOnSignals(controller);
  let errorEventWritten = false;
  try {
    const result = await runStageB({
      configPath: options.configPath,
      signal: controller.signal,
      onEvent: (event: RunEvent) => {
        // With --events-json the launcher reads stdout; a progress line on stderr would repeat every warning and reflection in its log.
        if (eventsJson) {
          io.stdout.write(`${JSON.stringify(event)}\n`);
          if (event.type === 'error') errorEventWritten = true;
        } else progress.handle(event);
      },
    });
    progress.finish();
    const t = result.telemetry;
    const lines = [result.alreadyComplete ? `Run already complete: ${result.runDir}` : `Run complete: ${result.runDir}`];
    if (verbosity !== 'quiet') {
      lines.push(
        `  groups ${t.counts.groups_processed}, candidates ${t.counts.candidates}, malformed ${t.counts.malformed}, warnings ${t.counts.warnings}`,
        `  label_match ${formatRate(t.rates.label_match_rate)}, false-release ${formatRate(t.rates.false_release_rate)}, guidance step ${t.guidance_step}`,
        `  reflections: ${t.counts.reflections.applied} applied, ${t.counts.reflections.rejected} rejected, ${t.counts.reflections.ineligible} ineligible, ${t.counts.reflections.generation_error} generation errors`,
        `  tokens: prompt evaluated ${t.tokens.prompt_evaluated} / total ${t.tokens.prompt_total} (unique ${t.tokens.prompt_unique}), generated ${t.tokens.generated}`,
        `  distill: ${t.distill.status}${t.distill.path ? ` → ${t.distill.path} (${t.distill.rows} rows)` : ''}${t.distill.message ? ` — ${t.distill.message}` : ''}`,
      );
    }
    (eventsJson ? io.stderr : io.stdout).write(`${lines.join('\n')}\n`);
    return 0;
  } catch (raw) {
    // Errors before the pipeline starts (config, inputs, run directory, model) reach the launcher as typed events too.
    if (eventsJson && !errorEventWritten) {
      io.stdout.write(`${JSON.stringify({ type: 'error', ts: new Date().toISOString(), error: toStageBError(raw).toJSON() } satisfies RunEvent)}\n`);
    }
    throw raw;
  } finally {
    removeSignalHandlers();
    progress.finish();
  }
}

/** --config and --events-json, shared by the commands that start a run. */
export const RUN_OPTIONS = {
  config: { type: 'string', value: 'file', required: true, description: 'the run config (YAML); relative paths in it resolve against its folder' },
  'events-json': { type: 'boolean', description: 'also print every run event as one JSON line on stdout (the summary moves to stderr)' },
} as const;
