import type { SelectionRecord } from '../../shared/schemas/records';
import type { Telemetry } from '../../shared/schemas/telemetry';

/** Something an export of a run would leave out, with where it is. */
export type ExportGap =
  | { kind: 'torn_tail'; file: string; line: number; bytes: number; message: string }
  | { kind: 'incomplete_batch'; epoch: number; batch_index: number; groups: number; planned: number; message: string }
  | { kind: 'unfinished_run'; status: Telemetry['status'] | 'unknown'; message: string };

/**
 * Why an export of `epoch` would not be the run's whole result: a torn last row of a
 * log (the row is lost), a batch of that epoch with fewer groups than planned, a run that
 * did not finish. Planned batch sizes follow planEpoch: consecutive cuts of the training
 * tickets by batch_size.
 */
export function findExportGaps(input: {
  telemetry: Telemetry | null;
  tornTails: readonly { file: string; line: number; bytes: number }[];
  selections: readonly SelectionRecord[];
  epoch: number;
  trainTickets: number | null;
  batchSize: number;
}): ExportGap[] {
  const gaps: ExportGap[] = [];
  for (const torn of input.tornTails) {
    gaps.push({ kind: 'torn_tail', file: torn.file, line: torn.line, bytes: torn.bytes, message: `${torn.file}:${torn.line}: a torn last row (${torn.bytes} bytes, cut by a crash) is not exported` });
  }
  if (input.trainTickets !== null && input.batchSize > 0) {
    const counts = new Map<number, number>();
    for (const row of input.selections) if (row.epoch === input.epoch) counts.set(row.batch_index, (counts.get(row.batch_index) ?? 0) + 1);
    const batches = Math.ceil(input.trainTickets / input.batchSize);
    for (let index = 0; index < batches; index++) {
      const planned = Math.min(input.batchSize, input.trainTickets - index * input.batchSize);
      const groups = counts.get(index) ?? 0;
      if (groups < planned) {
        gaps.push({
          kind: 'incomplete_batch', epoch: input.epoch, batch_index: index, groups, planned,
          message: `epoch ${input.epoch} batch ${index}: ${groups} of ${planned} groups selected; ${planned - groups} not exported`,
        });
      }
    }
  }
  const status = input.telemetry?.status ?? 'unknown';
  if (status !== 'completed') {
    gaps.push({ kind: 'unfinished_run', status, message: `the run is ${status === 'unknown' ? 'without telemetry' : status}, not completed; later batches and epochs are not exported` });
  }
  return gaps;
}
