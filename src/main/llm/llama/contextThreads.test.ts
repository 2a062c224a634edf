import { describe, expect, it } from 'vitest';
import type { Token } from 'node-llama-cpp';
import { ensureTinyModelForTests } from '../../../../test/helpers/tinyModel';
import { getLlamaRuntime } from '../llamaRuntime';
import { contextThreadSwitchSupported, setContextThreads } from './contextThreads';

describe('switching a context between thread counts (node-llama-cpp internals)', () => {
  it('the pinned node-llama-cpp exposes the switch, and the next evaluation runs on the new count', async () => {
    const llama = await getLlamaRuntime(false, 2);
    const model = await llama.loadModel({ modelPath: await ensureTinyModelForTests(), gpuLayers: 0 });
    const context = await model.createContext({ contextSize: 256, sequences: 1, threads: 1, failedCreationRemedy: false });
    try {
      expect(contextThreadSwitchSupported(context), 'node-llama-cpp no longer has LlamaContext._idealThreads/_freeReservedThreads; see src/main/llm/llama/contextThreads.ts').toBe(true);
      const sequence = context.getSequence();
      const tokens = model.tokenize('Verdict: 通过') as Token[];
      await sequence.evaluateWithoutGeneratingNewTokens(tokens);
      expect(context.currentThreads).toBe(1);
      expect(setContextThreads(context, 2)).toBe(true);
      await sequence.evaluateWithoutGeneratingNewTokens(tokens);
      expect(context.currentThreads).toBe(2);
      expect(setContextThreads(context, 1)).toBe(true);
      await sequence.evaluateWithoutGeneratingNewTokens(tokens);
      expect(context.currentThreads).toBe(1);
    } finally {
      await context.dispose();
      await model.dispose();
    }
  });
});
