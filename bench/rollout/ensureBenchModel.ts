import { access } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRandomModel, ensureTinyModel } from '../../src/main/llm/tinyModel';

const MODELS = resolve(dirname(fileURLToPath(import.meta.url)), '../../resources/models');

/** Path of the random-weight model of `shape` under resources/models/, generated on first use. */
export async function ensureBenchModel(shape: string): Promise<string> {
  const path = join(MODELS, `${shape}.gguf`);
  if (shape === 'tiny') return ensureTinyModel(path);
  const present = await access(path).then(() => true, () => false);
  if (!present) await createRandomModel({ out: path, shape });
  return path;
}
