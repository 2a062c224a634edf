import type { ControlledEvaluateInputItem, LlamaContext, LlamaContextSequence, Token } from 'node-llama-cpp';

/** What `checkBatchedDecode` measured: does sharing a decode step change a sequence's logits? */
export type BatchedDecodeCheck = {
  /** Every compared step gave bit-identical logits alone and in company. */
  exact: boolean;
  /** Sequences per decode step compared against a lone sequence's step (1 + companions). */
  stepSizes: number[];
  /** Decode steps compared per step size. */
  steps: number;
  /** Steps, over all step sizes, whose logits differed in at least one token. */
  differingSteps: number;
  /** Largest |alone - batched| / max(1, |alone|) over all logits compared. */
  maxDifference: number;
  durationMs: number;
};

/** Probe text: ASCII and Chinese, so byte-level and merged vocabularies both yield a few dozen tokens. */
const PROBE_TEXT = 'Verdict: pass\nReason: 接地线两端螺丝紧固, 标签清晰。\nConfidence: 0.85\n';
const MAX_STEP_SIZE = 16;
/** Context per sequence the probe needs: its text is about 90 tokens in a byte-level vocabulary, plus the forced steps. */
export const BATCHED_DECODE_PROBE_CONTEXT_TOKENS = 128;

type Logits = Float64Array;

/**
 * Whether batched decoding reproduces one-sequence decoding bit for bit, on this
 * model, machine and context. llama.cpp picks its kernels by the shape of a
 * step: on the CPU a matmul over one token row runs ggml's vec_dot, over two or
 * more rows llamafile's tiled sgemm, and for some weight types (F32 measured:
 * every step differs) the two sum in different orders. Whether that happens
 * depends on the weight types and on which CPU kernel variant llama.cpp loaded,
 * so it is measured here rather than assumed from a table.
 *
 * A probe sequence decodes a few forced tokens alone, then again with 1, 3 and
 * up to 15 companions decoding in the same steps (every one asking for logits,
 * as rollout candidates do), and the raw logits are compared exactly. Needs
 * `sequences` free sequences of `context` (call before anything else takes
 * them); they are cleared and disposed again. The probe prompts are short, so
 * effects that appear only over long KV caches (llama.cpp's CPU flash attention
 * from 512 cells) are out of its reach; callers treat that case separately.
 */
export async function checkBatchedDecode(
  context: LlamaContext,
  tokenize: (text: string) => Token[],
  options: { steps?: number } = {},
): Promise<BatchedDecodeCheck> {
  const started = Date.now();
  const available = Math.min(context.totalSequences, MAX_STEP_SIZE);
  const steps = Math.max(1, options.steps ?? 4);
  let probe = tokenize(PROBE_TEXT);
  if (probe.length === 0) throw new Error('the tokenizer gave no tokens for the batched-decode probe text');
  while (probe.length < steps + 8) probe = [...probe, ...probe];
  const prompt = probe.slice(0, probe.length - steps);
  const forced = probe.slice(probe.length - steps);
  const sequences: LlamaContextSequence[] = [];
  try {
    for (let i = 0; i < available; i++) sequences.push(context.getSequence());
    const companionCounts = [...new Set([1, 3, available - 1])].filter((c) => c >= 1 && c <= available - 1).sort((a, b) => a - b);
    const alone = await decodeForced(sequences, 0, prompt, forced);
    let differingSteps = 0;
    let maxDifference = 0;
    for (const companions of companionCounts) {
      const batched = await decodeForced(sequences, companions, prompt, forced);
      for (let s = 0; s < steps; s++) {
        const difference = largestDifference(alone[s], batched[s]);
        if (difference > 0) differingSteps++;
        maxDifference = Math.max(maxDifference, difference);
      }
    }
    return {
      exact: differingSteps === 0,
      stepSizes: companionCounts.map((c) => c + 1),
      steps,
      differingSteps,
      maxDifference,
      durationMs: Date.now() - started,
    };
  } finally {
    for (const sequence of sequences) {
      await sequence.clearHistory().catch(() => undefined);
      sequence.dispose();
    }
  }
}

/**
 * Sequence 0 evaluates `prompt` minus its last token, the companions a prompt of
 * their own, then all decode the forced tokens step by step in shared steps.
 * Returns sequence 0's logits per step.
 */
async function decodeForced(sequences: LlamaContextSequence[], companions: number, prompt: Token[], forced: Token[]): Promise<Logits[]> {
  const active = sequences.slice(0, companions + 1);
  for (const sequence of active) await sequence.clearHistory();
  // The probe's prompt is evaluated alone in every configuration, so only the decode steps differ.
  await active[0].evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1));
  for (let c = 1; c < active.length; c++) await active[c].evaluateWithoutGeneratingNewTokens(prompt.slice(c % 3, -1));
  const withLogits = (token: Token): ControlledEvaluateInputItem => [token, { generateNext: { logits: true } }];
  const out: Logits[] = [];
  let next = prompt[prompt.length - 1];
  for (const token of forced) {
    // Queued in the same tick, node-llama-cpp folds them into one llama_decode.
    const results = await Promise.all(active.map((sequence) => sequence.controlledEvaluate([withLogits(next)])));
    const logits = results[0][0]?.next.logits;
    if (!logits) throw new Error('node-llama-cpp returned no logits for the batched-decode probe');
    out.push(toArray(logits));
    next = token;
  }
  return out;
}

function toArray(logits: ReadonlyMap<Token, number>): Logits {
  let size = 0;
  for (const token of logits.keys()) size = Math.max(size, token + 1);
  const array = new Float64Array(size).fill(Number.NaN);
  for (const [token, value] of logits) array[token] = value;
  return array;
}

function largestDifference(a: Logits, b: Logits): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let largest = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i]))) continue;
    const difference = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(a[i]));
    largest = Math.max(largest, Number.isNaN(difference) ? Number.POSITIVE_INFINITY : difference);
  }
  return largest;
}
