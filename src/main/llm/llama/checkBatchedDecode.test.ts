import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Llama, LlamaContext, LlamaModel } from 'node-llama-cpp';
import { ensureTinyModelForTests, ensureTinyVariantForTests } from '../../../../test/helpers/tinyModel';
import { getLlamaRuntime } from '../llamaRuntime';
import { checkBatchedDecode } from './checkBatchedDecode';

let llama: Llama;
const loaded: LlamaModel[] = [];
const contexts: LlamaContext[] = [];

async function contextOf(path: string, sequences: number): Promise<{ model: LlamaModel; context: LlamaContext }> {
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  loaded.push(model);
  // One thread: vitest runs two workers on two cores. Flash attention off, as model.flash_attention auto on the CPU.
  const context = await model.createContext({ contextSize: 512, sequences, threads: 1, flashAttention: false });
  contexts.push(context);
  return { model, context };
}

beforeAll(async () => {
  llama = await getLlamaRuntime(false, 1);
});

afterAll(async () => {
  for (const context of contexts) await context.dispose();
  for (const model of loaded) await model.dispose();
});

describe('checkBatchedDecode (real node-llama-cpp, tiny models)', () => {
  it('sees F32 weights change every shared step: llama.cpp runs one token row through vec_dot and several through sgemm', async () => {
    const { model, context } = await contextOf(await ensureTinyVariantForTests('F32'), 4);
    const check = await checkBatchedDecode(context, (text) => model.tokenize(text, false));
    expect(check.exact).toBe(false);
    expect(check.stepSizes).toEqual([2, 4]);
    expect(check.differingSteps).toBe(check.steps * check.stepSizes.length);
    expect(check.maxDifference).toBeGreaterThan(0);
    expect(check.maxDifference).toBeLessThan(1e-2);
  });

  it('finds the Q8_0 tiny model (the test and demo fixture) exact at every step size, and gives every sequence back empty', async () => {
    const { model, context } = await contextOf(await ensureTinyModelForTests(), 6);
    // Test-only look at node-llama-cpp's native batch calls: the companions really share the probe's llama_decode.
    const internals = context as unknown as { _ctx: object };
    const native = internals._ctx;
    const rows: number[] = [];
    let pending = 0;
    internals._ctx = new Proxy(native, {
      get(target, property) {
        const value = Reflect.get(target, property) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (property === 'addToBatch') pending++;
          if (property === 'decodeBatch') {
            rows.push(pending);
            pending = 0;
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const check = await checkBatchedDecode(context, (text) => model.tokenize(text, false));
    internals._ctx = native;
    // Per step size: 4 decode steps carrying that many sequences (prompt evaluations carry one each).
    for (const size of [2, 4, 6]) expect(rows.filter((n) => n === size)).toHaveLength(4);
    expect(check).toMatchObject({ exact: true, stepSizes: [2, 4, 6], differingSteps: 0, maxDifference: 0 });
    const sequences = Array.from({ length: context.totalSequences }, () => context.getSequence());
    expect(sequences.map((s) => s.contextTokens.length)).toEqual([0, 0, 0, 0, 0, 0]);
    for (const sequence of sequences) sequence.dispose();
  });

  it('compares nothing on a single sequence', async () => {
    const { model, context } = await contextOf(await ensureTinyModelForTests(), 1);
    const check = await checkBatchedDecode(context, (text) => model.tokenize(text, false));
    expect(check).toMatchObject({ exact: true, stepSizes: [], differingSteps: 0 });
  });
});
