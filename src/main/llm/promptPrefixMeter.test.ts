import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PromptPrefixMeter } from './promptPrefixMeter';

/** Reference: distinct prefixes counted with exact string keys. */
function exactUnique(prompts: number[][]): number {
  const seen = new Set<string>();
  for (const p of prompts) for (let i = 1; i <= p.length; i++) seen.add(p.slice(0, i).join(','));
  return seen.size;
}

describe('PromptPrefixMeter', () => {
  it('counts a shared prefix once and a repeated prompt not at all', () => {
    const meter = new PromptPrefixMeter();
    expect(meter.add([1, 2, 3, 4])).toBe(4);
    expect(meter.add([1, 2, 3, 4])).toBe(0);
    expect(meter.add([1, 2, 9])).toBe(1);
    expect(meter.add([5, 2, 3])).toBe(3);
    expect(meter.unique).toBe(8);
  });

  it('matches an exact prefix count on random prompt sets', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 12 }), { maxLength: 20 }), (prompts) => {
        const meter = new PromptPrefixMeter();
        for (const p of prompts) meter.add(p);
        expect(meter.unique).toBe(exactUnique(prompts));
      }),
      { numRuns: 200 },
    );
  });
});
