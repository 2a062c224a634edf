import { localModelFile, type ModelConfig } from '../../shared/schemas/backends';
import { ensureTinyModel, TINY_MODEL_SEED } from '../llm/tinyModel';

export type DemoModel = { path: string; written: boolean };

/**
 * The demo's model, written before the run starts, as the demo mission is: the tiny
 * random-weight GGUF at the model file the demo config names. The run and its backend only
 * load it. Nothing is written over a file that is not an earlier tiny model (another GGUF
 * is used as it is; anything else is refused with a typed error naming the path, and left
 * as it was). A config whose model is on a server names no file: null, nothing to write.
 */
export async function ensureDemoModel(model: ModelConfig): Promise<DemoModel | null> {
  const file = localModelFile(model);
  if (file === null) return null;
  let written = false;
  await ensureTinyModel(file, TINY_MODEL_SEED, { onWrite: () => (written = true) });
  return { path: file, written };
}
