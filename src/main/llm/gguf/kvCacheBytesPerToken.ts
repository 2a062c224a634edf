import { ggufMetadataValue, type GgufHeader } from './ggufHeader';

/**
 * Bytes of F16 keys + values one token occupies in one sequence's KV cache,
 * from the GGUF header (node-llama-cpp's default cache type is F16). Used to
 * refuse a context that cannot fit before node-llama-cpp sizes it: for some
 * shapes its own estimate allocates in proportion to the context and the
 * process is OOM-killed instead of getting an error. Null when the header
 * lacks the dimensions (then node-llama-cpp's own check is all there is).
 */
export function kvCacheBytesPerToken(header: GgufHeader, architecture: string): number | null {
  const number = (key: string): number | null => {
    const value = ggufMetadataValue(header, `${architecture}.${key}`);
    return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : typeof value === 'bigint' && value > 0n ? Number(value) : null;
  };
  const layers = number('block_count');
  const embedding = number('embedding_length');
  const heads = number('attention.head_count');
  if (layers === null || embedding === null || heads === null) return null;
  const kvHeads = number('attention.head_count_kv') ?? heads;
  const keyLength = number('attention.key_length') ?? embedding / heads;
  const valueLength = number('attention.value_length') ?? embedding / heads;
  const F16_BYTES = 2;
  return layers * kvHeads * (keyLength + valueLength) * F16_BYTES;
}
