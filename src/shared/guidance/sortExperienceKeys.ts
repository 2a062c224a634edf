const KEY_PATTERN = /^([GS])(\d+)$/;

/** Rank of a key: G keys before S keys, then numeric; anything else sorts last, by text. */
function keyRank(key: string): [number, number] {
  const match = KEY_PATTERN.exec(key);
  if (!match) return [2, 0];
  return [match[1] === 'G' ? 0 : 1, Number(match[2])];
}

/**
 * Experience keys in the order prompts and files show them: G0, G1, G2, G10, then S1, S2.
 * Plain string sorting would put G10 before G2.
 */
export function sortExperienceKeys(keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => {
    const [groupA, numberA] = keyRank(a);
    const [groupB, numberB] = keyRank(b);
    if (groupA !== groupB) return groupA - groupB;
    if (numberA !== numberB) return numberA - numberB;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

/** The numeric part of a G key (G12 → 12), or null for S keys and anything else. */
export function learnedKeyIndex(key: string): number | null {
  const match = KEY_PATTERN.exec(key);
  return match && match[1] === 'G' ? Number(match[2]) : null;
}

export function isInvariantKey(key: string): boolean {
  return /^S\d+$/.test(key);
}
