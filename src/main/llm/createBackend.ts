import type { ModelConfig } from '../../shared/schemas/runConfig';
import type { LlmBackend } from './LlmBackend';
import type { OpenBackendOptions } from './backends/BackendModule';
import { openBackend } from './backends/registry';

export type CreateBackendOptions = OpenBackendOptions;

/**
 * Builds the backend a run config names, through its registered module
 * (src/main/llm/backends/registry.ts). A backend that loads native code imports it
 * lazily, so a run against a remote server never loads node-llama-cpp's addon
 * (which may not even be installable on that machine).
 */
export function createBackend(config: ModelConfig, options: CreateBackendOptions = {}): Promise<LlmBackend> {
  return openBackend(config, options);
}
