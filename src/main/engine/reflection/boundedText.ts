import { z } from 'zod';

/**
 * Characters as a llama.cpp grammar counts them: Unicode code points, where a run of
 * U+FFFD counts once. A grammar's maxLength bounds code points, and a code point the
 * model emits as an invalid UTF-8 sequence (random-weight models do) decodes to several
 * replacement characters; JavaScript's .length would also count astral characters twice.
 */
export function grammarCharCount(text: string): number {
  let count = 0;
  let inReplacementRun = false;
  for (const ch of text) {
    if (ch === '\uFFFD') {
      if (!inReplacementRun) count++;
      inReplacementRun = true;
    } else {
      count++;
      inReplacementRun = false;
    }
  }
  return count;
}

/**
 * A string bounded exactly like the JSON-schema grammar bounds it (see grammarCharCount).
 * The bounds are also exposed as minLength / maxLength metadata so z.toJSONSchema shows
 * them and the schema-agreement tests can compare with the hand-written grammar schema.
 */
export function boundedText(min: number, max: number) {
  return z
    .string()
    .refine((value) => {
      const n = grammarCharCount(value);
      return n >= min && n <= max;
    }, `must be ${min} to ${max} characters`)
    .meta({ minLength: min, maxLength: max });
}
