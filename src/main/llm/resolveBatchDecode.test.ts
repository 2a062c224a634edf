import { describe, expect, it } from 'vitest';
import type { BatchedDecodeCheck } from './llama/checkBatchedDecode';
import { batchDecodeNeedsCheck, resolveBatchDecode, type BatchDecodeSetting, type DecodeSite } from './resolveBatchDecode';

const cpu: DecodeSite = { sequences: 8, onGpu: false, flashAttention: false };
const cpuFlash: DecodeSite = { ...cpu, flashAttention: true };
const gpu: DecodeSite = { sequences: 8, onGpu: true, flashAttention: 'auto' };
const single: DecodeSite = { ...cpu, sequences: 1 };

const exact: BatchedDecodeCheck = { exact: true, stepSizes: [2, 4, 8], steps: 4, differingSteps: 0, maxDifference: 0, durationMs: 5 };
const differs: BatchedDecodeCheck = { exact: false, stepSizes: [2, 4, 8], steps: 4, differingSteps: 12, maxDifference: 3e-6, durationMs: 5 };

describe('batchDecodeNeedsCheck', () => {
  it.each([
    ['auto on the CPU', 'auto', cpu, true],
    ['true on the CPU (the run records whether it is exact)', true, cpu, true],
    ['false never batches', false, cpu, false],
    ['one sequence has nothing to batch', 'auto', single, false],
    ['CPU flash attention is known to differ over long caches, beyond the probe', 'auto', cpuFlash, false],
    ['auto on a GPU', 'auto', gpu, true],
    ['GPU with flash attention on', 'auto', { ...gpu, flashAttention: true }, true],
  ] as Array<[string, BatchDecodeSetting, DecodeSite, boolean]>)('%s', (_name, setting, site, expected) => {
    expect(batchDecodeNeedsCheck(setting, site)).toBe(expected);
  });
});

describe('resolveBatchDecode', () => {
  it.each([
    ['auto, check exact: batched and exact', 'auto', cpu, exact, { batched: true, exact: true }],
    ['auto on the CPU, check differs: one at a time, exact', 'auto', cpu, differs, { batched: false, exact: true }],
    ['auto on a GPU, check differs: batched for throughput, not exact', 'auto', gpu, differs, { batched: true, exact: false }],
    ['auto on a GPU, check exact', 'auto', gpu, exact, { batched: true, exact: true }],
    ['true, check differs: batched anyway, not exact', true, cpu, differs, { batched: true, exact: false }],
    ['true, check exact', true, cpu, exact, { batched: true, exact: true }],
    ['true, not checked: exactness unknown', true, cpu, null, { batched: true, exact: null }],
    ['false: one at a time, exact', false, cpu, null, { batched: false, exact: true }],
    ['false ignores a check', false, gpu, differs, { batched: false, exact: true }],
    ['auto with CPU flash attention: one at a time', 'auto', cpuFlash, null, { batched: false, exact: true }],
    ['true with CPU flash attention: batched, not exact', true, cpuFlash, null, { batched: true, exact: false }],
    ['one sequence: nothing to batch', 'auto', single, null, { batched: false, exact: true }],
  ] as Array<[string, BatchDecodeSetting, DecodeSite, BatchedDecodeCheck | null, { batched: boolean; exact: boolean | null }]>)('%s', (_name, setting, site, check, expected) => {
    const resolved = resolveBatchDecode(setting, site, check);
    expect({ batched: resolved.batched, exact: resolved.exact }).toEqual(expected);
    expect(resolved.reason.length).toBeGreaterThan(20);
  });

  it('says what the check measured when it decides', () => {
    expect(resolveBatchDecode('auto', cpu, differs).reason).toContain('12 of 12 probe steps');
    expect(resolveBatchDecode('auto', cpu, differs).reason).toContain('3.0e-6');
    expect(resolveBatchDecode('auto', cpu, exact).reason).toContain('1, 3, 7 others');
    expect(resolveBatchDecode('auto', gpu, differs).reason).toContain('model.batch_decode: false');
  });
});
