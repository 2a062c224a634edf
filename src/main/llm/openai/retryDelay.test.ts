import { describe, expect, it } from 'vitest';
import { BACKOFF_CAP_MS, RETRY_AFTER_CAP_MS, backoffDelayMs, isRetryableStatus, parseRetryAfterMs } from './retryDelay';

describe('backoffDelayMs', () => {
  it('doubles the ceiling per retry and jitters within its upper half', () => {
    expect([0, 1, 2, 3].map((r) => backoffDelayMs(r, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect([0, 1, 2, 3].map((r) => backoffDelayMs(r, () => 0.999999))).toEqual([500, 1000, 2000, 4000]);
  });
  it('is capped', () => {
    expect(backoffDelayMs(40, () => 0.999999)).toBe(BACKOFF_CAP_MS);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfterMs('3', now)).toBe(3000);
    expect(parseRetryAfterMs('0.5', now)).toBe(500);
    expect(parseRetryAfterMs(new Date(now + 7000).toUTCString(), now)).toBe(7000);
  });
  it('treats past dates as zero, caps huge values, and ignores garbage', () => {
    expect(parseRetryAfterMs(new Date(now - 7000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfterMs('999999', now)).toBe(RETRY_AFTER_CAP_MS);
    expect(parseRetryAfterMs('soon', now)).toBeNull();
    expect(parseRetryAfterMs(null, now)).toBeNull();
    expect(parseRetryAfterMs('', now)).toBeNull();
  });
});

describe('isRetryableStatus', () => {
  it('retries 429 and 5xx only', () => {
    expect([429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 413, 422].some(isRetryableStatus)).toBe(false);
  });
});
