import { BACKEND_CONFIGS, type ModelConfig } from '../../../shared/schemas/backends';
import type { LlmBackend } from '../LlmBackend';
import type { BackendModule, ModelProvenance, OpenBackendOptions } from './BackendModule';
import { llamaCppBackend } from './llamaCpp';
import { openAiBackend } from './openAi';

/** Every backend's main-process module, one line each (their configs: src/shared/schemas/backends/index.ts). */
export const BACKEND_MODULES = [llamaCppBackend, openAiBackend] as const;

/** A registered module seen through any model block (the registry checks which block is whose). */
type RegisteredModule = {
  [K in keyof Omit<BackendModule, 'config'>]: (config: ModelConfig, ...rest: Parameters<BackendModule[K]> extends [unknown, ...infer R] ? R : never) => ReturnType<BackendModule[K]>;
} & { config: (typeof BACKEND_CONFIGS)[number] };

function moduleOf(model: ModelConfig): RegisteredModule {
  const found = (BACKEND_MODULES as readonly unknown[] as readonly RegisteredModule[]).find((module) => module.config.name === model.backend);
  if (!found) throw new Error(`no backend module is registered as ${String(model.backend)}`);
  return found;
}

/** Builds the backend a model block names. */
export function openBackend(model: ModelConfig, options: OpenBackendOptions = {}): Promise<LlmBackend> {
  return moduleOf(model).open(model, options);
}

/** Exact token counts before the model loads, or null where the backend can count only once open. */
export function countTokensBeforeLoad(model: ModelConfig, texts: string[]): Promise<number[] | null> {
  return moduleOf(model).countTokensBeforeLoad(model, texts);
}

/** run.json's provenance of the model `backend` loaded for this block. */
export function describeLoadedModel(model: ModelConfig, backend: LlmBackend): Promise<ModelProvenance> {
  return moduleOf(model).describe(model, backend);
}
