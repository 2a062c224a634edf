import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { StageBError } from '../../shared/errors';
import { appendJsonl, readJsonl, readJsonlLenient, readJsonlLines, writeJsonAtomic, writeJsonlAtomic, type JsonlFileIo } from './jsonl';

const RowSchema = z.object({ id: z.number().int(), per_image: z.record(z.string(), z.string()) }).strict();

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'jsonl-test-'));
});
afterEach(async () => {
  await fsp.chmod(dir, 0o755).catch(() => undefined);
  await fsp.rm(dir, { recursive: true, force: true });
});

async function expectStageBError(promise: Promise<unknown>): Promise<StageBError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StageBError);
    return error as StageBError;
  }
  throw new Error('expected a StageBError, but the call succeeded');
}

/** A real fs whose data writes fail as a full disk does; everything else is the real thing. */
function diskFullIo(): JsonlFileIo {
  return {
    open: (async (...args: Parameters<typeof fsp.open>) => {
      const handle = await fsp.open(...args);
      return new Proxy(handle, {
        get(target, prop, receiver) {
          if (prop === 'write') {
            return async () => {
              throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
            };
          }
          const value = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    }) as typeof fsp.open,
  };
}

describe('readJsonl', () => {
  it('reads rows, skips blank lines, handles CRLF and a BOM', async () => {
    const file = path.join(dir, 'a.jsonl');
    await fsp.writeFile(file, '\uFEFF{"id":1,"per_image":{"image_1":"x"}}\r\n\n{"id":2,"per_image":{}}\n');
    const { rows, tornTail } = await readJsonl(file, RowSchema);
    expect(rows.map((r) => r.id)).toEqual([1, 2]);
    expect(tornTail).toBeNull();
  });

  it('names file, 1-based line and field path of an ill-typed field, and collects later errors in details', async () => {
    const file = path.join(dir, 'bad.jsonl');
    await fsp.writeFile(
      file,
      ['{"id":1,"per_image":{"image_1":"ok"}}', '{"id":2,"per_image":{"image_1":"ok","image_2":7}}', 'not json', ''].join('\n'),
    );
    const error = await expectStageBError(readJsonl(file, RowSchema));
    expect(error.code).toBe('INPUT_INVALID_FIELD');
    expect(error.location).toEqual({ file, line: 2, field: 'per_image.image_2' });
    expect(error.format()).toContain(`${file}:2 field per_image.image_2`);
    const details = error.details as { code: string; line: number }[];
    expect(details.map((d) => [d.code, d.line])).toEqual([
      ['INPUT_INVALID_FIELD', 2],
      ['INPUT_MALFORMED_JSON', 3],
    ]);
  });

  it('reports a malformed terminated line as INPUT_MALFORMED_JSON', async () => {
    const file = path.join(dir, 'm.jsonl');
    await fsp.writeFile(file, '{"id":1,"per_image":{}}\n{"id":2,\n');
    const error = await expectStageBError(readJsonl(file, RowSchema));
    expect(error.code).toBe('INPUT_MALFORMED_JSON');
    expect(error.location.line).toBe(2);
  });

  it('reports an unterminated unparsable last line as a torn tail, or as an error when not tolerated', async () => {
    const file = path.join(dir, 'torn.jsonl');
    await fsp.writeFile(file, '{"id":1,"per_image":{}}\n{"id":2,"per_im');
    const { rows, tornTail } = await readJsonl(file, RowSchema);
    expect(rows).toHaveLength(1);
    expect(tornTail).toEqual({ line: 2, bytes: Buffer.byteLength('{"id":2,"per_im') });
    const error = await expectStageBError(readJsonl(file, RowSchema, { tolerateTornTail: false }));
    expect(error.code).toBe('INPUT_MALFORMED_JSON');
    expect(error.location.line).toBe(2);
  });

  it('accepts a complete last row without a trailing newline', async () => {
    const file = path.join(dir, 'nonl.jsonl');
    await fsp.writeFile(file, '{"id":1,"per_image":{}}\n{"id":2,"per_image":{}}');
    const { rows, tornTail } = await readJsonl(file, RowSchema);
    expect(rows.map((r) => r.id)).toEqual([1, 2]);
    expect(tornTail).toBeNull();
  });

  it('streams files larger than one read chunk with correct line numbers', async () => {
    const file = path.join(dir, 'big.jsonl');
    const long = 'x'.repeat(100_000);
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: i, per_image: { image_1: long } }));
    await fsp.writeFile(file, lines.join('\n') + '\n');
    const seen: number[] = [];
    for await (const line of readJsonlLines(file)) seen.push(line.line);
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const { rows } = await readJsonl(file, RowSchema);
    expect(rows[49].id).toBe(49);
    expect(rows[49].per_image.image_1.length).toBe(100_000);
  });

  it('distinguishes a missing file from an unreadable path', async () => {
    const missing = path.join(dir, 'nope.jsonl');
    const error = await expectStageBError(readJsonl(missing, RowSchema));
    expect(error.code).toBe('INPUT_NOT_FOUND');
    expect(error.location.file).toBe(missing);
    expect((await readJsonl(missing, RowSchema, { missingOk: true })).rows).toEqual([]);
    const asDir = await expectStageBError(readJsonl(dir, RowSchema));
    expect(asDir.code).toBe('IO_READ_FAILED');
  });
});

