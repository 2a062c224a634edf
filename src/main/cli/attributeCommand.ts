import { runAttribution } from '../composeHoldoutStudy';
import type { CliIo } from './CliIo';
import { comparisonCells, formatTable, readStudyTarget, runCancellable } from './holdoutStudyCli';

export const ATTRIBUTE_USAGE = `stageb attribute (--config <file> | --run <runDir>) [--force] [--json] [--events-json]
  For each rule of the run's current guidance: the holdout with the rule left out and kept,
  label_match and false release with and without it, the difference with a 95% paired-bootstrap
  interval and P(the rule improves label_match). Cached in <runDir>/attribution/step-<N>.json;
  --force measures again. Ctrl-C cancels (exit 130).`;

/** `stageb attribute`: parse, run, print. */
export async function runAttributeCommand(argv: string[], io: CliIo): Promise<number> {
  const target = readStudyTarget(argv, ATTRIBUTE_USAGE);
  const outcome = await runCancellable(argv, io, ({ signal, onEvent }) => runAttribution({ target, signal, onEvent, force: argv.includes('--force') }));
  const out = argv.includes('--events-json') ? io.stderr : io.stdout;
  if (argv.includes('--json')) {
    out.write(`${JSON.stringify(outcome.result, null, 2)}\n`);
    return 0;
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
  return 0;
}
