import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planChatRequests } from './planChatRequests';
import type { DecodeParams } from '../../../shared/schemas/decode';

const c = (seed: number, temperature = 0.7, top_p = 0.9, max_new_tokens = 64): DecodeParams => ({ seed, temperature, top_p, max_new_tokens, prompt_variant: 'default' });

describe('planChatRequests', () => {
  it('per_candidate: distinct seeds never share a request, and each request carries its candidate seed', () => {
    const plan = planChatRequests([c(1), c(2), c(3)], { seedMode: 'per_candidate', maxChoicesPerRequest: 8 });
    expect(plan.map((p) => [p.candidateIndices, p.n, p.seed])).toEqual([
      [[0], 1, 1],
      [[1], 1, 2],
      [[2], 1, 3],
    ]);
  });

  it('grouped: shared params form one request seeded by its first candidate; other params split', () => {
    const plan = planChatRequests([c(1), c(2, 1.0), c(3), c(4, 0.7, 0.9, 128)], { seedMode: 'grouped', maxChoicesPerRequest: 8 });
    expect(plan.map((p) => [p.candidateIndices, p.n, p.seed, p.temperature, p.max_tokens])).toEqual([
      [[0, 2], 2, 1, 0.7, 64],
      [[1], 1, 2, 1.0, 64],
      [[3], 1, 4, 0.7, 128],
    ]);
  });

  it('splits groups larger than maxChoicesPerRequest', () => {
    const plan = planChatRequests([c(1), c(2), c(3)], { seedMode: 'grouped', maxChoicesPerRequest: 2 });
    expect(plan.map((p) => p.candidateIndices)).toEqual([[0, 1], [2]]);
  });

  it('covers every candidate exactly once with matching params (property)', () => {
    const candidate = fc.record({
      seed: fc.integer({ min: 0, max: 5 }),
      temperature: fc.constantFrom(0.2, 0.7, 1.0),
      top_p: fc.constantFrom(0.9, 1),
      max_new_tokens: fc.constantFrom(64, 256),
      prompt_variant: fc.constant('default' as const),
    });
    fc.assert(
      fc.property(fc.array(candidate, { maxLength: 12 }), fc.constantFrom('per_candidate' as const, 'grouped' as const), fc.integer({ min: 1, max: 4 }), (cands, seedMode, maxN) => {
        const plan = planChatRequests(cands, { seedMode, maxChoicesPerRequest: maxN });
        const covered = plan.flatMap((p) => p.candidateIndices).sort((a, b) => a - b);
        expect(covered).toEqual(cands.map((_, i) => i));
        for (const p of plan) {
          expect(p.n).toBe(p.candidateIndices.length);
          expect(p.n).toBeLessThanOrEqual(maxN);
          for (const i of p.candidateIndices) {
            expect([cands[i].temperature, cands[i].top_p, cands[i].max_new_tokens]).toEqual([p.temperature, p.top_p, p.max_tokens]);
            if (seedMode === 'per_candidate') expect(cands[i].seed).toBe(p.seed);
          }
        }
      }),
    );
  });
});
