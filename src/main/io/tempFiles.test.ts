import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsArtifactStore } from './FsArtifactStore';
import { holdTempPath, parseTempName, removeLeftoverTempFiles, tempPathFor } from './tempFiles';
import { writeFileAtomic } from './jsonl';

/** A pid no process has: above Linux's pid_max. */
const DEAD = 99_999_999;

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'temp-files-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const touch = async (file: string) => {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.writeFile(file, 'x');
};
const list = async (sub = '') => (await fsp.readdir(path.join(dir, sub))).sort();

describe('temp file names', () => {
  it('name the target and the writer pid, and nothing else parses', () => {
    const tmp = path.basename(tempPathFor(path.join(dir, 'run.json')));
    expect(parseTempName(tmp)).toEqual({ target: 'run.json', pid: process.pid });
    expect(parseTempName(`.guidance.json.${DEAD}.0123456789ab.tmp`)).toEqual({ target: 'guidance.json', pid: DEAD });
    for (const name of ['run.json', 'run.json.tmp', `.run.json.tmp-${DEAD}`, `.run.json.tmp-${DEAD}-XYZ`, `run.json.tmp-${DEAD}-0123abcd`, `.run.json.tmp-0-0123abcd`]) {
      expect(parseTempName(name), name).toBeNull();
    }
  });

  it('a sweep spares a temp file this process is writing, and removes one of this pid that nothing holds', async () => {
    const held = tempPathFor(path.join(dir, 'a.json'));
    const orphan = tempPathFor(path.join(dir, 'b.json'));
    await touch(held);
    await touch(orphan);
    const hold = holdTempPath(held);
    expect(await removeLeftoverTempFiles(dir)).toEqual([orphan]);
    hold.release();
    expect(await removeLeftoverTempFiles(dir)).toEqual([held]);
  });

  it('a concurrent sweep never breaks an atomic write in flight', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => Promise.all([writeFileAtomic(path.join(dir, `f${i % 3}.json`), `{"i":${i}}`), removeLeftoverTempFiles(dir)])));
    expect(await list()).toEqual(['f0.json', 'f1.json', 'f2.json']);
  });
});

describe('FsArtifactStore.removeInterruptedWrites (a run starting or resuming)', () => {
  it('removes leftovers of our writes in the run directory, reflection_cache and export, and nothing else', async () => {
    const runDir = path.join(dir, 'run');
    const ours = [
      `.run.json.tmp-${DEAD}-0123abcd`,
      `.telemetry.json.tmp-${DEAD}-0123abcd`,
      `.selections.jsonl.tmp-${DEAD}-0123abcd`,
      `reflection_cache/.epoch0_cycle0_summary.json.tmp-${DEAD}-0123456789ab`,
      `export/.verdicts.parquet.tmp-${DEAD}-0123abcd`,
    ];
    const theirs = [
      'notes.txt',
      `.notes.txt.tmp-${DEAD}-0123abcd`, // not one of the run's files
      'run.json.tmp',
      `.run.json.tmp-${process.ppid}-0123abcd`, // a live process is still writing it
      `reflection_cache/.draft.txt.tmp-${DEAD}-0123abcd`,
      `export/.mine.csv.tmp-${DEAD}-0123abcd`,
    ];
    for (const name of [...ours, ...theirs]) await touch(path.join(runDir, name));
    const store = new FsArtifactStore(runDir);
    await store.ensureDir();
    const left: string[] = [];
    for (const sub of ['', 'reflection_cache', 'export']) for (const name of await list(path.join('run', sub))) if (name !== 'reflection_cache' && name !== 'export') left.push(sub ? `${sub}/${name}` : name);
    expect(left.sort()).toEqual([...theirs].sort());
  });
});
