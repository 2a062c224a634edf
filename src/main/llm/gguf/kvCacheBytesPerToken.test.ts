import { describe, expect, it } from 'vitest';
import { getModelShape } from '../modelShapes';
import { randomModelSpec } from '../tinyModel';
import { parseGgufHeader } from './ggufHeader';
import { encodeGgufHeader } from './ggufWriter';

import { kvCacheBytesPerToken } from './kvCacheBytesPerToken';

function headerOf(shape: string, drop: string[] = []) {
  const spec = randomModelSpec(shape);
  for (const key of drop) spec.metadata.delete(key);
  return parseGgufHeader(encodeGgufHeader(spec).header);
}

describe('kvCacheBytesPerToken', () => {
  it.each([
    // layers x kv heads x (key + value dims) x 2 bytes
    ['tiny', 2 * 2 * (16 + 16) * 2],
    ['bench-27m', 8 * 8 * (64 + 64) * 2],
  ])('%s: %i bytes per token', (shape, bytes) => {
    const s = getModelShape(shape);
    expect(s.layers * s.kvHeads * 2 * s.headDim * 2).toBe(bytes);
    expect(kvCacheBytesPerToken(headerOf(shape), 'llama')).toBe(bytes);
  });

  it('falls back to head_count when head_count_kv is absent, and to null without the dimensions', () => {
    const s = getModelShape('tiny');
    expect(kvCacheBytesPerToken(headerOf('tiny', ['llama.attention.head_count_kv']), 'llama')).toBe(s.layers * s.heads * 2 * s.headDim * 2);
    expect(kvCacheBytesPerToken(headerOf('tiny', ['llama.block_count']), 'llama')).toBeNull();
    expect(kvCacheBytesPerToken(headerOf('tiny'), 'qwen3')).toBeNull();
  });
});
