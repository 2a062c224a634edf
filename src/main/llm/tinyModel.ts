import { lstat, mkdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { StageBError } from '../../shared/errors';
import { holdTempPath, removeLeftoverTempFiles, tempPathFor } from '../io/tempFiles';
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

/** Writes a random-weight model to `out` (via a temp file + rename, so readers never see a partial file). */
export async function createRandomModel(options: RandomModelOptions): Promise<RandomModelResult> {
  const shape = resolveShape(options.shape);
  const seed = options.seed ?? TINY_MODEL_SEED;
  const vocabSize = buildByteLevelVocab(shape.vocabSize).tokens.length;
  await mkdir(dirname(options.out), { recursive: true });
  const tmp = tempPathFor(options.out);
  const hold = holdTempPath(tmp);
  try {
    const bytes = await writeGguf(tmp, randomModelSpec(shape, seed));
    await rename(tmp, options.out);
    return { path: options.out, bytes, shape, seed, vocabSize };
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  } finally {
    hold.release();
  }
}

export function createTinyModel(options: { out: string; seed?: number }): Promise<RandomModelResult> {
  return createRandomModel({ out: options.out, seed: options.seed, shape: 'tiny' });
}

/**
 * Creates the tiny model at `path` unless the current tiny model is already there
 * (`stageb demo` for its config's model file, and the test helpers; never a run or a
 * backend, which only load models). It writes only where nothing is, or over a tiny model an
 * earlier version of this generator wrote (another weight type or seed), recognised by its
 * GGUF metadata (`general.name` stageb-random-tiny, `stageb.shape` tiny). Any other valid
 * GGUF is left alone and used. Anything else at `path` — a file that is not a readable
 * GGUF (someone's data, a model cut short), a folder, a dangling symlink or a symlink
 * loop — is refused with a typed error naming the path, and left as it was.
 *
 * Safe when several processes call it at once: each writes its own temp file and the
 * rename is atomic; the files are byte-identical because the seed is fixed. Temp files
 * that writers killed mid-write left next to `path` are removed first.
 */
export async function ensureTinyModel(path: string, seed: number = TINY_MODEL_SEED, options: { onWrite?: (file: string) => void } = {}): Promise<string> {
  const target = await writableTarget(path, CONFIG_PATH);
  await removeLeftoverTempFiles(dirname(target.file), { targets: (name) => name === basename(target.file) });
  if (target.present) {
    let header: GgufHeader;
    try {
      header = await readGgufHeader(target.file);
    } catch (error) {
      throw new StageBError(
        'MODEL_INVALID_GGUF',
        `the model path ${path} is not a readable GGUF (${error instanceof StageBError ? error.message : String(error)}); ` +
          'the tiny model is written only where no file is or over its own earlier tiny model, so this file was left as it is. Move or delete it, or point model.path elsewhere',
        { file: path, field: 'model.path' },
      );
    }
    if (!isTinyModelOfOurs(header)) {
      // Someone's own model: not ours to replace, and loadable as configured.
      validateGgufHeader(header, path);
      return path;
    }
    if (!isEarlierTinyModel(header, seed)) {
      validateGgufHeader(header, path);
      return path;
    }
  }
  await createTinyModel({ out: target.file, seed });
  options.onWrite?.(target.file);
  return path;
}

/**
 * `stageb model tiny|random --out`: writes a random model where nothing is, or over a
 * random model this generator wrote (any shape, seed or version, recognised by its GGUF
 * metadata). Anything else at `out` — someone's model, a file that is not a GGUF, a
 * folder, a dangling symlink or a loop — is refused with a typed error naming the path,
 * and left as it was. Temp files that killed writers left next to `out` are removed first.
 */
export async function writeRandomModel(options: RandomModelOptions): Promise<RandomModelResult> {
  const target = await writableTarget(options.out, OUT_FLAG);
  await removeLeftoverTempFiles(dirname(target.file), { targets: (name) => name === basename(target.file) });
  if (target.present) {
    const header = await readGgufHeader(target.file).catch(() => null);
    if (header === null || !isRandomModelOfOurs(header)) {
      throw new StageBError(
        header === null ? 'MODEL_INVALID_GGUF' : 'IO_WRITE_FAILED',
        `${options.out} ${header === null ? 'is a file that is not a readable GGUF' : 'is a GGUF this generator did not write'}; it was left as it is and nothing was written. ${OUT_FLAG.remedy}`,
        { file: options.out },
      );
    }
  }
  const result = await createRandomModel({ ...options, out: target.file });
  return { ...result, path: options.out };
}

/** How a refusal names the path it was given: a config key, or the command's flag. */
type PathOrigin = { field?: string; remedy: string };
const CONFIG_PATH: PathOrigin = { field: 'model.path', remedy: 'Point model.path at a .gguf file or at a path where nothing is' };
const OUT_FLAG: PathOrigin = { remedy: 'Pass --out a path where nothing is, or a random model written earlier' };

/** Where the tiny model may be written for `path`: the file itself, or a symlink's existing target. */
async function writableTarget(path: string, origin: PathOrigin): Promise<{ file: string; present: boolean }> {
  const refuse = (why: string, code: 'MODEL_NOT_FOUND' | 'MODEL_INVALID_GGUF' | 'IO_READ_FAILED' = 'MODEL_INVALID_GGUF'): never => {
    throw new StageBError(code, `the model path ${path} ${why}; nothing was written. ${origin.remedy}`, {
      file: path,
      ...(origin.field ? { field: origin.field } : {}),
    });
  };
  let link;
  try {
    link = await lstat(path);
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') return { file: path, present: false };
    if (errno === 'ENOTDIR') return refuse('lies under a file, not a folder', 'MODEL_NOT_FOUND');
    return refuse(`cannot be inspected (${errno ?? (error as Error).message})`, 'IO_READ_FAILED');
  }
  if (link.isDirectory()) return refuse('is a folder, not a model file', 'MODEL_NOT_FOUND');
  if (link.isSymbolicLink()) {
    let resolved: string;
    try {
      resolved = await realpath(path);
    } catch (error) {
      const errno = (error as NodeJS.ErrnoException).code;
      if (errno === 'ELOOP') return refuse('is a symlink loop', 'MODEL_NOT_FOUND');
      if (errno === 'ENOENT') return refuse('is a symlink to nothing', 'MODEL_NOT_FOUND');
      return refuse(`is a symlink that cannot be followed (${errno ?? (error as Error).message})`, 'IO_READ_FAILED');
    }
    const info = await stat(resolved);
    if (info.isDirectory()) return refuse('is a symlink to a folder, not a model file', 'MODEL_NOT_FOUND');
    if (!info.isFile()) return refuse('is a symlink to something that is not a regular file');
    return { file: resolved, present: true };
  }
  if (!link.isFile()) return refuse('is not a regular file');
  return { file: path, present: true };
}

/** A random model of this generator, whatever its shape or version: its own name prefix and shape key. */
function isRandomModelOfOurs(header: GgufHeader): boolean {
  const name = ggufMetadataValue(header, 'general.name');
  return typeof name === 'string' && name.startsWith('stageb-random-') && typeof ggufMetadataValue(header, 'stageb.shape') === 'string';
}

/** The tiny model of this generator, whatever its version: its own name and shape key. */
function isTinyModelOfOurs(header: GgufHeader): boolean {
  return ggufMetadataValue(header, 'general.name') === 'stageb-random-tiny' && ggufMetadataValue(header, 'stageb.shape') === 'tiny';
}

function isEarlierTinyModel(header: GgufHeader, seed: number): boolean {
  const value = (key: string) => ggufMetadataValue(header, key);
  return value('general.file_type') !== FILE_TYPE[getModelShape('tiny').weightType] || value('stageb.seed') !== seed;
}
