import type { RunEvent } from '../../shared/schemas/telemetry';
import { toStageBError } from '../../shared/errors';
import type { CliIo } from './CliIo';
import type { Verbosity } from './Command';
import { ProgressRenderer } from './ProgressRenderer';
import { cancelOnSignals } from './cancelOnSignals';
import { PausableRunControl } from '../engine/ports/RunControl';

function formatRate(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(1)}%`;
}

/**
 * Engine work as the CLI runs it (a Stage-B run, a holdout study): progress on stderr, or every event as one
 * JSON line on stdout with `eventsJson` (what the workbench's engine host reads); Ctrl-C / SIGTERM cancel it
 * (the work stops at a safe point, CANCELLED, exit 130; a second signal exits at once). With `eventsJson` a
 * failure the work did not report itself (config, inputs, run directory, model: before anything started) is
 * written as one typed error event too, so the launcher shows its code and file. With `eventsJson` the work
 * also gets a `control` the workbench pauses and resumes through `io.runControl` (stdin lines or parentPort).
 */
export async function runCancellable<T>(
  options: { eventsJson: boolean; verbosity: Verbosity; io: CliIo },
  body: (options: { signal: AbortSignal; onEvent: (event: RunEvent) => void; control?: PausableRunControl }) => Promise<T>,
): Promise<T> {
  const { eventsJson, io } = options;
  const progress = new ProgressRenderer(io.stderr, { verbosity: options.verbosity });
  const controller = new AbortController();
  const removeSignalHandlers = cancelOnSignals(controller);
  // Only an engine host the workbench started listens for pause / resume.
  const control = eventsJson && io.runControl ? new PausableRunControl({ signal: controller.signal }) : undefined;
  const stopListening = control && io.runControl ? io.runControl((message) => (message.type === 'pause' ? control.pause() : control.resume())) : () => undefined;
  let errorEventWritten = false;
  try {
    return await body({
      signal: controller.signal,
      control,
      onEvent: (event) => {
        // With --events-json the launcher reads stdout; a progress line on stderr would repeat every warning and reflection in its log.
        if (eventsJson) {
          io.stdout.write(`${JSON.stringify(event)}\n`);
          if (event.type === 'error') errorEventWritten = true;
        } else progress.handle(event);
      },
    });
  } catch (raw) {
    if (eventsJson && !errorEventWritten) {
      io.stdout.write(`${JSON.stringify({ type: 'error', ts: new Date().toISOString(), error: toStageBError(raw).toJSON() } satisfies RunEvent)}\n`);
    }
    throw raw;
  } finally {
    stopListening();
    removeSignalHandlers();
    progress.finish();
  }
}

/**
 * A Stage-B run as `stageb run`, `demo` and `distill run` launch it (runCancellable), and a summary when it ends.
 * `prepare` (the demo's mission and model) runs inside the same error channel, so with --events-json its
 * failures reach the launcher as typed error events like any other failure before the pipeline starts.
 */
export async function runWithProgress(options: { configPath: string; eventsJson: boolean; io: CliIo; verbosity: Verbosity; prepare?: () => Promise<void> }): Promise<number> {
  const { io, eventsJson, verbosity } = options;
  const { runStageB } = await import('../runStageB');
  const result = await runCancellable(options, async ({ signal, onEvent, control }) => {
    await options.prepare?.();
    return runStageB({ configPath: options.configPath, signal, onEvent, control });
  });
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
}

/** --config and --events-json, shared by the commands that start a run. */
export const RUN_OPTIONS = {
  config: { type: 'string', value: 'file', required: true, description: 'the run config (YAML); relative paths in it resolve against its folder' },
  'events-json': { type: 'boolean', description: 'also print every run event as one JSON line on stdout (the summary moves to stderr)' },
} as const;
