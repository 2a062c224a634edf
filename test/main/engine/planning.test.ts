import { describe, expect, it } from 'vitest';
import type { Ticket } from '../../../src/shared/schemas/stageARecord';
import { planEpoch, splitHoldout } from '../../../src/main/engine/epochPlan';
import { candidateDecodeParams } from '../../../src/main/engine/decodeGrid';
import { RunConfigSchema } from '../../../src/shared/schemas/runConfig';

function tickets(n: number, failShare = 0.6): Ticket[] {
  return Array.from({ length: n }, (_, i) => {
    const label = i < n * failShare ? 'fail' : 'pass';
    return { ticket_key: `G${i}::${label}`, group_id: `G${i}`, mission: 'm', label, images: [], summaries: [{ image: 'image_1', text: 'x' }], source: { file: 'f', line: i + 1 } } as Ticket;
  });
}

describe('splitHoldout', () => {
  it('is seeded, stratified, capped and disjoint', () => {
    const all = tickets(100);
    const a = splitHoldout(all, { fraction: 0.2, max: 64, seed: 7 });
    const b = splitHoldout(all, { fraction: 0.2, max: 64, seed: 7 });
    expect(a).toEqual(b);
    expect(a.holdout).toHaveLength(20);
    expect(a.holdout.filter((t) => t.label === 'fail')).toHaveLength(12);
    const train = new Set(a.train.map((t) => t.ticket_key));
    expect(a.holdout.some((t) => train.has(t.ticket_key))).toBe(false);
    expect(a.train.length + a.holdout.length).toBe(100);
    expect(splitHoldout(all, { fraction: 0.5, max: 10, seed: 7 }).holdout).toHaveLength(10);
    expect(splitHoldout(all, { fraction: 0.2, max: 64, seed: 8 }).holdout).not.toEqual(a.holdout);
  });

  it('never holds out unlabelled tickets', () => {
    const all = tickets(10).map((t) => ({ ...t, label: null }));
    expect(splitHoldout(all, { fraction: 0.5, max: 10, seed: 1 }).holdout).toHaveLength(0);
  });
});

describe('planEpoch', () => {
  it('shuffles per epoch with the seed and cuts batches', () => {
    const all = tickets(20);
    const e0 = planEpoch(all, { epoch: 0, seed: 3, shuffle: true, batchSize: 8 });
    expect(e0.map((b) => b.length)).toEqual([8, 8, 4]);
    expect(planEpoch(all, { epoch: 0, seed: 3, shuffle: true, batchSize: 8 })).toEqual(e0);
    expect(planEpoch(all, { epoch: 1, seed: 3, shuffle: true, batchSize: 8 }).flat().map((t) => t.group_id)).not.toEqual(e0.flat().map((t) => t.group_id));
    expect(planEpoch(all, { epoch: 0, seed: 3, shuffle: false, batchSize: 8 }).flat()).toEqual(all);
  });
});

describe('candidateDecodeParams', () => {
  const sampler = RunConfigSchema.shape.sampler.parse({ candidates: 4, grid: [{ temperature: 0.5, top_p: 0.9, prompt_variant: 'default' }, { temperature: 1, top_p: 0.95, prompt_variant: 'checklist' }] });
  it('cycles the grid and derives stable, distinct seeds', () => {
    const params = candidateDecodeParams(sampler, 17, 0, 'G1');
    expect(params.map((p) => p.prompt_variant)).toEqual(['default', 'checklist', 'default', 'checklist']);
    expect(new Set(params.map((p) => p.seed)).size).toBe(4);
    expect(candidateDecodeParams(sampler, 17, 0, 'G1')).toEqual(params);
    expect(candidateDecodeParams(sampler, 17, 1, 'G1')[0].seed).not.toBe(params[0].seed);
    expect(candidateDecodeParams(sampler, 17, 5, 'G1', 'holdout')).toEqual(candidateDecodeParams(sampler, 17, 0, 'G1', 'holdout'));
  });
});
