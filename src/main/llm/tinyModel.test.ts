import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { StageBError } from '../../shared/errors';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkGgufFile } from './gguf/ggufHeader';
import { GgmlType } from './gguf/ggufFormat';
import { gguf, writeGguf } from './gguf/ggufWriter';
import { createRandomModel, createTinyModel, ensureTinyModel, randomModelSpec } from './tinyModel';
import { main } from '../cli';
import { gpt2ByteToUnicode } from './byteLevelVocab';
import { getModelShape, MODEL_SHAPES } from './modelShapes';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stageb-tiny-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

describe('random models', () => {
  it('the same seed gives byte-identical files, another seed does not', async () => {
    await createTinyModel({ out: join(dir, 'a.gguf'), seed: 5 });
    await createTinyModel({ out: join(dir, 'b.gguf'), seed: 5 });
    await createTinyModel({ out: join(dir, 'c.gguf'), seed: 6 });
    expect(await sha(join(dir, 'a.gguf'))).toBe(await sha(join(dir, 'b.gguf')));
    expect(await sha(join(dir, 'a.gguf'))).not.toBe(await sha(join(dir, 'c.gguf')));
  });

  it('writes the llama keys, a ChatML byte tokenizer, and the shape as tensors', async () => {
    const result = await createTinyModel({ out: join(dir, 'tiny.gguf') });
    const { header } = await checkGgufFile(result.path);
    const get = (k: string) => header.metadata.get(k)?.value;
    expect(get('general.architecture')).toBe('llama');
    expect(get('tokenizer.ggml.model')).toBe('gpt2');
    const tokens = get('tokenizer.ggml.tokens') as string[];
    expect(tokens.slice(256)).toEqual(['<|endoftext|>', '<|im_start|>', '<|im_end|>']);
    expect(tokens[get('tokenizer.ggml.eos_token_id') as number]).toBe('<|im_end|>');
    expect(String(get('tokenizer.chat_template'))).toContain('<|im_start|>assistant');
    const shape = getModelShape('tiny');
    expect(header.tensors).toHaveLength(2 + shape.layers * 9 + 1);
    const q = header.tensors.find((t) => t.name === 'blk.0.attn_k.weight')!;
    expect(q.dims).toEqual([shape.embedding, shape.kvHeads * shape.headDim]);
    expect(result.bytes).toBeLessThan(4 << 20);
  });

  it('GPT-2 byte map is a bijection onto 256 distinct characters', () => {
    const map = gpt2ByteToUnicode();
    expect(new Set(map).size).toBe(256);
    expect(map[0x41]).toBe('A');
    expect(map[0x0a]).toBe('Ċ');
    expect(map[0x20]).toBe('Ġ');
  });

  it('pads the vocab of a stand-in shape and writes Q8_0 weights', async () => {
    const shape = { ...MODEL_SHAPES['qwen3-0.6b'], name: 'mini-pad', layers: 1, embedding: 64, heads: 2, kvHeads: 1, headDim: 32, feedForward: 64, vocabSize: 1000 };
    const result = await createRandomModel({ out: join(dir, 'pad.gguf'), shape, seed: 1 });
    const { header } = await checkGgufFile(result.path);
    expect((header.metadata.get('tokenizer.ggml.tokens')?.value as string[]).length).toBe(1000);
    expect(header.tensors.find((t) => t.name === 'output.weight')).toMatchObject({ dims: [64, 1000], type: GgmlType.Q8_0 });
  });
});

