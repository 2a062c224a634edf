import type { ModelConfig } from '../../shared/schemas/runConfig';
import type { LlmBackend } from './LlmBackend';
import type { LlamaCppBackendOptions } from './LlamaCppBackend';
import { createOpenAiBackend, type OpenAiBackendOptions } from './OpenAiBackend';

export type CreateBackendOptions = LlamaCppBackendOptions & {
  /** Passed to the openai backend only (tests inject fetch, sleep and env here). */
  openai?: OpenAiBackendOptions;
};

/**
 * Builds the backend a run config names. The llama-cpp backend is imported
 * lazily so that a run against a remote server never loads node-llama-cpp's
 * native addon (which may not even be installable on that machine).
 */
export async function createBackend(config: ModelConfig, options: CreateBackendOptions = {}): Promise<LlmBackend> {
  switch (config.backend) {
    case 'openai':
      return createOpenAiBackend(config, options.openai);
    case 'llama-cpp': {
      const { createLlamaCppBackend } = await import('./LlamaCppBackend');
      return createLlamaCppBackend(config, { configDir: options.configDir, signal: options.signal });
    }
  }
}