describe('appendJsonl', () => {
  it('creates the file and folder and appends one row per line', async () => {
    const file = path.join(dir, 'sub', 'out.jsonl');
    await appendJsonl(file, [{ id: 1, per_image: {} }]);
    await appendJsonl(file, [{ id: 2, per_image: { image_1: '行\n二' } }, { id: 3, per_image: {} }]);
    const text = await fsp.readFile(file, 'utf8');
    expect(text.split('\n')).toHaveLength(4);
    const { rows } = await readJsonl(file, RowSchema);
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(rows[1].per_image.image_1).toBe('行\n二');
  });

  it('cuts a torn tail before appending so the file stays parseable', async () => {
    const file = path.join(dir, 'torn.jsonl');
    await fsp.writeFile(file, '{"id":1,"per_image":{}}\n{"id":2,"per_');
    const result = await appendJsonl(file, [{ id: 3, per_image: {} }]);
    expect(result.truncatedTornTailBytes).toBe(Buffer.byteLength('{"id":2,"per_'));
    expect(await fsp.readFile(file, 'utf8')).toBe('{"id":1,"per_image":{}}\n{"id":3,"per_image":{}}\n');
  });

  it('cuts a torn tail that is the whole file', async () => {
    const file = path.join(dir, 'torn-only.jsonl');
    await fsp.writeFile(file, '{"id":');
    await appendJsonl(file, [{ id: 9, per_image: {} }]);
    expect(await fsp.readFile(file, 'utf8')).toBe('{"id":9,"per_image":{}}\n');
  });

  it('keeps a complete last row that lacks a newline', async () => {
    const file = path.join(dir, 'hand.jsonl');
    await fsp.writeFile(file, '{"id":1,"per_image":{}}');
    await appendJsonl(file, [{ id: 2, per_image: {} }]);
    const { rows } = await readJsonl(file, RowSchema);
    expect(rows.map((r) => r.id)).toEqual([1, 2]);
  });

  it('turns a full disk into IO_WRITE_FAILED and leaves the existing rows intact', async () => {
    const file = path.join(dir, 'full.jsonl');
    await fsp.writeFile(file, '{"id":1,"per_image":{}}\n');
    const error = await expectStageBError(appendJsonl(file, [{ id: 2, per_image: {} }], diskFullIo()));
    expect(error.code).toBe('IO_WRITE_FAILED');
    expect(error.location.file).toBe(file);
    expect(error.message).toContain('disk full');
    expect(await fsp.readFile(file, 'utf8')).toBe('{"id":1,"per_image":{}}\n');
  });
});

