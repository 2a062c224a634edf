import type { LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { commonPrefixLength } from '../../src/main/llm/llama/SharedPrefixScheduler';
import { setContextThreads } from '../../src/main/llm/llama/contextThreads';
import { copySequencePrefix } from '../../src/main/llm/llama/sequenceStateCopy';
import type { FlashAttentionChoice } from '../../src/main/llm/resolveFlashAttention';

export type ThroughputSample = { threads: number; promptTokensPerSecond: number; batchedDecodeTokensPerSecond: number; singleDecodeTokensPerSecond: number };

/**
 * Feeds `sequence` (holding `prompt` minus its last token) the last token and samples `tokens` tokens, unconstrained;
 * an end-of-generation token does not stop it. Returns the tokens produced.
 */
async function decodeExactly(sequence: LlamaContextSequence, prompt: readonly Token[], seed: number, tokens: number): Promise<number> {
  let count = 0;
  for await (const token of sequence.evaluate([prompt[prompt.length - 1]], { temperature: 1, seed, yieldEogToken: true })) {
    void token;
    if (++count >= tokens) break;
  }
  return count;
}

/**
 * The rates the floor and the bench's settings are built from, on the model
 * being benched, for each thread count (best of `repeats` runs each):
 * - prompt processing: one sequence evaluating `prompt` (a typical full prompt) from scratch;
 * - batched decode: one sequence per entry of `decodePrompts` (the workload's
 *   own prompts for one batch), all generating exactly `decodeTokens` tokens at
 *   once, unconstrained, through node-llama-cpp's bare sequence.evaluate (no
 *   completion bookkeeping). The real prompts matter: llama.cpp's batched attention runs
 *   every sequence over the longest one's cache, so a batch of equal prompts
 *   decodes about 18% faster than the workload's mix of lengths (measured on
 *   bench-27m, 1 thread);
 * - single-sequence decode: four of those sequences, spread over the batch, each
 *   decoding `decodeTokens` tokens alone in turn (what decoding one candidate at
 *   a time achieves).
 * One context serves every thread count and every measurement (switched between
 * them), so the decode prompts are evaluated once, when the meter opens, and the
 * rates can be measured again and again between the workload's batches.
 */
export class ThroughputMeter {
  private constructor(
    private readonly context: LlamaContext,
    private readonly sequences: LlamaContextSequence[],
    private readonly scratch: LlamaContextSequence,
    private readonly decodePrompts: Token[][],
    private readonly held: Token[][],
  ) {}

  static async open(
    model: LlamaModel,
    options: { decodePrompts: Token[][]; contextSize: number; batchSize: number; flashAttention: FlashAttentionChoice; maxThreads: number },
  ): Promise<ThroughputMeter> {
    const parallel = options.decodePrompts.length;
    const context = await model.createContext({
      contextSize: options.contextSize,
      sequences: parallel + 1,
      threads: options.maxThreads,
      batchSize: options.batchSize,
      flashAttention: options.flashAttention,
      failedCreationRemedy: false,
    });
    try {
      const sequences = Array.from({ length: parallel }, () => context.getSequence());
      const scratch = context.getSequence();
      // Decode sequences hold their prompt minus the last token; the common prefix is evaluated once and copied.
      const held = options.decodePrompts.map((p) => p.slice(0, -1));
      for (let i = 0; i < parallel; i++) {
        const source = sequences.slice(0, i).reduce<{ length: number; index: number }>(
          (best, s, j) => {
            const length = commonPrefixLength(s.contextTokens, held[i]);
            return length > best.length ? { length, index: j } : best;
          },
          { length: 0, index: -1 },
        );
        let start = 0;
        if (source.index >= 0 && (await copySequencePrefix(sequences[i], sequences[source.index], source.length))) start = source.length;
        await sequences[i].evaluateWithoutGeneratingNewTokens(held[i].slice(start));
      }
      return new ThroughputMeter(context, sequences, scratch, options.decodePrompts, held);
    } catch (error) {
      await context.dispose();
      throw error;
    }
  }

  async measure(options: { prompt: Token[]; decodeTokens: number; threadCounts: number[]; repeats?: number }): Promise<ThroughputSample[]> {
    const repeats = options.repeats ?? 2;
    const { sequences, scratch, decodePrompts, held } = this;
    const parallel = sequences.length;
    // Four of the batch's prompts spread over it, one after another: a lone sequence's step runs over its own
    // cache only, so its rate depends on the prompt's length as much as a batched step's depends on the longest.
    const soloIndices = [...new Set([0, 1, 2, 3].map((k) => Math.floor((k * parallel) / 4)))];
    const prompt = options.prompt.slice(0, -1);
    const samples: ThroughputSample[] = [];
    for (const threads of options.threadCounts) {
      setContextThreads(this.context, threads);
      let pp = 0;
      for (let r = 0; r < repeats; r++) {
        await scratch.clearHistory();
        const start = performance.now();
        await scratch.evaluateWithoutGeneratingNewTokens(prompt);
        pp = Math.max(pp, prompt.length / ((performance.now() - start) / 1000));
      }
      await scratch.clearHistory();
      let decode = 0;
      for (let r = 0; r < repeats; r++) {
        const start = performance.now();
        // Every sequence decodes exactly decodeTokens tokens (an end-of-generation token does not stop it), so the
        // batch stays full to the end: the best batched rate, with no tail of finished sequences.
        const produced = await Promise.all(sequences.map((sequence, i) => decodeExactly(sequence, decodePrompts[i], 1000 + i, options.decodeTokens)));
        const seconds = (performance.now() - start) / 1000;
        decode = Math.max(decode, produced.reduce((a, b) => a + b, 0) / seconds);
        for (let i = 0; i < parallel; i++) await sequences[i].eraseContextTokenRanges([{ start: held[i].length, end: sequences[i].nextTokenIndex }]);
      }
      let single = 0;
      for (let r = 0; r < repeats; r++) {
        const start = performance.now();
        let count = 0;
        for (const i of soloIndices) {
          count += await decodeExactly(sequences[i], decodePrompts[i], 1000 + i, options.decodeTokens);
          await sequences[i].eraseContextTokenRanges([{ start: held[i].length, end: sequences[i].nextTokenIndex }]);
        }
        single = Math.max(single, count / ((performance.now() - start) / 1000));
      }
      samples.push({ threads, promptTokensPerSecond: pp, batchedDecodeTokensPerSecond: decode, singleDecodeTokensPerSecond: single });
    }
    return samples;
  }

  async close(): Promise<void> {
    await this.context.dispose();
  }
}
