import fc from 'fast-check';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ingestStageA } from '../../src/main/io/ingestStageA';
import { loadInitialGuidance, utf8ByteTokenCount } from '../../src/main/io/loadInitialGuidance';
import { loadRunConfig } from '../../src/main/io/loadRunConfig';
import { GuidanceRepository } from '../../src/main/io/GuidanceRepository';
import { readJsonl } from '../../src/main/io/jsonl';
import { readJsonFile } from '../../src/main/io/readJsonFile';
import { firstInvalidUtf8Offset } from '../../src/main/io/utf8';
import type { ErrorCode } from '../../src/shared/errors';
import { RUNS, countCase, expectTypedError, printCounts, withoutDiskWrites } from './fuzzSupport';

/**
 * Invalid bytes in every input file (issue #21 §2 and §6): a valid Stage-A file, guidance
 * file, run config, run-directory JSON and JSONL log, each with a random byte sequence
 * inserted or written over it. Every load either succeeds or throws a typed error (never
 * INTERNAL); whenever the bytes are not UTF-8 it is the encoding error of that file type,
 * naming the file, the line and the byte offset of the first bad byte — never U+FFFD
 * silently. The validator itself is checked against the WHATWG decoder (TextDecoder fatal).
 */
const MISSION = 'BBU接地线检查';

/** Byte sequences that are not UTF-8, and random bytes (no newline: the line structure stays). */
const BAD_SEQUENCES = [[0x80], [0xbf], [0xff], [0xfe], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80], [0xe6, 0x97], [0xe6, 0x41], [0xf0, 0x9f, 0x98]];
const badBytes = fc.oneof(
  fc.constantFrom(...BAD_SEQUENCES).map((bytes) => Uint8Array.from(bytes)),
  fc.uint8Array({ minLength: 1, maxLength: 6 }).map((bytes) => bytes.map((b) => (b === 0x0a ? 0x80 : b))),
);
const mutation = fc.record({ at: fc.nat(), bytes: badBytes, how: fc.constantFrom('insert', 'overwrite') });

function mutate(source: Buffer, m: { at: number; bytes: Uint8Array; how: 'insert' | 'overwrite' }): Buffer {
  // Never touch the final newline: a torn last line of a log is a crash artifact, tested elsewhere.
  const limit = source[source.length - 1] === 0x0a ? source.length - 1 : source.length;
  const at = m.at % Math.max(1, limit);
  const tailStart = m.how === 'insert' ? at : Math.min(limit, at + m.bytes.length);
  return Buffer.concat([source.subarray(0, at), m.bytes, source.subarray(tailStart)]);
}

function lineOf(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

let dir: string;
const sources: Record<string, Buffer> = {};
const stageALines = [
  { group_id: 'QC-1', mission: MISSION, label: 'pass', images: ['a.jpg'], per_image: { image_1: '接地线/已连接×1，BBU设备/华为×1' } },
  { group_id: 'QC-2', mission: MISSION, label: 'fail', per_image: { image_1: '{"统计":[{"类别":"接地线","属性":["未连接"],"数量":1}]}', image_2: '无关图片' } },
  { group_id: 'QC-3', mission: MISSION, label: '不通过', per_image: { image_1: '螺丝/未紧固×2，备注:光线较暗' } },
];

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stageb-input-bytes-'));
  sources.stageA = Buffer.from(stageALines.map((line) => JSON.stringify(line)).join('\n') + '\n');
  sources.guidance = Buffer.from(
    JSON.stringify({ [MISSION]: { step: 2, updated_at: '2026-01-01T00:00:00.000Z', experiences: { G0: '检查接地线是否连接到接地排。', G1: '接地线松动判为不通过。' }, metadata: { G1: { origin: 'reflection', reflection_id: 'r1', updated_at: '2026-01-02T00:00:00Z' } } } }, null, 2) + '\n',
  );
  sources.config = Buffer.from(
    ['run_name: bytes', 'seed: 1', `mission: ${MISSION}`, 'stage_a_paths:', '  - 输入/stage_a.jsonl', 'guidance:', '  path: 指导.json', 'model:', '  backend: llama-cpp', '  path: 模型.gguf', 'sampler:', '  candidates: 2', ''].join('\n'),
  );
  sources.runJson = Buffer.from(JSON.stringify({ note: '运行', items: ['接地', 'BBU'] }, null, 2) + '\n');
  sources.runJsonl = Buffer.from([{ id: 1, text: '接地线' }, { id: 2, text: 'BBU设备' }, { id: 3, text: '挡风板' }].map((row) => JSON.stringify(row)).join('\n') + '\n');
});

afterAll(async () => {
  printCounts('inputBytes');
  await fsp.rm(dir, { recursive: true, force: true });
});

