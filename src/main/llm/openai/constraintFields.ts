import type { OutputConstraint } from '../LlmBackend';
import type { OpenAiModelConfig } from '../../../shared/schemas/runConfig';

/** What /models says about the server; decides the dialect of constraint fields, `n` support and tokenizing. */
export type ServerKind = 'vllm' | 'llama.cpp' | 'sglang' | 'unknown';

export type GuidedDecodingMode = OpenAiModelConfig['guided_decoding'];

/**
 * Extra body fields that constrain the output. The dialects:
 * - vLLM: `guided_grammar` / `guided_json` (up to 0.11) and `structured_outputs`
 *   {grammar|json} (0.10.2 on; the guided_* fields were removed in 0.12). Both are
 *   sent: vLLM ignores body fields it does not know, and 0.10.2–0.11 only fall back
 *   to guided_* when structured_outputs is absent.
 * - llama.cpp server: `grammar` (GBNF) and `response_format` json_schema.
 * - SGLang: `ebnf` (GBNF-style grammar) and `response_format` json_schema.
 * - OpenAI proper: `response_format` json_schema with strict: true.
 * The caller parses strictly whatever comes back, so an ignored field costs
 * validity rate, never correctness.
 */
export function constraintFields(constraint: OutputConstraint, mode: GuidedDecodingMode, server: ServerKind): Record<string, unknown> {
  if (constraint.kind === 'none' || mode === 'none') return {};
  const dialect = resolveDialect(mode, server);
  if (constraint.kind === 'gbnf') {
    switch (dialect) {
      case 'vllm':
        return { guided_grammar: constraint.grammar, structured_outputs: { grammar: constraint.grammar } };
      case 'llama.cpp':
        return { grammar: constraint.grammar };
      case 'sglang':
        return { ebnf: constraint.grammar };
      case 'response_format':
        // OpenAI's response_format cannot carry a grammar; llama.cpp-compatible servers read `grammar`.
        return { grammar: constraint.grammar };
    }
  }
  const schema = constraint.schema;
  if (dialect === 'vllm') return { guided_json: schema, structured_outputs: { json: schema } };
  return { response_format: { type: 'json_schema', json_schema: { name: 'stageb_output', schema, strict: true } } };
}

/** `response_format`: OpenAI's own API, which constrains only through response_format json_schema. */
type Dialect = 'vllm' | 'llama.cpp' | 'sglang' | 'response_format';

function resolveDialect(mode: Exclude<GuidedDecodingMode, 'none'>, server: ServerKind): Dialect {
  if (mode === 'vllm') return 'vllm';
  if (mode === 'response_format') return 'response_format';
  if (server === 'vllm' || server === 'llama.cpp' || server === 'sglang') return server;
  return 'response_format';
}
