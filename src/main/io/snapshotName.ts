/**
 * Snapshot file names: `guidance-YYYYMMDD-HHMMSS-ffffff.json`, UTC with microseconds,
 * so that names sort in time order and two snapshots never share a name.
 */
export const SNAPSHOT_NAME_PATTERN = /^guidance-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-(\d{6})\.json$/;

export function isSnapshotName(name: string): boolean {
  return SNAPSHOT_NAME_PATTERN.test(name);
}

/** Microseconds since the epoch for a wall-clock time with sub-millisecond precision. */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

export function snapshotNameFromMicros(micros: number): string {
  const millis = Math.floor(micros / 1000);
  const date = new Date(millis);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  const day = `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}`;
  const time = `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
  const fraction = pad((millis % 1000) * 1000 + (micros % 1000), 6);
  return `guidance-${day}-${time}-${fraction}.json`;
}

export function microsFromSnapshotName(name: string): number | null {
  const match = SNAPSHOT_NAME_PATTERN.exec(name);
  if (!match) return null;
  const [, y, mo, d, h, mi, s, f] = match;
  const millis = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return millis * 1000 + Number(f);
}
