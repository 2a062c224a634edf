import { z } from 'zod';

/**
 * ISO 8601 timestamps, as the spec requires of guidance (`updated_at: iso8601`): a calendar
 * date `YYYY-MM-DD`, optionally with a time `THH:MM[:SS[.fraction]]` and a zone `Z` or
 * `±HH[:MM]`. What the engine writes (`Date.toISOString()`) is one of them; "last tuesday",
 * a bare number or an impossible date (2025-02-30, 24:01) is not.
 */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?(Z|[+-](\d{2})(?::?(\d{2}))?)?)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function isIso8601Timestamp(value: string): boolean {
  const match = ISO_8601.exec(value);
  if (!match) return false;
  const [, y, mo, d, h, mi, s, , zh, zm] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  if (h !== undefined) {
    const hour = Number(h);
    const minute = Number(mi);
    const second = s === undefined ? 0 : Number(s);
    // 24:00 (end of day) is ISO 8601; 60 is a leap second.
    if (hour > 24 || minute > 59 || second > 60 || (hour === 24 && (minute > 0 || second > 0))) return false;
  }
  if (zh !== undefined && (Number(zh) > 23 || (zm !== undefined && Number(zm) > 59))) return false;
  return true;
}

export const Iso8601TimestampSchema = z
  .string()
  .refine(isIso8601Timestamp, { message: 'must be an ISO 8601 timestamp such as 2026-01-31T12:00:00.000Z' });
