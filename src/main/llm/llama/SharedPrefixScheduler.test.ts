import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModelForTests, ensureTinyVariantForTests } from '../../../../test/helpers/tinyModel';
import { LlamaCppModelSchema } from '../../../shared/schemas/runConfig';
import type { DecodeParams } from '../../../shared/schemas/decode';
import { verdictGrammar } from '../../../shared/verdictProtocol';
import { createLlamaCppBackend, type LlamaCppBackend, type LlamaCppBackendOptions } from '../LlamaCppBackend';
import type { Completion, GenerateRequest, PromptSegments } from '../LlmBackend';
import { commonPrefixLength } from './SharedPrefixScheduler';
import { sequenceStateCopySupported } from './sequenceStateCopy';

let modelPath: string;
const open: LlamaCppBackend[] = [];

type BackendSettings = { threads?: number; decode_threads?: number; overlap_prompts?: boolean; flash_attention?: 'auto' | 'on' | 'off' };

async function backend(sequences: number, options: LlamaCppBackendOptions, batchDecode: boolean | 'auto' = true, threads: BackendSettings = {}, path = modelPath): Promise<LlamaCppBackend> {
  // One thread by default: vitest runs two workers on two cores, and ggml threads spin at barriers.
  const config = LlamaCppModelSchema.parse({ backend: 'llama-cpp', path, gpu: false, context_size: 1024, sequences, threads: 1, batch_decode: batchDecode, ...threads });
  const created = await createLlamaCppBackend(config, options);
  open.push(created);
  return created;
}

const shared = '任务: BBU接地线检查\n经验:\nG0: BBU 必须有接地线, 标签清晰, 两端螺丝紧固。\nG1: 只看到BBU安装螺丝而没有地排处接地螺丝时判不通过。\n\n';
const group = (i: number) => `工单 QC-${i} 的图片摘要:\n图片1: 标签/5G-BBU-接地线×1，电线/捆扎整齐×${i + 1}\n图片2: 螺丝、光纤插头/地排处接地螺丝,符合要求×${i + 2}\n\n`;
const prompt = (i: number, variant: string): PromptSegments => ({ system: '你是通信基站安装质检员。', userParts: [shared, group(i), variant] });
const decode = (seed: number, overrides: Partial<DecodeParams> = {}): DecodeParams => ({
  temperature: 1,
  top_p: 0.95,
  seed,
  max_new_tokens: 40,
  prompt_variant: 'default',
  ...overrides,
});

/**
 * Long enough that a sequence's KV view spans 768 cells: llama.cpp's CPU flash attention splits a one-sequence
 * decode step across threads from 512 cells on, which is what made batched decoding differ from the naive path.
 */
const longShared = '任务: BBU接地线检查\n经验:\n' + Array.from({ length: 5 }, (_, i) => `G${i}: BBU 必须有接地线, 标签清晰, 两端螺丝紧固。\n`).join('') + '\n';

type RolloutShape = { batches: number[][]; variants: string[]; constraint: GenerateRequest['constraint'] };
/** Two batches of groups as the engine sends them: every group and variant in flight at once, K=2 per variant. */
const twoBatches: RolloutShape = {
  batches: [[0, 1, 2], [3, 4]],
  variants: ['请给出判定。', '请先逐条核对, 再给出判定。'],
  constraint: { kind: 'gbnf', grammar: verdictGrammar('three_line', 24) },
};

async function rollout(target: LlamaCppBackend, sharedPart = shared, shape: RolloutShape = twoBatches): Promise<string[]> {
  const texts: string[] = [];
  for (const batch of shape.batches) {
    const requests: GenerateRequest[] = batch.flatMap((i) =>
      shape.variants.map((variant, v) => ({
        prompt: { ...prompt(i, variant), userParts: [sharedPart, group(i), variant] },
        candidates: [decode(100 * i + 10 * v), decode(100 * i + 10 * v + 1, { temperature: 0.7 })],
        constraint: shape.constraint,
      })),
    );
    const results: Completion[][] = await Promise.all(requests.map((request) => target.generate(request)));
    texts.push(...results.flat().map((c) => c.text));
  }
  return texts;
}

beforeAll(async () => {
  modelPath = await ensureTinyModelForTests();
});

