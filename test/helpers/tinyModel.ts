import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createRandomModel, ensureTinyModel } from '../../src/main/llm/tinyModel';
import { MODEL_SHAPES, type ModelShape } from '../../src/main/llm/modelShapes';

/** resources/models/ is gitignored: the fixture is generated on first use (atomic, safe across vitest workers). */
export const TINY_MODEL_PATH = fileURLToPath(new URL('../../resources/models/tiny.gguf', import.meta.url));

export function ensureTinyModelForTests(): Promise<string> {
  return ensureTinyModel(TINY_MODEL_PATH);
}

/** The tiny shape with other weights (e.g. F32, whose CPU kernels differ between one-token and batched steps). */
export async function ensureTinyVariantForTests(weightType: ModelShape['weightType']): Promise<string> {
  const path = fileURLToPath(new URL(`../../resources/models/tiny-${weightType.toLowerCase()}.gguf`, import.meta.url));
  const present = await stat(path).then((s) => s.size > 0, () => false);
  if (!present) await createRandomModel({ out: path, shape: { ...MODEL_SHAPES.tiny, name: `tiny-${weightType.toLowerCase()}`, weightType } });
  return path;
}