describe('ensureTinyModel', () => {
  it('creates the model once under concurrent callers and leaves no temp files', async () => {
    const path = join(dir, 'fixture', 'tiny.gguf');
    await Promise.all([ensureTinyModel(path), ensureTinyModel(path), ensureTinyModel(path)]);
    await checkGgufFile(path);
    expect(await readdir(join(dir, 'fixture'))).toEqual(['tiny.gguf']);
  });

  it('replaces a tiny model an earlier version wrote with F32 weights, and leaves any other valid GGUF alone', async () => {
    const earlier = join(dir, 'earlier.gguf');
    await createRandomModel({ out: earlier, shape: { ...MODEL_SHAPES.tiny, weightType: 'F32' } });
    await ensureTinyModel(earlier);
    const { header } = await checkGgufFile(earlier);
    expect(header.metadata.get('general.file_type')?.value).toBe(7);
    expect(header.tensors.find((t) => t.name === 'blk.0.attn_q.weight')?.type).toBe(GgmlType.Q8_0);
    expect(await sha(earlier)).toBe(await sha((await createTinyModel({ out: join(dir, 'current.gguf') })).path));

    const foreign = join(dir, 'foreign.gguf');
    await createRandomModel({ out: foreign, shape: { ...MODEL_SHAPES.tiny, name: 'someone-else', weightType: 'F32' } });
    const before = await sha(foreign);
    await ensureTinyModel(foreign);
    expect(await sha(foreign)).toBe(before);
  });

  it('never overwrites a file that is not its own: a non-GGUF file or a model cut short is refused by path and left as it was', async () => {
    const notes = join(dir, 'notes.gguf');
    await writeFile(notes, 'my notes, not a model');
    const cut = join(dir, 'cut.gguf');
    await writeFile(cut, (await readFile((await createTinyModel({ out: join(dir, 'whole.gguf') })).path)).subarray(0, 100));
    for (const path of [notes, cut]) {
      const before = await sha(path);
      const error = await ensureTinyModel(path).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(StageBError);
      expect((error as StageBError).code).toBe('MODEL_INVALID_GGUF');
      expect((error as StageBError).location).toEqual({ file: path, field: 'model.path' });
      expect((error as StageBError).message).toContain(path);
      expect(await sha(path)).toBe(before);
    }
  });

  it('a folder, a symlink loop or a dangling symlink at the path is a typed error naming it, and nothing is written', async () => {
    const folder = join(dir, 'folder.gguf');
    await mkdir(folder);
    const loop = join(dir, 'loop.gguf');
    await symlink(loop, loop);
    const dangling = join(dir, 'dangling.gguf');
    await symlink(join(dir, 'nowhere', 'x.gguf'), dangling);
    for (const path of [folder, loop, dangling]) {
      const error = await ensureTinyModel(path).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(StageBError);
      expect((error as StageBError).code).toBe('MODEL_NOT_FOUND');
      expect((error as StageBError).location.file).toBe(path);
    }
    expect(await readdir(folder)).toEqual([]);
    expect((await lstat(dangling)).isSymbolicLink()).toBe(true);
    await expect(stat(join(dir, 'nowhere'))).rejects.toThrow();
  });

  it('regenerates its own earlier model through a symlink (the link stays) and removes temp files a killed generator left', async () => {
    const real = join(dir, 'linked', 'real.gguf');
    await createRandomModel({ out: real, shape: { ...MODEL_SHAPES.tiny, weightType: 'F32' } });
    const link = join(dir, 'linked', 'link.gguf');
    await symlink(real, link);
    const leftover = join(dir, 'linked', `.real.gguf.tmp-99999999-0123456789ab`);
    const foreignTmp = join(dir, 'linked', 'user.gguf.tmp-1-2');
    await writeFile(leftover, 'half a model');
    await writeFile(foreignTmp, 'a user file');
    await ensureTinyModel(link);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect((await checkGgufFile(real)).header.metadata.get('general.file_type')?.value).toBe(7);
    expect((await readdir(join(dir, 'linked'))).sort()).toEqual(['link.gguf', 'real.gguf', 'user.gguf.tmp-1-2']);
  });
});

describe('stageb model', () => {
  it('writes a tiny model and prints path, size and sha256', async () => {
    const lines: string[] = [];
    const out = join(dir, 'cli.gguf');
    const code = await main(['model', 'tiny', '--out', out, '--seed', '9'], { stdout: { write: (t: string) => lines.push(...t.split('\n').filter(Boolean)) }, stderr: { write: (t: string) => lines.push(...t.split('\n').filter(Boolean)) } });
    expect(code).toBe(0);
    const text = lines.join('\n');
    expect(text).toContain(out);
    expect(text).toContain(await sha(out));
    expect(text).toMatch(/size\s+\d+ bytes/);
  });

  it('writes over its own earlier random model, and refuses any other file at --out, leaving it as it was', async () => {
    const io = (sink: string[]) => ({ stdout: { write: () => true }, stderr: { write: (t: string) => (sink.push(t), true) } });
    const own = join(dir, 'own.gguf');
    await createRandomModel({ out: own, shape: { ...MODEL_SHAPES.tiny, weightType: 'F32' }, seed: 3 });
    expect(await main(['model', 'tiny', '--out', own], io([]))).toBe(0);
    expect(await sha(own)).toBe(await sha((await createTinyModel({ out: join(dir, 'own-expected.gguf') })).path));

    // A valid GGUF someone else made: another name, no stageb keys.
    const someoneElses = join(dir, 'someone.gguf');
    const spec = randomModelSpec('tiny');
    spec.metadata.set('general.name', gguf.str('qwen3-8b'));
    spec.metadata.delete('stageb.shape');
    await writeGguf(someoneElses, spec);
    const notes = join(dir, 'notes-out.gguf');
    await writeFile(notes, 'my notes, not a model');
    for (const [path, code] of [[someoneElses, 'IO_WRITE_FAILED'], [notes, 'MODEL_INVALID_GGUF']] as const) {
      const before = await sha(path);
      const errors: string[] = [];
      expect(await main(['model', 'tiny', '--out', path], io(errors))).toBe(1);
      expect(errors.join('')).toContain(code);
      expect(errors.join('')).toContain(path);
      expect(await sha(path)).toBe(before);
    }
  });

  it('refuses an unknown shape with a typed error and exit code 1', async () => {
    const errors: string[] = [];
    const code = await main(['model', 'random', '--shape', 'nope', '--out', join(dir, 'x.gguf')], { stdout: { write: () => true }, stderr: { write: (t: string) => errors.push(t) } });
    expect(code).toBe(1);
    expect(errors.join('\n')).toContain('CONFIG_INVALID');
    expect(errors.join('\n')).toContain('qwen3-8b');
  });

  it('refuses an unknown subcommand and a bad seed as usage errors (exit 2)', async () => {
    const errors: string[] = [];
    expect(await main(['model', 'bogus'], { stdout: { write: () => true }, stderr: { write: (t: string) => errors.push(t) } })).toBe(2);
    expect(errors.join('\n')).toContain('unknown command "model bogus"');
    expect(await main(['model', 'tiny', '--out', join(dir, 'y.gguf'), '--seed=-1'], { stdout: { write: () => true }, stderr: { write: (t: string) => errors.push(t) } })).toBe(2);
    expect(errors.join('\n')).toContain('--seed needs an integer');
  });
});
