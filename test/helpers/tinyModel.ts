import { fileURLToPath } from 'node:url';
import { ensureTinyModel } from '../../src/main/llm/tinyModel';

/** resources/models/ is gitignored: the fixture is generated on first use (atomic, safe across vitest workers). */
export const TINY_MODEL_PATH = fileURLToPath(new URL('../../resources/models/tiny.gguf', import.meta.url));

export function ensureTinyModelForTests(): Promise<string> {
  return ensureTinyModel(TINY_MODEL_PATH);
}
