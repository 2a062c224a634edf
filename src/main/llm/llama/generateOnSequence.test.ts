import { LlamaCompletion, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModelForTests } from '../../../../test/helpers/tinyModel';
import { verdictGrammar } from '../../../shared/verdictProtocol';
import { getLlamaRuntime } from '../llamaRuntime';
import { generateOnSequence } from './generateOnSequence';

let model: LlamaModel;
let context: LlamaContext;
let sequence: LlamaContextSequence;
let other: LlamaContextSequence;
let prompt: Token[];

const llama = () => getLlamaRuntime(false, 1);

beforeAll(async () => {
  model = await (await llama()).loadModel({ modelPath: await ensureTinyModelForTests(), gpuLayers: 0 });
  context = await model.createContext({ contextSize: 1024, sequences: 2, threads: 1 });
  sequence = context.getSequence();
  other = context.getSequence();
  prompt = model.tokenize('<|im_start|>system\n你是通信基站安装质检员。<|im_end|>\n<|im_start|>user\n工单 QC-1: 标签/5G-BBU-接地线×1<|im_end|>\n<|im_start|>assistant\n', true);
});

afterAll(async () => {
  await context?.dispose();
  await model?.dispose();
});

describe('generateOnSequence on the tiny model', () => {
  it('samples the same text as node-llama-cpp\'s LlamaCompletion for the same seed, grammar and sampling settings', async () => {
    const grammar = await (await llama()).createGrammar({ grammar: verdictGrammar('three_line', 24) });
    const completion = new LlamaCompletion({ contextSequence: other });
    for (const [seed, temperature, topP] of [[1, 1, 0.95], [2, 0.7, 0.9], [3, 1, 1], [4, 0.3, 0.8]] as const) {
      await other.clearHistory();
      const expected = await completion.generateCompletionWithMeta(prompt.slice(), { maxTokens: 120, temperature, topP, seed, grammar, repeatPenalty: false });
      await sequence.clearHistory();
      const ours = await generateOnSequence(sequence, prompt, { maxTokens: 120, temperature, topP, seed, grammar });
      expect(ours.text).toBe(expected.response);
      expect(ours.stopReason).toBe(expected.metadata.stopReason === 'maxTokens' ? 'maxTokens' : 'eog');
    }
  });

  it('stops at maxTokens sampled tokens and leaves the sequence holding the prompt and the tokens it evaluated', async () => {
    await sequence.clearHistory();
    const result = await generateOnSequence(sequence, prompt, { maxTokens: 7, temperature: 1, topP: 1, seed: 9 });
    expect(result.stopReason).toBe('maxTokens');
    expect(result.tokens).toHaveLength(7);
    expect(result.text.endsWith('\uFFFD')).toBe(false);
    // The last sampled token is returned, not evaluated.
    expect(sequence.contextTokens).toEqual([...prompt, ...result.tokens.slice(0, -1)]);
  });

  it('ends at the grammar\'s end with the end-of-generation token left out', async () => {
    const grammar = await (await llama()).createGrammar({ grammar: 'root ::= "ok"' });
    await sequence.clearHistory();
    const result = await generateOnSequence(sequence, prompt, { maxTokens: 50, temperature: 1, topP: 1, seed: 1, grammar });
    expect(result).toMatchObject({ text: 'ok', stopReason: 'eog' });
    expect(result.tokens.every((token) => !model.isEogToken(token))).toBe(true);
  });

  it('cuts the text before the first stop string, from the request or the grammar, and trims a grammar\'s whitespace suffix', async () => {
    const runtime = await llama();
    const fenced = await runtime.createGrammar({ grammar: 'root ::= "ab" "```" [a-z]+' });
    await sequence.clearHistory();
    expect(await generateOnSequence(sequence, prompt, { maxTokens: 50, temperature: 1, topP: 1, seed: 1, grammar: fenced, stop: ['```'] })).toMatchObject({ text: 'ab', stopReason: 'stop' });
    // Without the stop string the same grammar runs past it.
    await sequence.clearHistory();
    expect((await generateOnSequence(sequence, prompt, { maxTokens: 50, temperature: 1, topP: 1, seed: 1, grammar: fenced })).text.startsWith('ab```')).toBe(true);

    const triggered = await runtime.createGrammar({ grammar: 'root ::= "{}  " "\\n\\n\\n\\n" [a-z]+', stopGenerationTriggers: ['\n\n\n\n'], trimWhitespaceSuffix: true });
    await sequence.clearHistory();
    expect(await generateOnSequence(sequence, prompt, { maxTokens: 50, temperature: 1, topP: 1, seed: 1, grammar: triggered })).toMatchObject({ text: '{}', stopReason: 'stop' });
  });

  it('keeps the longest prefix the sequence holds, always re-evaluates the last prompt token, and drops what followed', async () => {
    await sequence.clearHistory();
    // As the scheduler prepares a sequence: the prompt minus its last token (a token's logits depend in the last bits on the batch it is evaluated in).
    await sequence.evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1));
    const fresh = await generateOnSequence(sequence, prompt, { maxTokens: 20, temperature: 1, topP: 0.95, seed: 5 });
    // The sequence now holds the prompt plus generated tokens; a second run must give the same text from it.
    const before = sequence.tokenMeter.getState();
    const again = await generateOnSequence(sequence, prompt, { maxTokens: 20, temperature: 1, topP: 0.95, seed: 5 });
    expect(again.text).toBe(fresh.text);
    // Only the last prompt token and the sampled tokens were evaluated: nothing of the held prefix.
    expect(sequence.tokenMeter.diff(before).usedInputTokens).toBeLessThanOrEqual(1 + again.tokens.length);
    expect(sequence.contextTokens.slice(0, prompt.length)).toEqual(prompt);
  });

  it('throws the abort reason: at once for an aborted signal, and mid-generation when aborted while sampling', async () => {
    await sequence.clearHistory();
    const aborted = AbortSignal.abort(new Error('stopped before'));
    await expect(generateOnSequence(sequence, prompt, { maxTokens: 10, temperature: 1, topP: 1, seed: 1, signal: aborted })).rejects.toThrow('stopped before');
    expect(sequence.nextTokenIndex).toBe(0);

    const controller = new AbortController();
    const budget = 1024 - prompt.length - 8;
    const pending = generateOnSequence(sequence, prompt, { maxTokens: budget, temperature: 1, topP: 1, seed: 1, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stopped while sampling')), 30);
    await expect(pending).rejects.toThrow('stopped while sampling');
    expect(sequence.nextTokenIndex).toBeLessThan(prompt.length + budget - 1);
  });
});
