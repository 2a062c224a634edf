import { LlamaGrammarEvaluationState, isLlamaText, type LlamaContextSequence, type LlamaGrammar, type LlamaModel, type Token } from 'node-llama-cpp';
import { commonPrefixLength } from './SharedPrefixScheduler';

export type SequenceGenerationOptions = {
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  grammar?: LlamaGrammar;
  /** Text that ends generation; the response stops before it. */
  stop?: readonly string[];
  signal?: AbortSignal;
};

export type SequenceGeneration = {
  text: string;
  /** 'eog': an end-of-generation token (or the grammar's end); 'stop': a stop string; 'maxTokens': the length cap. */
  stopReason: 'eog' | 'stop' | 'maxTokens';
  /** Tokens sampled, the end-of-generation token excluded. */
  tokens: Token[];
};

const REPLACEMENT_CHARACTER = '\uFFFD';
/** Longest UTF-8 sequence: a length cut inside a character leaves at most this many tokens of it (byte tokens). */
const MAX_PARTIAL_CHARACTER_TOKENS = 3;

function stopStrings(model: LlamaModel, grammar: LlamaGrammar | undefined, stop: readonly string[] | undefined): string[] {
  const triggers = (grammar?.stopGenerationTriggers ?? []).map((trigger) =>
    typeof trigger === 'string'
      ? trigger
      : isLlamaText(trigger)
        ? trigger.toString()
        : trigger.map((part) => (typeof part === 'string' ? part : model.detokenize([part], true))).join(''),
  );
  return [...triggers, ...(stop ?? [])].filter((s) => s.length > 0);
}

/**
 * How much of `prompt` a sequence holding `contextTokens` keeps for generating:
 * the common prefix, but never the last prompt token, which is evaluated in a
 * decode step of its own on every path.
 */
export function reusablePromptPrefix(contextTokens: readonly Token[], prompt: readonly Token[]): number {
  return Math.min(prompt.length - 1, commonPrefixLength(contextTokens, prompt));
}

/** Where the earliest stop string starts in `text`, or -1. */
function firstStop(text: string, stops: readonly string[]): number {
  let first = -1;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0 && (first < 0 || at < first)) first = at;
  }
  return first;
}

/**
 * Samples a response to `prompt` on `sequence` through node-llama-cpp's public
 * `sequence.evaluate`, which takes the grammar, temperature, top-p and seed
 * into its native sampler. It replaces node-llama-cpp's LlamaCompletion for the
 * engine: the completion's per-token bookkeeping (a detokenize, a stream
 * regulator and two stop detectors for every token) was measured to cost about
 * 5% of a decode step on bench-27m (`npm run bench:generation-loop`), and the
 * sampled tokens are the same for the same seed.
 *
 * The sequence keeps the longest prefix of `prompt` it already holds (never the
 * whole prompt: the last prompt token is always evaluated here, so its logits
 * come from a decode step of its own on every path); the rest is evaluated
 * first. The caller makes sure the prompt plus `maxTokens` fits the context:
 * this never shifts the context on purpose.
 *
 * The text is the detokenized sampled tokens, cut before the first stop string
 * (the grammar's stop triggers and `stop`), with trailing whitespace trimmed
 * for grammars that ask for it (JSON schema grammars), and, at the length cap,
 * without trailing undecodable bytes (up to one UTF-8 character's worth). Abort throws the signal's reason.
 */
export async function generateOnSequence(sequence: LlamaContextSequence, prompt: readonly Token[], options: SequenceGenerationOptions): Promise<SequenceGeneration> {
  if (prompt.length === 0) throw new Error('generateOnSequence needs a prompt of at least one token');
  const model = sequence.model;
  const signal = options.signal;
  signal?.throwIfAborted();
  const held = reusablePromptPrefix(sequence.contextTokens, prompt);
  if (sequence.nextTokenIndex > held) await sequence.eraseContextTokenRanges([{ start: held, end: sequence.nextTokenIndex }]);
  signal?.throwIfAborted();

  const stops = stopStrings(model, options.grammar, options.stop);
  const grammarEvaluationState = options.grammar ? new LlamaGrammarEvaluationState({ model, grammar: options.grammar }) : undefined;
  const tokens: Token[] = [];
  let stopReason: SequenceGeneration['stopReason'] = 'eog';
  let stopAt = -1;
  if (options.maxTokens > 0) {
    for await (const token of sequence.evaluate(prompt.slice(held) as Token[], {
      temperature: options.temperature,
      topP: options.topP,
      seed: options.seed,
      grammarEvaluationState,
    })) {
      signal?.throwIfAborted();
      tokens.push(token);
      if (stops.length > 0) {
        stopAt = firstStop(model.detokenize(tokens), stops);
        if (stopAt >= 0) {
          stopReason = 'stop';
          break;
        }
      }
      if (tokens.length >= options.maxTokens) {
        stopReason = 'maxTokens';
        break;
      }
    }
    signal?.throwIfAborted();
  } else {
    stopReason = 'maxTokens';
  }

  let text = model.detokenize(tokens);
  if (stopReason === 'stop') text = text.slice(0, stopAt);
  // A length cut can fall inside a multi-byte character; its bytes decode to replacement characters.
  for (let dropped = 0; stopReason === 'maxTokens' && text.endsWith(REPLACEMENT_CHARACTER) && dropped < MAX_PARTIAL_CHARACTER_TOKENS && dropped < tokens.length; dropped++) {
    text = model.detokenize(tokens.slice(0, tokens.length - dropped - 1));
  }
  if (options.grammar?.trimWhitespaceSuffix) text = text.trimEnd();
  return { text, stopReason, tokens };
}
