import { describe, expect, it } from 'vitest';
import { isIso8601Timestamp } from './timestamp';

describe('isIso8601Timestamp', () => {
  it.each([
    '2026-01-31T12:00:00.000Z',
    '2026-01-31T12:00:00Z',
    '2026-01-31T12:00Z',
    '2026-01-31T12:00:00+08:00',
    '2026-01-31T12:00:00-0530',
    '2026-01-31T12:00:00,5+01',
    '2024-02-29',
    '2026-01-31T24:00:00Z',
    '2026-01-31T12:00:00.123456789Z',
  ])('accepts %s', (value) => expect(isIso8601Timestamp(value)).toBe(true));

  it.each([
    'last tuesday',
    '',
    '1735689600',
    '2026-02-29T00:00:00Z',
    '2026-13-01',
    '2026-00-10',
    '2026-01-32',
    '2026-01-31T25:00:00Z',
    '2026-01-31T24:01:00Z',
    '2026-01-31T12:60:00Z',
    '2026-01-31 12:00:00',
    '2026-01-31T12:00:00+24:00',
    ' 2026-01-31T12:00:00Z',
    '26-01-31',
  ])('refuses %j', (value) => expect(isIso8601Timestamp(value)).toBe(false));
});
