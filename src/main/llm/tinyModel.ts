import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createRng, deriveSeed } from '../../shared/random';
import { GgmlType, GgufValueType } from './gguf/ggufFormat';
import { gguf, writeGguf, type GgufWriteSpec, type GgufMetadata, type GgufTensorSpec, type GgufWritableType } from './gguf/ggufWriter';
import { ggufMetadataValue, readGgufHeader, validateGgufHeader, type GgufHeader } from './gguf/ggufHeader';
import { CHATML_TEMPLATE, buildByteLevelVocab } from './byteLevelVocab';
import { getModelShape, type ModelShape } from './modelShapes';

/**
 * Random-weight llama-architecture GGUF models with a byte-level ChatML
 * tokenizer. The tiny one is the test and demo fixture; larger shapes serve
 * benchmarks. Weights come from the project's seeded RNG, so a (shape, seed)
 * pair always yields byte-identical files.
 */
export const TINY_MODEL_SEED = 20250101;

export type RandomModelOptions = { out: string; seed?: number; shape?: string | ModelShape };
export type RandomModelResult = { path: string; bytes: number; shape: ModelShape; seed: number; vocabSize: number };

const WEIGHT_TYPE: Record<ModelShape['weightType'], GgufWritableType> = {
  F32: GgmlType.F32,
  F16: GgmlType.F16,
  Q8_0: GgmlType.Q8_0,
};

const FILE_TYPE: Record<ModelShape['weightType'], number> = { F32: 0, F16: 1, Q8_0: 7 };

const CHUNK = 1 << 16;

/** Uniform values in [-scale, scale], streamed in chunks from a per-tensor seed. */
function randomSource(seed: number, count: number, scale: number): () => Iterable<Float32Array> {
  return function* () {
    const rng = createRng(seed);
    let left = count;
    while (left > 0) {
      const n = Math.min(left, CHUNK);
      const chunk = new Float32Array(n);
      for (let i = 0; i < n; i++) chunk[i] = (rng() * 2 - 1) * scale;
      left -= n;
      yield chunk;
    }
  };
}

function constantSource(count: number, value: number): () => Iterable<Float32Array> {
  return function* () {
    yield new Float32Array(count).fill(value);
  };
}

function modelMetadata(shape: ModelShape, seed: number, vocab: ReturnType<typeof buildByteLevelVocab>): GgufMetadata {
  const m: GgufMetadata = new Map();
  m.set('general.architecture', gguf.str('llama'));
  m.set('general.name', gguf.str(`stageb-random-${shape.name}`));
  m.set('general.description', gguf.str(`Random weights (seed ${seed}); ${shape.description}`));
  m.set('general.file_type', gguf.u32(FILE_TYPE[shape.weightType]));
  m.set('stageb.shape', gguf.str(shape.name));
  m.set('stageb.seed', gguf.u32(seed));
  m.set('llama.vocab_size', gguf.u32(vocab.tokens.length));
  m.set('llama.context_length', gguf.u32(shape.contextLength));
  m.set('llama.embedding_length', gguf.u32(shape.embedding));
  m.set('llama.block_count', gguf.u32(shape.layers));
  m.set('llama.feed_forward_length', gguf.u32(shape.feedForward));
  m.set('llama.attention.head_count', gguf.u32(shape.heads));
  m.set('llama.attention.head_count_kv', gguf.u32(shape.kvHeads));
  m.set('llama.attention.key_length', gguf.u32(shape.headDim));
  m.set('llama.attention.value_length', gguf.u32(shape.headDim));
  m.set('llama.attention.layer_norm_rms_epsilon', gguf.f32(shape.rmsEpsilon));
  m.set('llama.rope.dimension_count', gguf.u32(shape.headDim));
  m.set('llama.rope.freq_base', gguf.f32(shape.ropeFreqBase));
  m.set('tokenizer.ggml.model', gguf.str('gpt2'));
  m.set('tokenizer.ggml.pre', gguf.str('default'));
  m.set('tokenizer.ggml.tokens', gguf.arr(GgufValueType.STRING, vocab.tokens));
  m.set('tokenizer.ggml.token_type', gguf.arr(GgufValueType.INT32, vocab.tokenTypes));
  m.set('tokenizer.ggml.merges', gguf.arr(GgufValueType.STRING, []));
  m.set('tokenizer.ggml.bos_token_id', gguf.u32(vocab.bosId));
  m.set('tokenizer.ggml.eos_token_id', gguf.u32(vocab.eosId));
  m.set('tokenizer.ggml.padding_token_id', gguf.u32(vocab.paddingId));
  m.set('tokenizer.ggml.add_bos_token', gguf.bool(false));
  m.set('tokenizer.ggml.add_eos_token', gguf.bool(false));
  m.set('tokenizer.chat_template', gguf.str(CHATML_TEMPLATE));
  return m;
}

