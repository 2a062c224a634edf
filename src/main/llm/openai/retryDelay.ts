/**
 * Backoff policy for retried HTTP attempts: exponential with "equal jitter"
 * (half fixed, half random) so that many clients hitting one overloaded server
 * spread out instead of retrying in lockstep. A server's Retry-After wins.
 */
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 30_000;
/** Retry-After above this is clamped: a run should fail visibly rather than sleep for hours. */
export const RETRY_AFTER_CAP_MS = 300_000;

/** Delay before retry number `retry` (0-based), given a uniform random number in [0, 1). */
export function backoffDelayMs(retry: number, random: () => number, baseMs = BACKOFF_BASE_MS, capMs = BACKOFF_CAP_MS): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** retry);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * Parses a Retry-After header (delta-seconds or an HTTP date) into milliseconds
 * from `nowMs`. Returns null when absent or unparseable.
 */
export function parseRetryAfterMs(header: string | null | undefined, nowMs: number): number | null {
  if (header == null) return null;
  const value = header.trim();
  if (value === '') return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.min(RETRY_AFTER_CAP_MS, Math.round(Number(value) * 1000));
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.min(RETRY_AFTER_CAP_MS, Math.max(0, date - nowMs));
}

/** Status codes worth retrying: rate limits and server-side failures. Other 4xx are the caller's fault. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}