describe('writeJsonlAtomic / writeJsonAtomic', () => {
  it('replaces the target and leaves no tmp files', async () => {
    const file = path.join(dir, 'g.json');
    await writeJsonAtomic(file, { a: 1 });
    await writeJsonAtomic(file, { a: 2, 中: '文' });
    expect(JSON.parse(await fsp.readFile(file, 'utf8'))).toEqual({ a: 2, 中: '文' });
    const jl = path.join(dir, 'r.jsonl');
    await writeJsonlAtomic(jl, [{ id: 1, per_image: {} }, { id: 2, per_image: {} }]);
    expect((await readJsonl(jl, RowSchema)).rows).toHaveLength(2);
    expect((await fsp.readdir(dir)).sort()).toEqual(['g.json', 'r.jsonl']);
  });

  it('on a full disk keeps the old target and removes the tmp file', async () => {
    const file = path.join(dir, 'g.json');
    await writeJsonAtomic(file, { version: 1 });
    const error = await expectStageBError(writeJsonAtomic(file, { version: 2 }, diskFullIo()));
    expect(error.code).toBe('IO_WRITE_FAILED');
    expect(error.location.file).toBe(file);
    expect(JSON.parse(await fsp.readFile(file, 'utf8'))).toEqual({ version: 1 });
    expect(await fsp.readdir(dir)).toEqual(['g.json']);
  });

  it('fails with IO_WRITE_FAILED when the parent path is a file', async () => {
    const blocker = path.join(dir, 'blocker');
    await fsp.writeFile(blocker, 'x');
    const target = path.join(blocker, 'g.json');
    const error = await expectStageBError(writeJsonAtomic(target, { a: 1 }));
    expect(error.code).toBe('IO_WRITE_FAILED');
    expect(error.location.file).toBe(target);
    const appendError = await expectStageBError(appendJsonl(target, [{ a: 1 }]));
    expect(appendError.code).toBe('IO_WRITE_FAILED');
  });

  it.skipIf(process.getuid?.() === 0 || process.platform === 'win32')('fails with IO_WRITE_FAILED in a read-only folder and leaves nothing behind', async () => {
    const ro = path.join(dir, 'ro');
    await fsp.mkdir(ro);
    await fsp.writeFile(path.join(ro, 'g.json'), '{"old":true}\n');
    await fsp.chmod(ro, 0o555);
    try {
      const error = await expectStageBError(writeJsonAtomic(path.join(ro, 'g.json'), { old: false }));
      expect(error.code).toBe('IO_WRITE_FAILED');
      expect(error.message).toContain('permission denied');
      expect(await fsp.readdir(ro)).toEqual(['g.json']);
      expect(await fsp.readFile(path.join(ro, 'g.json'), 'utf8')).toBe('{"old":true}\n');
    } finally {
      await fsp.chmod(ro, 0o755);
    }
  });

  describe('bytes that are not UTF-8', () => {
    it('a bad byte in a complete line fails with INPUT_INVALID_UTF8 naming the line and byte offset', async () => {
      const file = path.join(dir, 'bad.jsonl');
      const first = '{"id":1,"per_image":{"image_1":"a"}}\n';
      const before = '{"id":2,"per_image":{"image_1":"';
      await fsp.writeFile(file, Buffer.concat([Buffer.from(first), Buffer.from(before), Buffer.from([0xc0, 0x80]), Buffer.from('"}}\n')]));
      const error = await expectStageBError(readJsonl(file, RowSchema));
      expect(error.code).toBe('INPUT_INVALID_UTF8');
      expect(error.location).toEqual({ file, line: 2, field: undefined });
      expect(error.message).toContain(`byte offset ${first.length + before.length}`);
      expect(error.message).toContain('0xc0 0x80');
    });

    it('a torn last line cut inside a multi-byte character is a torn tail, and the next append cuts it off', async () => {
      const file = path.join(dir, 'torn.jsonl');
      const row = '{"id":1,"per_image":{"image_1":"接地"}}\n';
      const cut = Buffer.from('{"id":2,"per_image":{"image_1":"接', 'utf8');
      await fsp.writeFile(file, Buffer.concat([Buffer.from(row), cut.subarray(0, cut.length - 1)]));
      const { rows, tornTail } = await readJsonl(file, RowSchema);
      expect(rows).toHaveLength(1);
      expect(tornTail).toEqual({ line: 2, bytes: cut.length - 1 });
      await appendJsonl(file, [{ id: 3, per_image: { image_1: 'x' } }]);
      expect((await readJsonl(file, RowSchema)).rows.map((r) => r.id)).toEqual([1, 3]);
    });
  });
});

describe('readJsonlLenient', () => {
  it('reports every bad line by number, keeps the good ones, and names a torn tail', async () => {
    const file = path.join(dir, 'rows.jsonl');
    await fsp.writeFile(file, Buffer.concat([
      Buffer.from('{"id":1,"per_image":{}}\n'),
      Buffer.from('not json\n'),
      Buffer.from('{"id":"x","per_image":{}}\n'),
      Buffer.from('{"id":4,"per_image":{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}\n'),
      Buffer.from('{"id":5,"per_image":{}}\n'),
      Buffer.from('{"id":6,"per_im'),
    ]));
    const result = await readJsonlLenient(file, RowSchema);
    expect(result.rows.map((r) => [r.line, r.record.id])).toEqual([[1, 1], [5, 5]]);
    expect(result.invalid.map((i) => i.line)).toEqual([2, 3, 4]);
    expect(result.invalid[2].message).toMatch(/UTF-8/);
    expect(result.tornTail).toEqual({ line: 6, bytes: 15 });
  });

  it('reads a missing file as empty', async () => {
    expect(await readJsonlLenient(path.join(dir, 'missing.jsonl'), RowSchema)).toEqual({ rows: [], invalid: [], tornTail: null });
  });
});