function modelTensors(shape: ModelShape, seed: number, vocabSize: number): GgufTensorSpec[] {
  const type = WEIGHT_TYPE[shape.weightType];
  const e = shape.embedding;
  const q = shape.heads * shape.headDim;
  const kv = shape.kvHeads * shape.headDim;
  const ff = shape.feedForward;
  // Scales keep activations O(1) through the residual stream so logits are not flat.
  const matrix = (name: string, rows: number, cols: number, t: GgufWritableType = type): GgufTensorSpec => ({
    name,
    dims: [cols, rows],
    type: t,
    data: randomSource(deriveSeed(seed, name), rows * cols, Math.sqrt(3 / cols)),
  });
  const norm = (name: string): GgufTensorSpec => ({ name, dims: [e], type: GgmlType.F32, data: constantSource(e, 1) });
  const tensors: GgufTensorSpec[] = [
    { name: 'token_embd.weight', dims: [e, vocabSize], type, data: randomSource(deriveSeed(seed, 'token_embd'), vocabSize * e, 1) },
  ];
  for (let l = 0; l < shape.layers; l++) {
    const p = `blk.${l}.`;
    tensors.push(
      norm(`${p}attn_norm.weight`),
      matrix(`${p}attn_q.weight`, q, e),
      matrix(`${p}attn_k.weight`, kv, e),
      matrix(`${p}attn_v.weight`, kv, e),
      matrix(`${p}attn_output.weight`, e, q),
      norm(`${p}ffn_norm.weight`),
      matrix(`${p}ffn_gate.weight`, ff, e),
      matrix(`${p}ffn_up.weight`, ff, e),
      matrix(`${p}ffn_down.weight`, e, ff),
    );
  }
  tensors.push(norm('output_norm.weight'), matrix('output.weight', vocabSize, e));
  return tensors;
}

/** The full GGUF description of a random model (tests edit it to build broken files). */
export function randomModelSpec(shape: ModelShape | string, seed: number = TINY_MODEL_SEED): GgufWriteSpec {
  const resolved = resolveShape(shape);
  const vocab = buildByteLevelVocab(resolved.vocabSize);
  return { metadata: modelMetadata(resolved, seed, vocab), tensors: modelTensors(resolved, seed, vocab.tokens.length) };
}

function resolveShape(shape: RandomModelOptions['shape']): ModelShape {
  if (shape === undefined) return getModelShape('tiny');
  return typeof shape === 'string' ? getModelShape(shape) : shape;
}

function tmpPathFor(out: string): string {
  return `${out}.tmp-${process.pid}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
}

/** Writes a random-weight model to `out` (via a temp file + rename, so readers never see a partial file). */
export async function createRandomModel(options: RandomModelOptions): Promise<RandomModelResult> {
  const shape = resolveShape(options.shape);
  const seed = options.seed ?? TINY_MODEL_SEED;
  const vocabSize = buildByteLevelVocab(shape.vocabSize).tokens.length;
  await mkdir(dirname(options.out), { recursive: true });
  const tmp = tmpPathFor(options.out);
  try {
    const bytes = await writeGguf(tmp, randomModelSpec(shape, seed));
    await rename(tmp, options.out);
    return { path: options.out, bytes, shape, seed, vocabSize };
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

export function createTinyModel(options: { out: string; seed?: number }): Promise<RandomModelResult> {
  return createRandomModel({ out: options.out, seed: options.seed, shape: 'tiny' });
}

/**
 * Creates the tiny model at `path` unless the current tiny model is already
 * there. Safe when several processes call it at once: each writes its own temp
 * file and the rename is atomic; the files are byte-identical because the seed
 * is fixed. A broken file, or a tiny model written by an earlier version of this
 * generator (another weight type or seed), is replaced: both are ours. Any other
 * valid GGUF is left alone.
 */
export async function ensureTinyModel(path: string, seed: number = TINY_MODEL_SEED): Promise<string> {
  const present = await stat(path).then((s) => s.isFile() && s.size > 0, () => false);
  if (present) {
    try {
      const header = await readGgufHeader(path);
      validateGgufHeader(header, path);
      if (!isEarlierTinyModel(header, seed)) return path;
    } catch {
      // A broken file at the fixture path is regenerated rather than reported: it is ours.
    }
  }
  await createTinyModel({ out: path, seed });
  return path;
}

function isEarlierTinyModel(header: GgufHeader, seed: number): boolean {
  const value = (key: string) => ggufMetadataValue(header, key);
  if (value('general.name') !== 'stageb-random-tiny') return false;
  return value('general.file_type') !== FILE_TYPE[getModelShape('tiny').weightType] || value('stageb.seed') !== seed;
}
