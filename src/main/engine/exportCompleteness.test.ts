import { describe, expect, it } from 'vitest';
import type { SelectionRecord } from '../../shared/schemas/records';
import type { Telemetry } from '../../shared/schemas/telemetry';
import { findExportGaps } from './exportCompleteness';

const row = (epoch: number, batch_index: number) => ({ epoch, batch_index }) as SelectionRecord;
const telemetry = (status: Telemetry['status']) => ({ status }) as Telemetry;

describe('findExportGaps', () => {
  it('finds nothing in a completed run whose batches are all whole', () => {
    const selections = [0, 0, 0, 0, 1, 1, 1, 1, 2].map((b) => row(0, b));
    expect(findExportGaps({ telemetry: telemetry('completed'), tornTails: [], selections, epoch: 0, trainTickets: 9, batchSize: 4 })).toEqual([]);
  });

  it('names a torn tail, a short batch (the last planned batch included) and an unfinished run', () => {
    const selections = [0, 0, 0, 0, 1, 1].map((b) => row(1, b)).concat([row(0, 0)]);
    const gaps = findExportGaps({ telemetry: telemetry('cancelled'), tornTails: [{ file: '/r/selections.jsonl', line: 7, bytes: 31 }], selections, epoch: 1, trainTickets: 9, batchSize: 4 });
    expect(gaps.map((g) => g.kind)).toEqual(['torn_tail', 'incomplete_batch', 'incomplete_batch', 'unfinished_run']);
    expect(gaps[0].message).toContain('/r/selections.jsonl:7');
    expect(gaps[1]).toMatchObject({ batch_index: 1, groups: 2, planned: 4 });
    expect(gaps[2]).toMatchObject({ batch_index: 2, groups: 0, planned: 1 });
  });

  it('treats a run without telemetry as unfinished', () => {
    expect(findExportGaps({ telemetry: null, tornTails: [], selections: [row(0, 0)], epoch: 0, trainTickets: 1, batchSize: 4 })).toMatchObject([{ kind: 'unfinished_run', status: 'unknown' }]);
  });
});
