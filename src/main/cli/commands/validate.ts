import { resolve } from 'node:path';
import { toStageBError } from '../../../shared/errors';
import { defineCommand } from '../Command';
import { errorIssues } from '../formatCliError';
import { EXIT } from '../exitCodes';

export const validateCommand = defineCommand({
  name: 'validate',
  summary: 'check config, inputs and guidance; writes nothing',
  usage: '--config <file> [--json]',
  options: {
    config: { type: 'string', value: 'file', required: true, description: 'the run config (YAML)' },
    json: { type: 'boolean', description: 'print the result (or every issue) as one JSON object on stdout' },
  },
  description: `Checks what a run checks before it writes anything: the config, every Stage-A line,
the guidance and its token budget, and whether the run directory belongs to this
config. Every issue is printed, one per line. With --json the outcome is
{"ok": true, ...} or {"ok": false, "errors": [{code, message, location}]} (exit 1).`,
  run: async ({ values, io }) => {
    const { validateRun } = await import('../../runStageB');
    let validated;
    try {
      validated = await validateRun(resolve(values.config));
    } catch (raw) {
      if (!values.json) throw raw;
      io.stdout.write(`${JSON.stringify({ ok: false, errors: errorIssues(toStageBError(raw)) }, null, 2)}\n`);
      return EXIT.failure;
    }
    const labels: Record<string, number> = {};
    for (const ticket of validated.tickets) labels[ticket.label ?? 'unlabeled'] = (labels[ticket.label ?? 'unlabeled'] ?? 0) + 1;
    const experiences = Object.keys(validated.initialGuidance.experiences).length;
    if (values.json) {
      io.stdout.write(
        `${JSON.stringify({
          ok: true,
          config: validated.loaded.configPath,
          mission: validated.loaded.config.mission,
          tickets: validated.tickets.length,
          labels,
          guidance_step: validated.initialGuidance.step,
          experiences,
          run_dir: validated.runDir,
          existing: validated.existing,
        }, null, 2)}\n`,
      );
      return EXIT.ok;
    }
    io.stdout.write(
      `OK ${validated.loaded.configPath}\n  mission ${validated.loaded.config.mission}: ${validated.tickets.length} tickets ${JSON.stringify(labels)}\n  guidance step ${validated.initialGuidance.step}, ${experiences} experiences\n  run directory ${validated.runDir} (${validated.existing})\n`,
    );
    return EXIT.ok;
  },
});
