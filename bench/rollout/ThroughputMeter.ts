import type { LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { commonPrefixLength } from '../../src/main/llm/llama/SharedPrefixScheduler';
import { setContextThreads } from '../../src/main/llm/llama/contextThreads';
import { copySequencePrefix } from '../../src/main/llm/llama/sequenceStateCopy';
import type { FlashAttentionChoice } from '../../src/main/llm/resolveFlashAttention';

export const RATE_KINDS = ['prompt', 'batched', 'single'] as const;
export type RateKind = (typeof RATE_KINDS)[number];

export type ThroughputSample = { threads: number; promptTokensPerSecond: number; batchedDecodeTokensPerSecond: number; singleDecodeTokensPerSecond: number };

/**
 * Feeds `sequence` (holding `prompt` minus its last token) the last token and samples `tokens` tokens, unconstrained;
 * an end-of-generation token does not stop it. Returns the tokens produced.
 */
export async function decodeExactly(sequence: LlamaContextSequence, prompt: readonly Token[], seed: number, tokens: number): Promise<number> {
  let count = 0;
  for await (const token of sequence.evaluate([prompt[prompt.length - 1]], { temperature: 1, seed, yieldEogToken: true })) {
    void token;
    if (++count >= tokens) break;
  }
  return count;
}

/** Runs `work` (which returns the tokens it processed) and gives its rate. */
async function tokensPerSecond(work: () => Promise<number>): Promise<number> {
  const start = performance.now();
  const tokens = await work();
  return tokens / ((performance.now() - start) / 1000);
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
 * - single-sequence decode: the sequences at `soloIndices` (the caller picks
 *   them spread over the batch's groups and prompt variants), each decoding
 *   `decodeTokens` tokens alone in turn (what decoding one candidate at a time
 *   achieves): a lone sequence's step runs over its own cache only, so its rate
 *   depends on the prompt's length as much as a batched step's on the longest.
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
    private readonly soloIndices: number[],
  ) {}

  static async open(
    model: LlamaModel,
    options: { decodePrompts: Token[][]; soloIndices: number[]; contextSize: number; batchSize: number; flashAttention: FlashAttentionChoice; maxThreads: number },
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
      return new ThroughputMeter(context, sequences, scratch, options.decodePrompts, held, options.soloIndices);
    } catch (error) {
      await context.dispose();
      throw error;
    }
  }

  /**
   * Each thread count's three rates, measured in `order` (default prompt, batched, single): a caller measuring
   * right before and right after a workload batch puts the rates that batch depends on next to it.
   * Each rate is the best of `repeats` passes (`promptRepeats` for prompt processing, a pass of about a second).
   */
  async measure(options: { prompt: Token[]; decodeTokens: number; threadCounts: number[]; repeats?: number; promptRepeats?: number; order?: readonly RateKind[] }): Promise<ThroughputSample[]> {
    const repeats = options.repeats ?? 2;
    const promptRepeats = options.promptRepeats ?? repeats;
    const order = options.order ?? RATE_KINDS;
    const prompt = options.prompt.slice(0, -1);
    const samples: ThroughputSample[] = [];
    for (const threads of options.threadCounts) {
      setContextThreads(this.context, threads);
      const rates: Record<RateKind, number> = { prompt: 0, batched: 0, single: 0 };
      for (const kind of order) {
        for (let r = 0; r < (kind === 'prompt' ? promptRepeats : repeats); r++) rates[kind] = Math.max(rates[kind], await this.measureOnce(kind, prompt, options.decodeTokens));
      }
      samples.push({ threads, promptTokensPerSecond: rates.prompt, batchedDecodeTokensPerSecond: rates.batched, singleDecodeTokensPerSecond: rates.single });
    }
    return samples;
  }

  /** One pass of one rate, in tokens per second; `prompt` is evaluated from scratch (the prompt rate). */
  private async measureOnce(kind: RateKind, prompt: Token[], decodeTokens: number): Promise<number> {
    const { sequences, scratch, decodePrompts } = this;
    if (kind === 'prompt') {
      await scratch.clearHistory();
      const rate = await tokensPerSecond(async () => {
        await scratch.evaluateWithoutGeneratingNewTokens(prompt);
        return prompt.length;
      });
      await scratch.clearHistory();
      return rate;
    }
    if (kind === 'batched') {
      // Every sequence decodes exactly decodeTokens tokens (an end-of-generation token does not stop it), so the
      // batch stays full to the end: the best batched rate, with no tail of finished sequences.
      const rate = await tokensPerSecond(async () =>
        (await Promise.all(sequences.map((sequence, i) => decodeExactly(sequence, decodePrompts[i], 1000 + i, decodeTokens)))).reduce((a, b) => a + b, 0),
      );
      for (let i = 0; i < sequences.length; i++) await this.rewind(i);
      return rate;
    }
    return tokensPerSecond(async () => {
      let produced = 0;
      for (const i of this.soloIndices) {
        produced += await decodeExactly(sequences[i], decodePrompts[i], 1000 + i, decodeTokens);
        await this.rewind(i);
      }
      return produced;
    });
  }

  /** Drops what a decode added, so the sequence holds its prompt minus the last token again. */
  private async rewind(i: number): Promise<void> {
    await this.sequences[i].eraseContextTokenRanges([{ start: this.held[i].length, end: this.sequences[i].nextTokenIndex }]);
  }

  async close(): Promise<void> {
    await this.context.dispose();
  }
}
