import { ByteWriter, parquetWrite } from 'hyparquet-writer';
import type { ExportRow } from '../../shared/schemas/records';
import { EXPORT_COLUMNS } from '../../shared/schemas/records';
import { writeFileAtomic } from './jsonl';

type ParquetBasicType = 'STRING' | 'INT32' | 'DOUBLE' | 'BOOLEAN';

/** Fixed column types, so the Parquet schema never depends on which values a run happened to produce. */
export const EXPORT_PARQUET_TYPES: Record<keyof ExportRow, ParquetBasicType> = {
  run_name: 'STRING',
  mission: 'STRING',
  group_id: 'STRING',
  ticket_key: 'STRING',
  epoch: 'INT32',
  label: 'STRING',
  original_label: 'STRING',
  verdict: 'STRING',
  reason: 'STRING',
  confidence: 'DOUBLE',
  response_text: 'STRING',
  label_match: 'BOOLEAN',
  self_consistency: 'DOUBLE',
  candidate_agreement: 'BOOLEAN',
  label_trust: 'DOUBLE',
  guidance_step: 'INT32',
  reflection_id: 'STRING',
  summary: 'STRING',
  critique: 'STRING',
  ineligible_reason: 'STRING',
  warnings: 'STRING',
};

export function encodeVerdictsParquet(rows: ExportRow[]): ArrayBuffer {
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    columnData: EXPORT_COLUMNS.map((name) => ({
      name,
      type: EXPORT_PARQUET_TYPES[name],
      nullable: true,
      data: rows.map((row) => row[name] ?? null),
    })),
    kvMetadata: [{ key: 'stage_b.schema', value: 'verdicts/v1' }],
    createdBy: 'stage-b-workbench',
  });
  return writer.getBuffer();
}

export async function writeVerdictsParquet(path: string, rows: ExportRow[]): Promise<void> {
  await writeFileAtomic(path, Buffer.from(encodeVerdictsParquet(rows)));
}
