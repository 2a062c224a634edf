import { defineCommand } from '../Command';
import { UsageError } from '../UsageError';
import { RUN_FILES } from '../../../shared/runFiles';

export const compareCommand = defineCommand({
  name: 'compare',
  summary: 'label_match and false-release of two runs, with 95% intervals',
  usage: '--runs <runDirA> <runDirB> [--json]',
  options: {
    runs: { type: 'string', value: 'runDir', multiple: true, description: 'the two run directories ({output.root}/{run_name}); `--runs A B` or `--runs A --runs B`' },
    json: { type: 'boolean', description: 'print the comparison as JSON on stdout' },
  },
  positionals: true,
  description: `Compares label_match and the false-release rate (label=fail judged pass) of two
runs, overall and per mission, using each group's selection from its last epoch.
Rates carry 95% Wilson intervals; B − A carries a 95% Newcombe interval.
A run dir is {output.root}/{run_name} (one folder per mission with ${RUN_FILES.selections}).`,
  run: async ({ values, positionals, io }) => {
    // `--runs A B` leaves B as a positional.
    const runs = [...(values.runs ?? []), ...positionals];
    if (runs.length !== 2) throw new UsageError(`--runs needs exactly two run directories, got ${runs.length}`, ['compare']);
    const { loadRunSelections } = await import('../../distill/loadRunSelections');
    const { compareRuns } = await import('../../../shared/metrics/compareRuns');
    const { formatComparison } = await import('../../distill/runCompare');
    const [a, b] = await Promise.all(runs.map((dir) => loadRunSelections(dir)));
    const comparison = compareRuns(a, b);
    io.stdout.write(`${values.json ? JSON.stringify(comparison, null, 2) : formatComparison(comparison)}\n`);
    return 0;
  },
});
