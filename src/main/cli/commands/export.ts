import { resolve } from 'node:path';
import { toStageBError } from '../../../shared/errors';
import { defineCommand } from '../Command';
import { errorIssues } from '../formatCliError';
import { EXIT } from '../exitCodes';
import { RUN_FILES } from '../../../shared/runFiles';

export const exportCommand = defineCommand({
  name: 'export',
  summary: `rewrite ${RUN_FILES.export}/verdicts.{jsonl,parquet} from a finished run`,
  usage: '--config <file> [--allow-incomplete] [--json]',
  options: {
    config: { type: 'string', value: 'file', required: true, description: "the run's config (YAML)" },
    'allow-incomplete': { type: 'boolean', description: 'export a run that is not whole (torn last row, short batch, not completed) and list what was left out' },
    json: { type: 'boolean', description: 'print {"ok", "rows", "jsonl", "parquet"} (or {"ok": false, "errors"}) on stdout' },
  },
  description: `Rebuilds the export from the run directory's selections (last epoch), without a model.
An incomplete run is refused with every reason (EXPORT_INCOMPLETE) unless --allow-incomplete.`,
  run: async ({ values, io }) => {
    const { exportRun } = await import('../../runStageB');
    let result;
    try {
      result = await exportRun(resolve(values.config), { allowIncomplete: values['allow-incomplete'] });
    } catch (raw) {
      if (!values.json) throw raw;
      io.stdout.write(`${JSON.stringify({ ok: false, errors: errorIssues(toStageBError(raw)) }, null, 2)}\n`);
      return EXIT.failure;
    }
    if (values.json) io.stdout.write(`${JSON.stringify({ ok: true, ...result }, null, 2)}\n`);
    else {
      io.stdout.write(`exported ${result.rows} rows → ${result.jsonl}${result.parquet ? `, ${result.parquet}` : ''}\n`);
      if (result.leftOut.length > 0) io.stderr.write(`left out (--allow-incomplete):\n${result.leftOut.map((gap) => `  - ${gap.message}`).join('\n')}\n`);
    }
    return EXIT.ok;
  },
});
