import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageBError } from '../../../shared/errors';
import { GgmlType, GgufValueType } from './ggufFormat';
import { checkGgufFile, parseGgufHeader, readGgufHeader, requiredArchitectureKeys, validateGgufHeader } from './ggufHeader';
import { encodeGgufHeader, floatToHalf, gguf, halfToFloat, writeGguf, type GgufWriteSpec } from './ggufWriter';
import { randomModelSpec } from '../tinyModel';

let dir: string;
let tinyBytes: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stageb-gguf-'));
  await writeGguf(join(dir, 'tiny.gguf'), randomModelSpec('tiny', 7));
  tinyBytes = await readFile(join(dir, 'tiny.gguf'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function withoutKey(spec: GgufWriteSpec, key: string): GgufWriteSpec {
  const metadata = new Map(spec.metadata);
  metadata.delete(key);
  return { ...spec, metadata };
}

async function expectInvalid(promise: Promise<unknown>, field?: string): Promise<StageBError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StageBError);
  const typed = error as StageBError;
  expect(typed.code).toBe('MODEL_INVALID_GGUF');
  if (field !== undefined) expect(typed.location.field).toBe(field);
  return typed;
}

describe('GGUF writer -> reader round trip', () => {
  it('reads back every metadata value type and tensor info', async () => {
    const path = join(dir, 'types.gguf');
    const metadata = new Map([
      ['general.architecture', gguf.str('llama')],
      ['t.u8', { type: GgufValueType.UINT8, value: 200 } as const],
      ['t.i8', { type: GgufValueType.INT8, value: -100 } as const],
      ['t.u16', { type: GgufValueType.UINT16, value: 60000 } as const],
      ['t.i16', { type: GgufValueType.INT16, value: -30000 } as const],
      ['t.u32', gguf.u32(4_000_000_000)],
      ['t.i32', gguf.i32(-2_000_000_000)],
      ['t.f32', gguf.f32(0.5)],
      ['t.f64', gguf.f64(Math.PI)],
      ['t.bool', gguf.bool(true)],
      ['t.u64', gguf.u64(2n ** 40n)],
      ['t.i64', { type: GgufValueType.INT64, value: -(2n ** 40n) } as const],
      ['t.str', gguf.str('通过 ✓')],
      ['t.strs', gguf.arr(GgufValueType.STRING, ['a', '', '不通过'])],
      ['t.ints', gguf.arr(GgufValueType.INT32, [1, -2, 3])],
      ['t.floats', gguf.arr(GgufValueType.FLOAT32, [0.25, -1.5])],
    ]);
    const values = Float32Array.from({ length: 64 }, (_, i) => (i - 32) / 8);
    await writeGguf(path, {
      metadata,
      tensors: [
        { name: 'a', dims: [64], type: GgmlType.F32, data: () => [values] },
        { name: 'b', dims: [32, 2], type: GgmlType.F16, data: () => [values] },
        { name: 'c', dims: [64, 1], type: GgmlType.Q8_0, data: () => [values.subarray(0, 32), values.subarray(32)] },
      ],
    });
    const header = await readGgufHeader(path);
    expect(header.version).toBe(3);
    expect(header.alignment).toBe(32);
    for (const [key, entry] of metadata) expect(header.metadata.get(key)).toEqual(entry);
    expect(header.tensors.map((t) => [t.name, t.dims, t.type])).toEqual([
      ['a', [64], GgmlType.F32],
      ['b', [32, 2], GgmlType.F16],
      ['c', [64, 1], GgmlType.Q8_0],
    ]);
    for (const t of header.tensors) expect(t.offset % 32n).toBe(0n);
    // Tensor data lands where the header says: F32 bytes are the values verbatim.
    const bytes = await readFile(path);
    const aStart = Number(header.dataOffset + header.tensors[0].offset);
    expect(Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset + aStart, bytes.byteOffset + aStart + 256)))).toEqual(Array.from(values));
    expect(BigInt(bytes.length)).toBe(header.fileSize);
  });

  it('encodes halves exactly for representable values', () => {
    for (const v of [0, 1, -2, 0.5, 65504, 2 ** -14, 2 ** -24, -0.000030517578125]) expect(halfToFloat(floatToHalf(v))).toBe(v);
    expect(halfToFloat(floatToHalf(1e6))).toBe(Infinity);
    expect(Math.abs(halfToFloat(floatToHalf(0.1)) - 0.1)).toBeLessThan(1e-4);
  });

  it('accepts the generated tiny model', async () => {
    const { architecture, header } = await checkGgufFile(join(dir, 'tiny.gguf'));
    expect(architecture).toBe('llama');
    expect((header.metadata.get('tokenizer.ggml.tokens')?.value as string[]).length).toBe(259);
  });
});

