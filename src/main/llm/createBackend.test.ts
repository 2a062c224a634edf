import { afterEach, describe, expect, it, vi } from 'vitest';
import { ModelConfigSchema } from '../../shared/schemas/runConfig';
import { startMockOpenAiServer, type MockOpenAiServer } from '../../../test/helpers/mockOpenAiServer';

// Records whether the native backend module was ever imported. The double stands in only
// for the import itself: dispatch is what is under test, not llama.cpp.
const nativeModule = vi.hoisted(() => ({ loaded: false, calls: [] as unknown[][] }));
vi.mock('./LlamaCppBackend', () => {
  nativeModule.loaded = true;
  return {
    createLlamaCppBackend: async (...args: unknown[]) => {
      nativeModule.calls.push(args);
      return { info: { backend: 'llama-cpp' } };
    },
  };
});

const { createBackend } = await import('./createBackend');

let server: MockOpenAiServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('createBackend', () => {
  it('builds the openai backend without importing the native llama-cpp module', async () => {
    server = await startMockOpenAiServer({ ownedBy: 'vllm' });
    const config = ModelConfigSchema.parse({ backend: 'openai', base_url: server.baseUrl, model: 'mock-model' });
    const backend = await createBackend(config);
    expect(backend.info).toMatchObject({ backend: 'openai', modelName: 'mock-model', modelPath: null, contextSize: 32768 });
    const [completion] = await backend.generate({
      prompt: { system: 's', userParts: ['u'] },
      candidates: [{ seed: 3, temperature: 0.7, top_p: 0.9, max_new_tokens: 8, prompt_variant: 'default' }],
      constraint: { kind: 'none' },
    });
    expect(completion.text).toBe('seed=3 choice=0');
    expect(server.chatRequests()).toHaveLength(1);
    expect(nativeModule.loaded).toBe(false);
    await backend.close();
  });

  it('imports the llama-cpp module only when the config asks for it, passing the config and the signal', async () => {
    const config = ModelConfigSchema.parse({ backend: 'llama-cpp', path: '/models/tiny.gguf' });
    const signal = new AbortController().signal;
    const backend = await createBackend(config, { signal });
    expect(nativeModule.loaded).toBe(true);
    expect(backend.info.backend).toBe('llama-cpp');
    expect(nativeModule.calls).toEqual([[config, { signal }]]);
  });
});
