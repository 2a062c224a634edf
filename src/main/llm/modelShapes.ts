import { StageBError } from '../../shared/errors';

/**
 * Shapes of the random-weight llama-architecture models this project generates.
 *
 * `qwen3-*` are llama-architecture stand-ins with Qwen3's dimensions (hidden
 * size, layers, heads, KV heads, head dim, FFN width, 151,936-token vocab). They
 * omit Qwen3's per-head q/k RMSNorm, which is a few hundred multiply-adds per
 * token against billions in the matmuls, so prompt and generation throughput,
 * KV-cache size and memory footprint match the real model closely. The weights
 * are random: these models measure speed, never quality.
 */
export type ModelShape = {
  name: string;
  description: string;
  embedding: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  feedForward: number;
  contextLength: number;
  /** Total vocab; the byte tokens and ChatML specials come first, filler tokens pad up to this size. null = no padding. */
  vocabSize: number | null;
  weightType: 'F32' | 'F16' | 'Q8_0';
  ropeFreqBase: number;
  rmsEpsilon: number;
};

export const MODEL_SHAPES: Record<string, ModelShape> = {
  tiny: {
    name: 'tiny',
    // Q8_0, not F32: llama.cpp's CPU matmul for one token row and for several sums F32 weights in different orders,
    // so an F32 model's candidates could not share decode steps and stay exact (checkBatchedDecode).
    description: 'Test fixture: 2 layers, 64 wide, byte vocab, Q8_0 (~0.2 MB, fast on 2 CPU cores).',
    embedding: 64,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    headDim: 16,
    feedForward: 128,
    contextLength: 8192,
    vocabSize: null,
    weightType: 'Q8_0',
    ropeFreqBase: 10000,
    rmsEpsilon: 1e-5,
  },
  'bench-27m': {
    name: 'bench-27m',
    description: 'Benchmark model: 8 layers, 512 wide, ~27M parameters, Q8_0.',
    embedding: 512,
    layers: 8,
    heads: 8,
    kvHeads: 8,
    headDim: 64,
    feedForward: 1536,
    contextLength: 8192,
    vocabSize: null,
    weightType: 'Q8_0',
    ropeFreqBase: 10000,
    rmsEpsilon: 1e-5,
  },
  'qwen3-0.6b': {
    name: 'qwen3-0.6b',
    description: 'Qwen3-0.6B shape (llama-architecture stand-in), Q8_0.',
    embedding: 1024,
    layers: 28,
    heads: 16,
    kvHeads: 8,
    headDim: 128,
    feedForward: 3072,
    contextLength: 40960,
    vocabSize: 151936,
    weightType: 'Q8_0',
    ropeFreqBase: 1_000_000,
    rmsEpsilon: 1e-6,
  },
  'qwen3-8b': {
    name: 'qwen3-8b',
    description: 'Qwen3-8B shape (llama-architecture stand-in), Q8_0, ~8.7 GB.',
    embedding: 4096,
    layers: 36,
    heads: 32,
    kvHeads: 8,
    headDim: 128,
    feedForward: 12288,
    contextLength: 40960,
    vocabSize: 151936,
    weightType: 'Q8_0',
    ropeFreqBase: 1_000_000,
    rmsEpsilon: 1e-6,
  },
  'qwen3-32b': {
    name: 'qwen3-32b',
    description: 'Qwen3-32B shape (llama-architecture stand-in), Q8_0, ~35 GB.',
    embedding: 5120,
    layers: 64,
    heads: 64,
    kvHeads: 8,
    headDim: 128,
    feedForward: 25600,
    contextLength: 40960,
    vocabSize: 151936,
    weightType: 'Q8_0',
    ropeFreqBase: 1_000_000,
    rmsEpsilon: 1e-6,
  },
};

export function modelShapeNames(): string[] {
  return Object.keys(MODEL_SHAPES);
}

export function getModelShape(name: string): ModelShape {
  const shape = MODEL_SHAPES[name];
  if (!shape) {
    throw new StageBError('CONFIG_INVALID', `unknown model shape ${JSON.stringify(name)}; known shapes: ${modelShapeNames().join(', ')}`, { field: 'shape' });
  }
  return shape;
}

/** Parameter count of a shape with a given vocab size (embeddings and output counted separately). */
export function shapeParameterCount(shape: ModelShape, vocab: number): number {
  const e = shape.embedding;
  const q = shape.heads * shape.headDim;
  const kv = shape.kvHeads * shape.headDim;
  const perLayer = e * q + 2 * e * kv + q * e + 3 * e * shape.feedForward + 2 * e;
  return shape.layers * perLayer + 2 * vocab * e + e;
}
