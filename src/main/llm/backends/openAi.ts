import { openAiBackendConfig } from '../../../shared/schemas/backends/openAiModel';
import { createOpenAiBackend } from '../OpenAiBackend';
import { defineBackendModule } from './BackendModule';

/** Any OpenAI-compatible server: the model is the server's, so there is no file to count with or fingerprint. */
export const openAiBackend = defineBackendModule({
  config: openAiBackendConfig,
  open: async (config) => createOpenAiBackend(config),
  // Counted by the server's tokenizer once the backend opens.
  countTokensBeforeLoad: async () => null,
  describe: async () => ({ path: null, fingerprint: null, versions: {}, compute: null }),
});
