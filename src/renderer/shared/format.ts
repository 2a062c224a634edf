export function pct(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`;
}

export function num(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined ? '—' : value.toFixed(digits);
}

export function time(value: string | null | undefined): string {
  if (!value) return '—';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toISOString().replace('T', ' ').slice(0, 19);
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** ticket_key is `{group_id}::{label}`; the group id is everything before the last `::`. */
export function groupIdOfTicketKey(ticketKey: string): string {
  const i = ticketKey.lastIndexOf('::');
  return i < 0 ? ticketKey : ticketKey.slice(0, i);
}

/**
 * The label a run used, and the input's when a label correction replaced it, so a corrected
 * ticket never reads as if the Stage-A file had said so: `fail (corrected from pass)`.
 */
export function labelText(label: string | null | undefined, originalLabel?: string | null): string {
  const shown = label ?? '—';
  return originalLabel && originalLabel !== label ? `${shown} (corrected from ${originalLabel})` : shown;
}
