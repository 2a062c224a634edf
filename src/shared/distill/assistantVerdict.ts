import type { GroupLabel } from '../verdict';
import type { DistillRecord } from '../schemas/records';
import { parseVerdictResponse } from '../verdictProtocol';
import { DISTILL_ASSISTANT_FORMAT } from './buildDistillRecords';

/** The verdict in a distill record's assistant turn, or null when it does not parse. */
export function assistantVerdict(record: DistillRecord): GroupLabel | null {
  const assistant = record.messages.find((m) => m.role === 'assistant');
  if (!assistant) return null;
  const parsed = parseVerdictResponse(assistant.content, DISTILL_ASSISTANT_FORMAT);
  return parsed.ok ? parsed.value.verdict : null;
}
