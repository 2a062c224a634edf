import { z } from 'zod';
import { defineBackendConfig } from './BackendConfig';

/** Any OpenAI-compatible HTTP server; the model lives there, so nothing here names a file. */
export const OpenAiModelSchema = z
  .object({
    backend: z.literal('openai').describe('Any OpenAI-compatible server (vLLM, SGLang, llama.cpp server).'),
    base_url: z.string().url().describe('Server base URL, e.g. http://127.0.0.1:8000/v1.'),
    model: z.string().min(1).describe('Model name the server expects.'),
    api_key_env: z.string().nullable().default(null).describe('Name of the environment variable that holds the API key (the key itself never goes in a config).'),
    concurrency: z.number().int().positive().default(8).describe('Requests in flight at once.'),
    timeout_ms: z.number().int().positive().default(120000).describe('Per-request timeout.'),
    max_retries: z.number().int().nonnegative().default(4).describe('Retries on 429 and 5xx, with exponential backoff.'),
    guided_decoding: z.enum(['auto', 'vllm', 'response_format', 'none']).default('auto').describe('How to constrain output: vLLM guided_* fields, response_format json_schema, or none (strict parse either way).'),
    context_size: z.number().int().positive().default(32768).describe('Context length of the served model, for prompt budget checks.'),
  })
  .strict();

export type OpenAiModelConfig = z.infer<typeof OpenAiModelSchema>;

export const openAiBackendConfig = defineBackendConfig({
  name: 'openai',
  schema: OpenAiModelSchema,
  paths: [],
  modelFile: () => null,
  loadMessage: (config) => `connecting to ${urlWithoutCredentials(config.base_url)}`,
  runsOn: 'an OpenAI-compatible server',
});

/** A URL as messages show it: user and password left out, whatever the server or the config holds. */
export function urlWithoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
