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

/**
 * The seed of a new rule's id. A reflection's write is replayed on resume with a new
 * wall-clock time, so its seed is the (deterministic) reflection id alone: the resumed run
 * assigns the ids the uninterrupted one did. A person's write has no such id; its time
 * keeps two people's identical additions apart.
 */
export function ruleIdSeed(
  kind: string,
  writer: { readonly reflection_id?: string | null; readonly author?: string | null; readonly updated_at: string },
  rest: string,
): string {
  return writer.reflection_id ? `${kind}|reflection|${writer.reflection_id}|${rest}` : `${kind}|${writer.author ?? ''}|${writer.updated_at}|${rest}`;
}
