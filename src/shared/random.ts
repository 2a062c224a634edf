/**
 * Seeded, platform-independent randomness. Everything that must repeat across
 * reruns (shuffles, decode seeds, holdout split, demo data, bootstrap) uses this.
 */
export function hashString(text: string): number {
  // FNV-1a, 32-bit.
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Derives a stable 31-bit seed from a base seed and any labels. */
export function deriveSeed(base: number, ...parts: (string | number)[]): number {
  return hashString(`${base}|${parts.join('|')}`) & 0x7fffffff;
}

/** mulberry32: small, fast, good enough for shuffles and sampling. */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice();
  const rng = createRng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
