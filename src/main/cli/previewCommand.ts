import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { StageBError } from '../../shared/errors';
import { experiencesHash } from '../../shared/guidance/experiencesHash';
import { GuidanceStateSchema } from '../../shared/schemas/guidance';
import { readFlag } from '../cli';
import { runPreview } from '../composeHoldoutStudy';
import { PreviewDraftSchema, PreviewIdSchema, type PreviewDraft } from '../io/previewFiles';
import type { CliIo } from './CliIo';
import { comparisonCells, formatTable, readStudyTarget, runCancellable } from './holdoutStudyCli';

export const PREVIEW_USAGE = `stageb preview (--config <file> | --run <runDir>) --guidance <draft.json> [--id <name>] [--json] [--events-json]
  Evaluates a draft guidance against the run's current guidance on its holdout: uplift and
  false-release change with 95% intervals, what the reflection gate would decide, and the
  tickets whose verdict changes. The draft is {"experiences": {...}}, a guidance state, or a
  guidance file {"<mission>": {...}}. Writes <runDir>/preview/<id>.json. Ctrl-C cancels (exit 130).`;

/** A draft as a person hands it over: an edit, a guidance state, or a whole guidance file of the mission. */
export async function readDraft(file: string): Promise<PreviewDraft> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_MALFORMED_JSON';
    throw new StageBError(code, `cannot read the draft: ${(error as Error).message}`, { file });
  }
  const direct = PreviewDraftSchema.safeParse(value);
  if (direct.success) return direct.data;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.values(value as Record<string, unknown>);
    if (entries.length === 1) {
      const state = GuidanceStateSchema.safeParse(entries[0]);
      if (state.success) return { experiences: state.data.experiences, metadata: state.data.metadata };
    }
  }
  const issue = direct.error.issues[0];
  throw new StageBError('GUIDANCE_INVALID', `the draft is not {"experiences": {...}} nor a guidance file: ${issue.message}`, { file, field: issue.path.join('.') || undefined });
}

/** `stageb preview`: parse, run, print. */
export async function runPreviewCommand(argv: string[], io: CliIo): Promise<number> {
  const target = readStudyTarget(argv, PREVIEW_USAGE);
  const draftFile = readFlag(argv, '--guidance');
  if (draftFile === undefined) throw new StageBError('CONFIG_INVALID', `missing --guidance <draft.json>\n\n${PREVIEW_USAGE}`, { field: '--guidance' });
  const draft = await readDraft(resolve(draftFile));
  const idFlag = readFlag(argv, '--id');
  if (idFlag !== undefined && !PreviewIdSchema.safeParse(idFlag).success) throw new StageBError('CONFIG_INVALID', '--id must be 1-100 letters, digits, _ or -', { field: '--id' });
  const id = idFlag ?? `cli-${experiencesHash(draft.experiences).slice(0, 16)}`;
  const { result, file } = await runCancellable(argv, io, ({ signal, onEvent }) => runPreview({ target, signal, onEvent, draft, id }));
  const out = argv.includes('--events-json') ? io.stderr : io.stdout;
  if (argv.includes('--json')) {
    out.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  const c = result.comparison;
  const changes = c.changed_tickets.map((t) => `  ${t.ticket_key} (label ${t.label}): ${t.before ?? 'none'} → ${t.after ?? 'none'}`);
  out.write(
    [
      `Preview of the draft against guidance step ${result.guidance_step} (${result.run_name}/${result.mission}) on ${result.holdout.tickets} holdout tickets (${result.holdout.pass} pass, ${result.holdout.fail} fail)`,
      formatTable(['', 'label_match draft/current', 'uplift', 'false-release draft/current', 'change', 'P(uplift > 0)'], [['draft', ...comparisonCells(c)]]),
      `gate: ${result.gate.apply ? 'would apply' : `would not apply (${result.gate.reason})`}: ${result.gate.why}`,
      `${c.changed_tickets.length} verdict${c.changed_tickets.length === 1 ? '' : 's'} change${c.changed_tickets.length === 1 ? 's' : ''}${changes.length ? ':' : ''}`,
      ...changes,
      `→ ${file}`,
      '',
    ].join('\n'),
  );
  return 0;
}
