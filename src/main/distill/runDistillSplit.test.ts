import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../cli';
import { writeDistillCorpus } from './writeDistillCorpus';
import { distillRecord } from '../../shared/distill/testFixtures';
import { DistillRecordSchema, type DistillRecord } from '../../shared/schemas/records';
import { HighValueRowSchema } from '../../shared/distill/markHighValue';
import type { CliIo } from '../cli/CliIo';

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'distill-split-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

function collector() {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } };
  return { io, out, err };
}

const readLines = async (file: string) => (await fsp.readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('writeDistillCorpus', () => {
  it('overwrites the corpus on rerun and refuses an invalid record before writing', async () => {
    const file = path.join(dir, 'run', 'm', 'distill_chatml.jsonl');
    await writeDistillCorpus(file, [distillRecord('a', 'pass', 'pass'), distillRecord('b', 'fail', 'fail')]);
    await writeDistillCorpus(file, [distillRecord('c', 'fail', 'fail')]);
    expect((await readLines(file)).map((r) => r.group_id)).toEqual(['c']);
    const bad = { ...distillRecord('d', 'pass', 'pass'), summary: 'reflection text' } as unknown as DistillRecord;
    await expect(writeDistillCorpus(file, [bad])).rejects.toThrow(/invalid/);
    expect((await readLines(file)).map((r) => r.group_id)).toEqual(['c']);
  });
});

describe('stageb distill split', () => {
  it('writes train, val and high-value files with stratified counts', async () => {
    const records = Array.from({ length: 40 }, (_, i) =>
      distillRecord(`g${i}`, i < 20 ? 'fail' : 'pass', i < 15 ? 'fail' : i < 20 ? 'pass' : i < 38 ? 'pass' : 'fail'),
    );
    const input = path.join(dir, 'distill_chatml.jsonl');
    await writeDistillCorpus(input, records);
    const outDir = path.join(dir, 'out');
    const { io, out, err } = collector();
    const code = await main(['distill', 'split', '--input', input, '--out-dir', outDir, '--val-fraction', '0.2', '--seed', '5', '--drop-conflicts'], io);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const train = await readLines(path.join(outDir, 'distill_chatml.train.jsonl'));
    const val = await readLines(path.join(outDir, 'distill_chatml.val.jsonl'));
    const high = await readLines(path.join(outDir, 'distill_chatml.high_value.jsonl'));
    for (const row of [...train, ...val]) expect(DistillRecordSchema.safeParse(row).success).toBe(true);
    for (const row of high) expect(HighValueRowSchema.safeParse(row).success).toBe(true);
    // 5 fail→pass and 2 pass→fail conflicts dropped: 15 fail + 18 pass kept; val = round(15×0.2)=3 fail, round(18×0.2)=4 pass.
    expect(val.filter((r) => r.label === 'fail')).toHaveLength(3);
    expect(val.filter((r) => r.label === 'pass')).toHaveLength(4);
    expect(train).toHaveLength(26);
    expect(high).toHaveLength(15);
    expect(high.filter((h) => h.split === 'val').map((h) => h.group_id).sort()).toEqual(val.filter((r) => r.label === 'fail').map((r) => r.group_id).sort());
    expect(out.join('')).toMatch(/dropped 7 \(label conflicts 7, malformed 0\)/);

    // Same seed → identical files.
    const again = collector();
    await main(['distill', 'split', '--input', input, '--out-dir', outDir, '--val-fraction', '0.2', '--seed', '5', '--drop-conflicts'], again.io);
    expect(await readLines(path.join(outDir, 'distill_chatml.val.jsonl'))).toEqual(val);
  });

  it('writes beside the corpus by default and never overwrites a different split silently', async () => {
    const records = Array.from({ length: 40 }, (_, i) => distillRecord(`g${i}`, i % 2 ? 'fail' : 'pass', i % 2 ? 'fail' : 'pass'));
    const missionDir = path.join(dir, 'runs', 'teacher', 'm');
    const input = path.join(missionDir, 'distill_chatml.jsonl');
    await writeDistillCorpus(input, records);
    const first = collector();
    expect(await main(['distill', 'split', '--input', input, '--seed', '1'], first.io)).toBe(0);
    const train = path.join(missionDir, 'distill', 'distill_chatml.train.jsonl');
    const before = await fsp.readFile(train, 'utf8');
    expect(first.out.join('')).toContain(`wrote ${train}`);

    // The same split again: nothing to refuse, the files stay as they are.
    const same = collector();
    expect(await main(['distill', 'split', '--input', input, '--seed', '1'], same.io)).toBe(0);
    expect(same.out.join('')).toContain(`unchanged ${train}`);

    // Another split into the same folder: refused, naming the file, and nothing written.
    const other = collector();
    expect(await main(['distill', 'split', '--input', input, '--seed', '2', '--val-fraction', '0.5'], other.io)).toBe(1);
    expect(other.err.join('')).toMatch(new RegExp(`^FILE_EXISTS ${train.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*--force`));
    expect(await fsp.readFile(train, 'utf8')).toBe(before);

    const forced = collector();
    expect(await main(['distill', 'split', '--input', input, '--seed', '2', '--val-fraction', '0.5', '--force'], forced.io)).toBe(0);
    expect(forced.out.join('')).toContain(`replaced (--force) ${train}`);
    expect(await fsp.readFile(train, 'utf8')).not.toBe(before);
  });

  it('fails with a located error on a malformed input line, and with usage on bad arguments', async () => {
    const input = path.join(dir, 'bad.jsonl');
    await fsp.writeFile(input, JSON.stringify(distillRecord('a', 'pass', 'pass')) + '\n' + JSON.stringify({ group_id: 'b', mission: 'm', label: 'pass', messages: [], extra: 1 }) + '\n');
    const c = collector();
    expect(await main(['distill', 'split', '--input', input, '--out-dir', path.join(dir, 'o')], c.io)).toBe(1);
    expect(c.err.join('')).toMatch(/bad\.jsonl:2/);
    await expect(fsp.stat(path.join(dir, 'o'))).rejects.toThrow();

    const u = collector();
    expect(await main(['distill', 'split', '--out-dir', dir], u.io)).toBe(2);
    expect(u.err.join('')).toMatch(/missing --input/);
    const v = collector();
    expect(await main(['distill', 'split', '--input', input, '--val-fraction', 'abc'], v.io)).toBe(2);
    expect(v.err.join('')).toMatch(/--val-fraction needs a number/);
    const w = collector();
    expect(await main(['distill', 'split', `--input=${input}`, '--bogus'], w.io)).toBe(2);
    expect(w.err.join('')).toMatch(/--bogus/);
  });
});
