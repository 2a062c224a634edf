import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { StageBError } from '../../../shared/errors';
import { experiencesHash } from '../../../shared/guidance/experiencesHash';
import { GuidanceStateSchema } from '../../../shared/schemas/guidance';
import { PreviewDraftSchema, PreviewIdSchema, type PreviewDraft } from '../../io/previewFiles';
import { defineCommand } from '../Command';
import { EXIT } from '../exitCodes';
import { UsageError } from '../UsageError';
import { comparisonCells, formatTable, readStudyTarget, STUDY_OPTIONS } from '../holdoutStudyCli';
import { runCancellable } from '../runWithProgress';
import { RUN_FILES } from '../../../shared/runFiles';

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

export const previewCommand = defineCommand({
  name: 'preview',
  summary: 'a draft guidance against the current one on the holdout',
  usage: '(--config <file> | --run <runDir>) --guidance <draft.json> [--id <name>] [--json] [--events-json]',
  options: {
    ...STUDY_OPTIONS,
    guidance: { type: 'string', value: 'draft.json', required: true, description: 'the draft: {"experiences": {...}}, a guidance state, or a guidance file {"<mission>": {...}}' },
    id: { type: 'string', value: 'name', description: `the result name under <runDir>/${RUN_FILES.preview}/ (1-100 letters, digits, _ or -); default from the draft` },
  },
  description: `Evaluates a draft guidance against the run's current guidance on its holdout: uplift and
false-release change with 95% intervals, what the reflection gate would decide, and the
tickets whose verdict changes. Writes <runDir>/${RUN_FILES.preview}/<id>.json. Ctrl-C cancels (exit 130).`,
  run: async ({ values, io, verbosity }) => {
    const target = readStudyTarget(values);
    if (values.id !== undefined && !PreviewIdSchema.safeParse(values.id).success) throw new UsageError('--id must be 1-100 letters, digits, _ or -');
    const draft = await readDraft(resolve(values.guidance));
    const id = values.id ?? `cli-${experiencesHash(draft.experiences).slice(0, 16)}`;
    const { runPreview } = await import('../../composeHoldoutStudy');
    const { result, file } = await runCancellable({ eventsJson: values['events-json'], verbosity, io }, ({ signal, onEvent }) => runPreview({ target, signal, onEvent, draft, id }));
    const out = values['events-json'] ? io.stderr : io.stdout;
    if (values.json) {
      out.write(`${JSON.stringify(result, null, 2)}\n`);
      return EXIT.ok;
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
    return EXIT.ok;
  },
});