type Loader = { name: string; source: string; fileName: string; encodingCode: ErrorCode; load: (file: string) => Promise<unknown> };

const LOADERS: Loader[] = [
  { name: 'Stage-A JSONL (ingestStageA)', source: 'stageA', fileName: 'stage_a.jsonl', encodingCode: 'INPUT_INVALID_UTF8', load: (file) => ingestStageA({ paths: [file], mission: MISSION }) },
  {
    name: 'initial guidance (loadInitialGuidance)',
    source: 'guidance',
    fileName: 'guidance.json',
    encodingCode: 'GUIDANCE_INVALID',
    load: (file) => loadInitialGuidance(file, MISSION, { countTokens: utf8ByteTokenCount, maxTokens: 100_000 }),
  },
  { name: 'run guidance (GuidanceRepository.read)', source: 'guidance', fileName: 'guidance.json', encodingCode: 'GUIDANCE_INVALID', load: (file) => new GuidanceRepository({ path: file, mission: MISSION }).read() },
  { name: 'run config (loadRunConfig)', source: 'config', fileName: 'run.yaml', encodingCode: 'CONFIG_INVALID', load: (file) => loadRunConfig(file) },
  { name: 'run-directory JSON (readJsonFile)', source: 'runJson', fileName: 'telemetry.json', encodingCode: 'INPUT_INVALID_UTF8', load: (file) => readJsonFile(file, z.unknown()) },
  {
    name: 'run-directory JSONL log (readJsonl)',
    source: 'runJsonl',
    fileName: 'selections.jsonl',
    encodingCode: 'INPUT_INVALID_UTF8',
    load: (file) => readJsonl(file, z.object({ id: z.number(), text: z.string() })),
  },
];

describe('invalid bytes in every input file', () => {
  it('firstInvalidUtf8Offset agrees with the WHATWG decoder: -1 exactly for valid UTF-8, else the prefix before it decodes', async () => {
    const fatal = new TextDecoder('utf-8', { fatal: true });
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.tuple(fc.string({ unit: 'grapheme', maxLength: 20 }), mutation).map(([text, m]) => new Uint8Array(mutate(Buffer.from(text + '\n'), m))),
      fc.string({ unit: 'binary', maxLength: 20 }).map((text) => new Uint8Array(Buffer.from(text))),
    );
    const { writes } = await withoutDiskWrites(() => {
      fc.assert(
        fc.property(bytes, (input) => {
          countCase('utf8Validator');
          const offset = firstInvalidUtf8Offset(input);
          let valid = true;
          try {
            fatal.decode(input);
          } catch {
            valid = false;
          }
          expect(offset === -1).toBe(valid);
          if (offset !== -1) {
            expect(() => fatal.decode(input.subarray(0, offset))).not.toThrow();
            // The sequence starting there is bad however it continues.
            expect(() => fatal.decode(input.subarray(offset, offset + 4))).toThrow();
          }
        }),
        { numRuns: RUNS * 3, seed: 2101 },
      );
    });
    expect(writes).toEqual([]);
  });

  for (const loader of LOADERS) {
    it(`${loader.name}: loads, or a typed error; bytes that are not UTF-8 are refused naming file, line and byte offset`, async () => {
      const caseDir = path.join(dir, loader.name.replace(/[^a-z]+/gi, '_'));
      await fsp.mkdir(caseDir, { recursive: true });
      const file = path.join(caseDir, loader.fileName);
      let refusedEncoding = 0;
      await fc.assert(
        fc.asyncProperty(mutation, async (m) => {
          countCase(loader.source);
          const bytes = mutate(sources[loader.source], m);
          await fsp.writeFile(file, bytes);
          const before = (await fsp.readdir(caseDir)).sort();
          const invalidAt = firstInvalidUtf8Offset(bytes);
          let error = null;
          try {
            await loader.load(file);
          } catch (thrown) {
            error = expectTypedError(thrown);
          }
          // Reading never writes beside the file it reads.
          expect((await fsp.readdir(caseDir)).sort()).toEqual(before);
          if (invalidAt === -1) {
            if (error) expect(error.code).not.toBe('INTERNAL');
            if (error) expect(error.message).not.toContain('not valid UTF-8');
            return;
          }
          expect(error, 'invalid UTF-8 must be refused').not.toBeNull();
          expect(error!.code).toBe(loader.encodingCode);
          expect(error!.location.file).toBe(file);
          expect(error!.location.line).toBe(lineOf(bytes, invalidAt));
          expect(error!.message).toContain(`byte offset ${invalidAt} `);
          refusedEncoding++;
        }),
        { numRuns: Math.max(20, Math.floor(RUNS / 4)), seed: 2102 + LOADERS.indexOf(loader) },
      );
      expect(refusedEncoding).toBeGreaterThan(0);
    });
  }
});
