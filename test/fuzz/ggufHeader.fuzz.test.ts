import * as fs from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGgufHeader, validateGgufHeader } from '../../src/main/llm/gguf/ggufHeader';
import { ensureTinyModelForTests } from '../helpers/tinyModel';
import { RUNS, countCase, expectTypedError, printCounts, withoutDiskWrites } from './fuzzSupport';

/** The GGUF header check on random and mutated bytes (issue §3): a header or MODEL_INVALID_GGUF, never a crash. */
let header: Uint8Array;
let fileSize: bigint;

beforeAll(async () => {
  const model = await ensureTinyModelForTests();
  const bytes = await fs.readFile(model);
  fileSize = BigInt(bytes.length);
  header = new Uint8Array(bytes.subarray(0, Math.min(bytes.length, 64 * 1024)));
});

afterAll(() => printCounts('ggufHeader'));

function check(bytes: Uint8Array, size: bigint): void {
  try {
    const parsed = parseGgufHeader(bytes, 'fuzz.gguf', size);
    expect(parsed.dataOffset <= size).toBe(true);
    try {
      validateGgufHeader(parsed, 'fuzz.gguf');
    } catch (error) {
      expect(expectTypedError(error).code).toBe('MODEL_INVALID_GGUF');
    }
  } catch (error) {
    expect(expectTypedError(error).code).toBe('MODEL_INVALID_GGUF');
  }
}

describe('GGUF header fuzz', () => {
  it('the real tiny model header parses and validates (the seed of the mutations)', () => {
    const parsed = parseGgufHeader(header, 'tiny.gguf', fileSize);
    expect(validateGgufHeader(parsed, 'tiny.gguf')).toBeTruthy();
  });

  it('random bytes, and the real header with bytes flipped, cut, zeroed or maxed, give a header or MODEL_INVALID_GGUF', async () => {
    const mutation = fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(), fc.constantFrom('flip', 'cut', 'zero', 'max', 'small-size')).map(([flips, cutAt, how]) => {
      const bytes = new Uint8Array(header);
      // Most of the interesting structure is in the first few hundred bytes.
      const at = (n: number) => (n % 4 === 0 ? n % bytes.length : n % Math.min(bytes.length, 512));
      let size = fileSize;
      if (how === 'flip') for (const [i, v] of flips) bytes[at(i)] = v;
      if (how === 'zero') for (const [i] of flips) bytes.fill(0, at(i), at(i) + 8);
      if (how === 'max') for (const [i] of flips) bytes.fill(0xff, at(i), at(i) + 8);
      if (how === 'small-size') size = BigInt(cutAt % Number(fileSize));
      const body = how === 'cut' ? bytes.subarray(0, cutAt % bytes.length) : bytes;
      return { body, size: how === 'cut' ? BigInt(body.length) : size };
    });
    const random = fc.uint8Array({ maxLength: 256 }).map((body) => ({ body, size: BigInt(body.length) }));
    const magicRandom = fc.uint8Array({ maxLength: 256 }).map((tail) => {
      const body = new Uint8Array(8 + tail.length);
      body.set([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]);
      body.set(tail, 8);
      return { body, size: BigInt(body.length) };
    });
    const { writes } = await withoutDiskWrites(() => {
      fc.assert(
        fc.property(fc.oneof(mutation, random, magicRandom), ({ body, size }) => {
          countCase('parseGgufHeader+validateGgufHeader');
          check(body, size);
        }),
        { numRuns: RUNS * 3, seed: 601 },
      );
    });
    expect(writes).toEqual([]);
  });
});
