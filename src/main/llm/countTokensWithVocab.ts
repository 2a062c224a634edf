import type { LlamaCppModelConfig } from '../../shared/schemas/runConfig';
import { StageBError } from '../../shared/errors';
import { checkGgufFile } from './gguf/ggufHeader';
import { getLlamaRuntime, resolveThreadCount } from './llamaRuntime';

/**
 * Counts tokens with the model's own tokenizer while loading only its vocabulary
 * (no weight tensors), so token budgets can be enforced before the model load.
 * The GGUF header is validated first: a missing key must never reach llama.cpp.
 */
export async function countTokensWithVocab(config: LlamaCppModelConfig, texts: string[]): Promise<number[]> {
  await checkGgufFile(config.path);
  const llama = await getLlamaRuntime(config.gpu, resolveThreadCount(config.threads));
  let model;
  try {
    model = await llama.loadModel({ modelPath: config.path, vocabOnly: true, gpuLayers: 0 });
  } catch (error) {
    throw new StageBError('MODEL_LOAD_FAILED', `cannot read the vocabulary of ${config.path}: ${(error as Error).message}`, { file: config.path });
  }
  try {
    return texts.map((text) => model.tokenize(text).length);
  } finally {
    await model.dispose();
  }
}