afterAll(async () => {
  for (const b of open) await b.close();
});

describe('shared-prefix rollout on the tiny model', () => {
  it('the pinned node-llama-cpp still exposes the sequence state copy (fails if its internals change)', async () => {
    const b = await backend(2, {});
    expect(b.copiesSequenceState, 'node-llama-cpp no longer has LlamaContextSequence._copyStateFromOtherSequence; see src/main/llm/llama/sequenceStateCopy.ts').toBe(true);
    const publicOnly = await backend(2, { copyState: false });
    expect(publicOnly.copiesSequenceState).toBe(false);
  });

  it('prefix sharing is exact: one-at-a-time decoding over copied and held prefixes gives the naive path\'s text, whatever the sequence count', async () => {
    const naive = await rollout(await backend(1, { rollout: 'naive' }));
    expect(naive).toHaveLength(20);
    expect(new Set(naive).size).toBeGreaterThan(1); // the seeds really sample different texts
    for (const sequences of [2, 6]) {
      expect(await rollout(await backend(sequences, { rollout: 'shared' }, false))).toEqual(naive);
      expect(await rollout(await backend(sequences, { rollout: 'shared', copyState: false }, false))).toEqual(naive);
    }
  });

  it('with prompt evaluation and decoding on different thread counts, shared one-at-a-time decoding still equals the naive path', async () => {
    const phases = { threads: 2, decode_threads: 1 };
    const naive = await rollout(await backend(1, { rollout: 'naive' }, false, phases));
    expect(await rollout(await backend(4, { rollout: 'shared' }, false, phases))).toEqual(naive);
  });

  it('batched decoding (all candidates in one step) gives the naive path\'s text', async () => {
    const naive = await rollout(await backend(1, { rollout: 'naive' }));
    const batched = await backend(6, { rollout: 'shared' });
    expect(batched.flashAttention).toBe(false);
    expect(await rollout(batched)).toEqual(naive);
  });

  it('decoding on 2 threads over 768 KV cells, batched decoding equals the naive path with flash_attention auto (off on the CPU) and differs with it on', { timeout: 600_000 }, async () => {
    // Small on purpose (4 candidates in one step): 2 decode threads beside the other vitest worker on 2 cores
    // spin at ggml's barriers, which made the full two-batch rollout run past 120 s in CI. Unconstrained
    // sampling keeps it sensitive: the verdict grammar leaves most steps one legal token, so a flipped
    // last bit rarely changes the text (measured with flash attention on: 0-1 of 4 differ, against 3 of 4).
    const twoThreadDecode = { threads: 1, decode_threads: 2 };
    const rolloutLong = (target: LlamaCppBackend) => rollout(target, longShared, { batches: [[0, 1]], variants: ['请给出判定。'], constraint: { kind: 'none' } });
    const naive = await rolloutLong(await backend(1, { rollout: 'naive' }, true, twoThreadDecode));
    expect(naive).toHaveLength(4);
    expect(await rolloutLong(await backend(4, { rollout: 'shared' }, true, twoThreadDecode))).toEqual(naive);
    // The same comparison with llama.cpp's flash attention: a one-sequence step sums the KV cache in per-thread
    // chunks, a batched step in one pass, and sampled tokens flip. Shows the prompts above reach that kernel path.
    const flash = { ...twoThreadDecode, flash_attention: 'on' as const };
    const naiveFlash = await rolloutLong(await backend(1, { rollout: 'naive' }, true, flash));
    const batchedFlash = await backend(4, { rollout: 'shared' }, true, flash);
    expect(batchedFlash.flashAttention).toBe(true);
    expect(await rolloutLong(batchedFlash)).not.toEqual(naiveFlash);
  });

  it('overlapped prompt evaluation (a second context, states moved by file) is exact: one-at-a-time decoding gives the naive path\'s text', async () => {
    const overlap = { threads: 1, decode_threads: 1, overlap_prompts: true };
    const naive = await rollout(await backend(1, { rollout: 'naive' }));
    const b = await backend(4, { rollout: 'shared' }, false, overlap);
    expect(b.promptStateDirectory).not.toBeNull();
    expect(await rollout(b)).toEqual(naive);
    expect(await rollout(await backend(6, { rollout: 'shared' }, true, overlap))).toEqual(naive);
  });

  it('overlapped prompt evaluation meters like the single context, leaves no state file behind and removes its directory on close', async () => {
    const b = await backend(8, { rollout: 'shared' }, true, { threads: 1, decode_threads: 1, overlap_prompts: true });
    const directory = b.promptStateDirectory!;
    const prompts = [1, 2, 3].map((i) => prompt(i, '请给出判定。'));
    const tokens = prompts.map((p) => b.renderPromptTokens(p));
    const sharedEnd = (t: readonly number[]) => commonPrefixLength(b.renderPromptTokens({ system: prompts[0].system, userParts: [shared] }), t as never);
    await Promise.all(prompts.map((p, i) => b.generate({ prompt: p, candidates: [decode(10 * i), decode(10 * i + 1)], constraint: { kind: 'none' } })));
    const expectedEvaluated = tokens[0].length - 1 + (tokens[1].length - 1 - sharedEnd(tokens[1])) + (tokens[2].length - 1 - sharedEnd(tokens[2])) + 6;
    expect(b.tokenMeter().promptEvaluated).toBe(expectedEvaluated);
    // A prompt some decoding sequence already holds is copied there, not staged again.
    await b.generate({ prompt: prompts[0], candidates: [decode(50)], constraint: { kind: 'none' } });
    expect(b.tokenMeter().promptEvaluated).toBe(expectedEvaluated + 1);
    expect(await readdir(directory)).toEqual([]);
    await b.close();
    await expect(readdir(directory)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('overlapped: a request cancelled while it waits (for sequences, or behind other prompts being staged) ends CANCELLED and the others finish', async () => {
    for (const sequences of [2, 8]) await cancelOneOfFour(sequences);
  });

  async function cancelOneOfFour(sequences: number): Promise<void> {
    const b = await backend(sequences, { rollout: 'shared' }, true, { threads: 1, decode_threads: 1, overlap_prompts: true });
    const controller = new AbortController();
    const requests = [1, 2, 3].map((i) => b.generate({ prompt: prompt(i, '请给出判定。'), candidates: [decode(60 + i)], constraint: { kind: 'none' } }));
    const cancelled = b.generate({ prompt: prompt(4, '请给出判定。'), candidates: [decode(64)], constraint: { kind: 'none' } }, controller.signal);
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ code: 'CANCELLED' });
    const done = await Promise.all(requests);
    expect(done.map((r) => r.length)).toEqual([1, 1, 1]);
    expect(await readdir(b.promptStateDirectory!)).toEqual([]);
  }

  it('meters evaluated, unique, total and generated tokens exactly on a hand-computable case', async () => {
    const b = await backend(4, { rollout: 'shared' });
    const first = prompt(1, '请给出判定。');
    const second = prompt(2, '请给出判定。');
    const t1 = b.renderPromptTokens(first);
    const t2 = b.renderPromptTokens(second);
    const common = commonPrefixLength(t1, t2);
    // Held prefixes are reused up to the last part boundary they cover (here: the end of the shared block).
    const sharedEnd = commonPrefixLength(b.renderPromptTokens({ system: first.system, userParts: [shared] }), t2);
    expect(sharedEnd).toBeLessThanOrEqual(common);
    expect(common - sharedEnd).toBeLessThan(16);

    const a = await b.generate({ prompt: first, candidates: [decode(1), decode(2), decode(3)], constraint: { kind: 'none' } });
    // One sequence evaluates the prompt minus its last token; each candidate then evaluates the last token alone.
    expect(b.tokenMeter()).toEqual({
      promptEvaluated: t1.length - 1 + 3,
      promptUnique: t1.length,
      promptTotal: 3 * t1.length,
      generated: a.reduce((sum, c) => sum + c.generatedTokens, 0),
    });
    const c = await b.generate({ prompt: second, candidates: [decode(4), decode(5)], constraint: { kind: 'none' } });
    // The shared prefix is held already: only the second group's part is evaluated, once for both candidates.
    expect(b.tokenMeter()).toEqual({
      promptEvaluated: t1.length - 1 + 3 + (t2.length - 1 - sharedEnd) + 2,
      promptUnique: t1.length + (t2.length - common),
      promptTotal: 3 * t1.length + 2 * t2.length,
      generated: [...a, ...c].reduce((sum, x) => sum + x.generatedTokens, 0),
    });
    for (const completion of [...a, ...c]) expect(completion.generatedTokens).toBeGreaterThan(0);
  });

  it('meters concurrent requests exactly (no update lost while requests overlap)', async () => {
    const b = await backend(8, { rollout: 'shared' });
    const prompts = [1, 2, 3].map((i) => prompt(i, '请给出判定。'));
    const tokens = prompts.map((p) => b.renderPromptTokens(p));
    const sharedEnd = (t: readonly number[]) => commonPrefixLength(b.renderPromptTokens({ system: prompts[0].system, userParts: [shared] }), t as never);
    // All in flight at once, as the engine sends a batch; preparation is serialized in arrival order.
    const results = await Promise.all(prompts.map((p, i) => b.generate({ prompt: p, candidates: [decode(10 * i), decode(10 * i + 1)], constraint: { kind: 'none' } })));
    const expectedEvaluated = tokens[0].length - 1 + (tokens[1].length - 1 - sharedEnd(tokens[1])) + (tokens[2].length - 1 - sharedEnd(tokens[2])) + 6;
    const meter = b.tokenMeter();
    expect(meter.promptEvaluated).toBe(expectedEvaluated);
    expect(meter.promptEvaluated).toBeGreaterThanOrEqual(meter.promptUnique - 3 * 16);
    expect(meter.promptTotal).toBe(2 * (tokens[0].length + tokens[1].length + tokens[2].length));
    expect(meter.generated).toBe(results.flat().reduce((sum, c) => sum + c.generatedTokens, 0));
  });

  it('the naive path evaluates the whole prompt for every candidate', async () => {
    const b = await backend(1, { rollout: 'naive' });
    const p = prompt(3, '请给出判定。');
    const n = b.renderPromptTokens(p).length;
    const completions = await b.generate({ prompt: p, candidates: [decode(7), decode(8)], constraint: { kind: 'none' } });
    await b.generate({ prompt: p, candidates: [decode(9)], constraint: { kind: 'none' } });
    const meter = b.tokenMeter();
    expect(meter.promptEvaluated).toBe(3 * n);
    expect(meter.promptUnique).toBe(n);
    expect(meter.promptTotal).toBe(3 * n);
    expect(completions.map((x) => x.promptTokens)).toEqual([n, n]);
  });
});

describe('model.batch_decode auto: batched only where the load-time check finds it exact', () => {
  it('F32 weights: the check sees batched steps change the logits, so candidates decode one at a time and give the naive path\'s text', async () => {
    const f32 = await ensureTinyVariantForTests('F32');
    const naive = await rollout(await backend(1, { rollout: 'naive' }, 'auto', {}, f32));
    const auto = await backend(4, { rollout: 'shared' }, 'auto', {}, f32);
    expect(auto.decodeBatching).toMatchObject({ batched: false, exact: true });
    expect(auto.decodeBatching.reason).toContain("a sequence's logits changed when it shared a decode step");
    expect(auto.info.decodeBatching).toEqual(auto.decodeBatching);
    expect(await rollout(auto)).toEqual(naive);
    const forced = await backend(4, { rollout: 'shared' }, true, {}, f32);
    expect(forced.decodeBatching).toMatchObject({ batched: true, exact: false });
  });

  it('the Q8_0 fixture: the check finds batched steps exact, so candidates decode together and give the naive path\'s text', async () => {
    const naive = await rollout(await backend(1, { rollout: 'naive' }, 'auto'));
    const auto = await backend(6, { rollout: 'shared' }, 'auto');
    expect(auto.decodeBatching).toMatchObject({ batched: true, exact: true });
    expect(await rollout(auto)).toEqual(naive);
  });

  it('false and flash attention on the CPU decide without a check', async () => {
    expect((await backend(4, { rollout: 'shared' }, false)).decodeBatching).toMatchObject({ batched: false, exact: true });
    expect((await backend(4, { rollout: 'shared' }, 'auto', { flash_attention: 'on' })).decodeBatching).toMatchObject({ batched: false, exact: true });
    expect((await backend(4, { rollout: 'shared' }, true, { flash_attention: 'on' })).decodeBatching).toMatchObject({ batched: true, exact: false });
  });
});
