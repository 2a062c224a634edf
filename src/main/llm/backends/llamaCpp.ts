import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { llamaCppBackendConfig } from '../../../shared/schemas/backends/llamaCppModel';
import { defineBackendModule, type ModelProvenance } from './BackendModule';

/** The embedded backend. node-llama-cpp's native addon is imported only when this backend is used. */
export const llamaCppBackend = defineBackendModule({
  config: llamaCppBackendConfig,
  open: async (config, options) => {
    const { createLlamaCppBackend } = await import('../LlamaCppBackend');
    return createLlamaCppBackend(config, { signal: options.signal });
  },
  countTokensBeforeLoad: async (config, texts) => {
    // A file not there yet fails at the load with the error that names it.
    if (!(await stat(config.path).then((info) => info.isFile(), () => false))) return null;
    const { countTokensWithVocab } = await import('../countTokensWithVocab');
    return countTokensWithVocab(config, texts);
  },
  describe: async (config, backend): Promise<ModelProvenance> => {
    const runtime = backend.info.runtime ?? null;
    return {
      path: config.path,
      fingerprint: await modelFingerprint(config.path),
      versions: runtime ? { 'llama.cpp': runtime.llamaCppRelease } : {},
      compute: runtime?.compute ?? null,
    };
  },
});

/** sha256 over size + first and last MiB: cheap for a 20 GB model, and it still changes when the file does. */
async function modelFingerprint(path: string): Promise<string> {
  const info = await stat(path);
  const handle = await open(path, 'r');
  try {
    const chunk = Math.min(1 << 20, info.size);
    const head = Buffer.alloc(chunk);
    const tail = Buffer.alloc(chunk);
    await handle.read(head, 0, chunk, 0);
    await handle.read(tail, 0, chunk, Math.max(0, info.size - chunk));
    return createHash('sha256').update(String(info.size)).update(head).update(tail).digest('hex');
  } finally {
    await handle.close();
  }
}
