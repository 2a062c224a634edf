import { LlamaCompletion, type LlamaModel, type Token } from 'node-llama-cpp';
import { copySequencePrefix } from '../../src/main/llm/llama/sequenceStateCopy';

export type ThroughputSample = { threads: number; promptTokensPerSecond: number; batchedDecodeTokensPerSecond: number };

/**
 * The two rates the floor is built from, on the model being benched:
 * prompt processing (one sequence, a fresh `prompt` evaluated in one call) and
 * batched decode (`parallel` sequences holding `prompt`, all generating at once,
 * unconstrained, so attention runs over a realistic context length).
 * Each is the best of `repeats` runs.
 */
export async function measureThroughput(
  model: LlamaModel,
  options: { prompt: Token[]; parallel: number; decodeTokens: number; threads: number; contextSize: number; batchSize: number; repeats?: number },
): Promise<ThroughputSample> {
  const repeats = options.repeats ?? 2;
  const context = await model.createContext({
    contextSize: options.contextSize,
    sequences: options.parallel,
    threads: options.threads,
    batchSize: options.batchSize,
    failedCreationRemedy: false,
  });
  try {
    const sequences = Array.from({ length: options.parallel }, () => context.getSequence());
    const prompt = options.prompt.slice(0, -1);
    let pp = 0;
    for (let r = 0; r < repeats; r++) {
      await sequences[0].clearHistory();
      const start = performance.now();
      await sequences[0].evaluateWithoutGeneratingNewTokens(prompt);
      pp = Math.max(pp, prompt.length / ((performance.now() - start) / 1000));
    }
    let decode = 0;
    for (let r = 0; r < repeats; r++) {
      for (const sequence of sequences.slice(1)) {
        if (!(await copySequencePrefix(sequence, sequences[0], prompt.length))) await sequence.evaluateWithoutGeneratingNewTokens(prompt);
      }
      const completions = sequences.map((sequence) => new LlamaCompletion({ contextSequence: sequence }));
      const start = performance.now();
      const results = await Promise.all(
        completions.map((completion, i) =>
          completion.generateCompletionWithMeta(options.prompt.slice(), {
            maxTokens: options.decodeTokens,
            temperature: 1,
            seed: 1000 + i,
            repeatPenalty: false,
            disableContextShift: true,
            customStopTriggers: undefined,
          }),
        ),
      );
      const seconds = (performance.now() - start) / 1000;
      const generated = sequences.length * options.decodeTokens;
      // Responses may stop early at an EOG token; count what was produced via the sequences' length.
      const produced = sequences.reduce((sum, sequence) => sum + Math.max(0, sequence.contextTokens.length - prompt.length), 0);
      decode = Math.max(decode, Math.min(generated, produced) / seconds);
      for (const completion of completions) completion.dispose({ disposeSequence: false });
      void results;
      for (const sequence of sequences.slice(1)) await sequence.clearHistory();
    }
    return { threads: options.threads, promptTokensPerSecond: pp, batchedDecodeTokensPerSecond: decode };
  } finally {
    await context.dispose();
  }
}
