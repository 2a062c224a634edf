import { defineCommand } from '../Command';
import { EXIT } from '../exitCodes';
import { comparisonCells, formatTable, readStudyTarget, STUDY_OPTIONS } from '../holdoutStudyCli';
import { runCancellable } from '../runWithProgress';
import { RUN_FILES } from '../../../shared/runFiles';

export const attributeCommand = defineCommand({
  name: 'attribute',
  summary: 'measured effect of each rule of the current guidance on the holdout',
  usage: '(--config <file> | --run <runDir>) [--force] [--json] [--events-json]',
  options: {
    ...STUDY_OPTIONS,
    force: { type: 'boolean', description: 'measure again even when this guidance step is cached' },
  },
  description: `For each rule of the run's current guidance: the holdout with the rule left out and kept,
label_match and false release with and without it, the difference with a 95% paired-bootstrap
interval and P(the rule improves label_match). Cached in <runDir>/${RUN_FILES.attribution}/step-<N>.json;
--force measures again. Ctrl-C cancels (exit 130).`,
  run: async ({ values, io, verbosity }) => {
    const target = readStudyTarget(values);
    const { runAttribution } = await import('../../composeHoldoutStudy');
    const outcome = await runCancellable({ eventsJson: values['events-json'], verbosity, io }, ({ signal, onEvent }) => runAttribution({ target, signal, onEvent, force: values.force }));
    const out = values['events-json'] ? io.stderr : io.stdout;
    if (values.json) {
      out.write(`${JSON.stringify(outcome.result, null, 2)}\n`);
      return EXIT.ok;
    }
    const r = outcome.result;
    const rows = r.rules.map((rule) => [rule.key, rule.rule_id, ...comparisonCells(rule.comparison), String(rule.comparison.changed_tickets.length)]);
    out.write(
      [
        `Attribution of guidance step ${r.guidance_step} (${r.run_name}/${r.mission}) on ${r.holdout.tickets} holdout tickets (${r.holdout.pass} pass, ${r.holdout.fail} fail)${outcome.reused ? ', cached' : ''}`,
        `  with / without the rule; difference = with - without, 95% paired-bootstrap interval; P = P(label_match with > without)`,
        formatTable(['rule', 'rule_id', 'label_match with/without', 'difference', 'false-release with/without', 'difference', 'P', 'changed'], rows),
        `→ ${outcome.file}`,
        '',
      ].join('\n'),
    );
    return EXIT.ok;
  },
});
