import { z } from 'zod';

/** The canonical verdict / label. Chinese and English spellings normalise to these. */
export const GroupLabelSchema = z.enum(['pass', 'fail']);
export type GroupLabel = z.infer<typeof GroupLabelSchema>;

const VERDICT_ALIASES: Record<string, GroupLabel> = {
  pass: 'pass',
  passed: 'pass',
  通过: 'pass',
  fail: 'fail',
  failed: 'fail',
  不通过: 'fail',
};

/**
 * The one shared normaliser for verdict and label tokens (pass / fail / 通过 / 不通过).
 * Returns null for anything else so callers decide whether that is a warning or an error.
 */
export function normalizeVerdict(raw: unknown): GroupLabel | null {
  if (typeof raw !== 'string') return null;
  const key = raw.trim().replace(/[。.!！]+$/u, '').toLowerCase();
  return VERDICT_ALIASES[key] ?? null;
}

/** A label as it may appear in a Stage-A file; parsed into the canonical label. */
export const RawLabelSchema = z
  .string()
  .transform((value, ctx) => {
    const label = normalizeVerdict(value);
    if (!label) {
      ctx.addIssue({ code: 'custom', message: `label must be pass, fail, 通过 or 不通过, got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return label;
  });

export function ticketKey(groupId: string, label: GroupLabel | null | undefined): string {
  return `${groupId}::${label ?? 'unlabeled'}`;
}
