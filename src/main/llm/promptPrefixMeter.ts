/**
 * Counts distinct prompt tokens across many prompts: a token position counts
 * once per distinct prefix ending there, so a prefix shared by N prompts counts
 * once. Each prefix is identified by a 53-bit rolling hash (two 32-bit FNV-style
 * lanes), which keeps memory at one number per distinct prefix instead of a trie
 * node per token.
 */
export class PromptPrefixMeter {
  private readonly seen = new Set<number>();
  private uniqueTokens = 0;

  /** Records a prompt; returns how many of its tokens were new. */
  add(tokens: readonly number[]): number {
    let h1 = 0x811c9dc5;
    let h2 = 0x9e3779b9;
    let fresh = 0;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i] >>> 0;
      h1 = Math.imul(h1 ^ t, 0x01000193) >>> 0;
      h2 = Math.imul(h2 ^ (t + 0x7f4a7c15 + i), 0x85ebca6b) >>> 0;
      h2 = (h2 ^ (h2 >>> 13)) >>> 0;
      const key = h1 * 0x200000 + (h2 & 0x1fffff);
      if (!this.seen.has(key)) {
        this.seen.add(key);
        fresh++;
      }
    }
    this.uniqueTokens += fresh;
    return fresh;
  }

  get unique(): number {
    return this.uniqueTokens;
  }
}
