import { sha256Hex } from './sha256Hex';

/**
 * A rule_id derived from `seed`, different from every id in `used`. Deterministic: the
 * same seed and the same used set give the same id, so a replayed reflection or a
 * reread file assigns the ids it assigned before.
 */
export function ruleIdFrom(seed: string, used: ReadonlySet<string>): string {
  for (let attempt = 0; ; attempt++) {
    const id = `R-${sha256Hex(attempt === 0 ? seed : `${seed}#${attempt}`).slice(0, 12)}`;
    if (!used.has(id)) return id;
  }
}