describe('validateGgufHeader', () => {
  const required = [
    'general.architecture',
    ...requiredArchitectureKeys('llama'),
    'tokenizer.ggml.model',
    'tokenizer.ggml.tokens',
    'tokenizer.ggml.merges',
  ];

  it.each(required)('refuses a file without %s, naming the key', async (key) => {
    const path = join(dir, `missing-${key}.gguf`);
    await writeGguf(path, withoutKey(randomModelSpec('tiny', 7), key));
    const error = await expectInvalid(checkGgufFile(path), key);
    expect(error.location.file).toBe(path);
    expect(error.message).toContain(key);
  });

  it('refuses a hyperparameter of the wrong type', async () => {
    const spec = randomModelSpec('tiny', 7);
    spec.metadata.set('llama.block_count', gguf.str('two'));
    const path = join(dir, 'wrong-type.gguf');
    await writeGguf(path, spec);
    await expectInvalid(checkGgufFile(path), 'llama.block_count');
  });

  it('refuses a truncated file, naming the first tensor that does not fit', async () => {
    const path = join(dir, 'truncated.gguf');
    await writeFile(path, tinyBytes);
    await truncate(path, tinyBytes.length - 1000);
    const error = await expectInvalid(checkGgufFile(path));
    expect(error.location.field).toMatch(/^tensor:/);
    expect(error.message).toContain('truncated');
  });

  it('refuses a file cut inside the header', async () => {
    const path = join(dir, 'cut-header.gguf');
    await writeFile(path, tinyBytes.subarray(0, 3000));
    await expectInvalid(checkGgufFile(path));
  });
});

describe('readGgufHeader on bad input', () => {
  it('reports a missing file as MODEL_NOT_FOUND', async () => {
    const error = await readGgufHeader(join(dir, 'nope.gguf')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StageBError);
    expect((error as StageBError).code).toBe('MODEL_NOT_FOUND');
  });

  it('refuses a zero-length file', async () => {
    const path = join(dir, 'empty.gguf');
    await writeFile(path, '');
    await expectInvalid(readGgufHeader(path), 'magic');
  });

  it('refuses random garbage', async () => {
    const path = join(dir, 'garbage.gguf');
    await writeFile(path, Buffer.from('this is not a model, just some text that goes on for a while'));
    await expectInvalid(readGgufHeader(path), 'magic');
  });

  it('refuses huge fake counts without allocating for them', async () => {
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0x46554747, 0);
    header.writeUInt32LE(3, 4);
    header.writeBigUInt64LE(0n, 8);
    header.writeBigUInt64LE(2n ** 60n, 16);
    const path = join(dir, 'huge-kv.gguf');
    await writeFile(path, header);
    await expectInvalid(readGgufHeader(path), 'kv_count');

    header.writeBigUInt64LE(2n ** 62n, 8);
    header.writeBigUInt64LE(1n, 16);
    await expectInvalid(Promise.resolve().then(() => parseGgufHeader(header)), 'tensor_count');

    // One key whose string length claims 2^60 bytes.
    const key = Buffer.alloc(64);
    key.writeUInt32LE(0x46554747, 0);
    key.writeUInt32LE(3, 4);
    key.writeBigUInt64LE(0n, 8);
    key.writeBigUInt64LE(1n, 16);
    key.writeBigUInt64LE(2n ** 60n, 24);
    await expectInvalid(Promise.resolve().then(() => parseGgufHeader(key)), 'metadata[0].key');

    // A string array claiming 2^50 entries.
    const spec = encodeGgufHeader({ metadata: new Map([['general.architecture', gguf.arr(GgufValueType.STRING, ['x'])]]), tensors: [] }).header;
    const patched = Buffer.from(spec);
    const countOffset = 24 + 8 + 'general.architecture'.length + 4 + 4;
    patched.writeBigUInt64LE(2n ** 50n, countOffset);
    await expectInvalid(Promise.resolve().then(() => parseGgufHeader(patched)), 'general.architecture');
  });

  it('property: random and mutated bytes give a StageBError or a valid header, never anything else', () => {
    const head = tinyBytes.subarray(0, 8192);
    const check = (bytes: Uint8Array) => {
      try {
        const header = parseGgufHeader(bytes, 'fuzz.gguf');
        validateGgufHeader(header, 'fuzz.gguf');
      } catch (error) {
        if (!(error instanceof StageBError)) throw error;
        expect(error.code).toBe('MODEL_INVALID_GGUF');
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => check(bytes)), { numRuns: 300 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(head.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.nat(head.length),
        (mutations, cut) => {
          const bytes = Buffer.from(head.subarray(0, Math.max(cut, 1)));
          for (const [at, value] of mutations) if (at < bytes.length) bytes[at] = value;
          check(bytes);
        },
      ),
      { numRuns: 500 },
    );
  });
});
