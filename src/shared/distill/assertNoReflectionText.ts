import { StageBError } from '../errors';
import type { DistillRecord, ReflectionLogRecord, SelectionRecord } from '../schemas/records';

/**
 * Texts shorter than this are ignored: a two-character summary such as "通过"
 * would otherwise "leak" into every assistant turn by coincidence.
 */
export const MIN_REFLECTION_TEXT_CHARS = 6;

/**
 * The reflection texts a distill record must never contain: per-sample summary
 * and critique, and each proposal's summary, critique, rationales and
 * uncertainty note. Operation `text` is deliberately NOT included — an applied
 * operation becomes a guidance experience, and guidance is part of the prompt.
 */
export function collectReflectionTexts(
  selections: readonly SelectionRecord[],
  reflections: readonly ReflectionLogRecord[],
): string[] {
  const texts = new Set<string>();
  const add = (value: string | null | undefined) => {
    const trimmed = value?.trim();
    if (trimmed && trimmed.length >= MIN_REFLECTION_TEXT_CHARS) texts.add(trimmed);
  };
  for (const row of selections) {
    add(row.summary);
    add(row.critique);
  }
  for (const row of reflections) {
    const proposal = row.reflection.proposal;
    add(proposal.summary);
    add(proposal.critique);
    add(proposal.uncertainty_note);
    for (const op of proposal.operations) add(op.rationale);
  }
  return [...texts];
}

/** Throws when any message of the record contains one of the reflection texts. */
export function assertNoReflectionText(record: DistillRecord, reflectionTexts: readonly string[]): void {
  for (const raw of reflectionTexts) {
    const text = raw.trim();
    if (text.length < MIN_REFLECTION_TEXT_CHARS) continue;
    record.messages.forEach((message, index) => {
      if (message.content.includes(text)) {
        throw new StageBError(
          'INTERNAL',
          `distill record for group ${record.group_id} carries reflection text in its ${message.role} turn: ${JSON.stringify(text.slice(0, 60))}`,
          { field: `messages[${index}].content` },
        );
      }
    });
  }
}
