import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StageBError } from '../../shared/errors';
import { GuidanceStateSchema, type GuidanceState, type StoredGuidanceState } from '../../shared/schemas/guidance';
import { guidanceContentHash } from '../../shared/guidance/guidanceContentHash';
import { GuidanceRepository, type GuidanceFsIo } from './GuidanceRepository';
import { nowMicros, snapshotNameFromMicros } from './snapshotName';

const MISSION = 'BBU接地线检查';
const initial: StoredGuidanceState = {
  step: 0,
  updated_at: '2025-01-01T00:00:00.000Z',
  experiences: { G0: '检查接地线是否连接到接地排。', G1: '接地线松动判为不通过。', S1: '没有照片的工单不得放行。' },
  metadata: {},
};

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'guidance-repo-'));
});
afterEach(async () => {
  await fsp.chmod(dir, 0o755).catch(() => undefined);
  await fsp.rm(dir, { recursive: true, force: true });
});

function repo(options: Partial<ConstructorParameters<typeof GuidanceRepository>[0]> = {}): GuidanceRepository {
  return new GuidanceRepository({ path: path.join(dir, 'guidance.json'), mission: MISSION, snapshotDir: path.join(dir, 'snapshots'), ...options });
}

async function caught(promise: Promise<unknown>): Promise<StageBError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StageBError);
    return error as StageBError;
  }
  throw new Error('expected a StageBError');
}

async function listDir(sub = ''): Promise<string[]> {
  return (await fsp.readdir(path.join(dir, sub))).sort();
}

describe('GuidanceRepository', () => {
  it('initializes once and keeps an existing file on a resumed run', async () => {
    const store = repo();
    const first = await store.initialize(initial);
    expect(first.step).toBe(0);
    expect(first.hash).toBe(guidanceContentHash(GuidanceStateSchema.parse(initial)));
    await store.write({ experiences: { ...initial.experiences, G2: '线径不足判为不通过。' }, metadata: {} }, 0);
    const again = await repo().initialize(initial);
    expect(again.step).toBe(1);
    expect(again.experiences.G2).toBe('线径不足判为不通过。');
  });

  it('records who wrote each step and keeps rule ids through an annotator renumbering, a modify and a rollback', async () => {
    const store = repo({ clock: () => new Date('2025-03-04T05:06:07.000Z') });
    const start = await store.initialize({ ...initial, experiences: { ...initial.experiences, G2: '线径不足判为不通过。' } });
    const ids = Object.fromEntries(Object.entries(start.metadata).map(([k, m]) => [k, m.rule_id]));
    // The annotator deletes G1 and renumbers (G2 → G1), then edits the new G1.
    const renumbered = await store.write({ experiences: { G0: start.experiences.G0, G1: '线径不足判为不通过。', S1: start.experiences.S1 } }, 0, { by: { kind: 'save', author: 'Li Wei' } });
    expect(renumbered.metadata.G1.rule_id).toBe(ids.G2);
    expect(renumbered.metadata.G1.origin).toBe('initial');
    expect(renumbered.written_by).toMatchObject({ kind: 'save', author: 'Li Wei', step: 1 });
    const edited = await store.write({ experiences: { ...renumbered.experiences, G1: '线径小于16平方毫米判为不通过。' } }, 1, { by: { kind: 'save', author: 'Li Wei' } });
    expect(edited.metadata.G1).toMatchObject({ rule_id: ids.G2, origin: 'annotator', author: 'Li Wei', updated_at: '2025-03-04T05:06:07.000Z' });
    expect(edited.metadata.G0).toEqual(start.metadata.G0);
    const first = (await store.listSnapshots()).find((s) => s.step === 0)!;
    const rolled = await store.rollback(first.name, 2, { author: 'Zhang' });
    expect(rolled.step).toBe(3);
    expect(rolled.metadata).toEqual(start.metadata);
    expect(rolled.written_by).toMatchObject({ kind: 'rollback', author: 'Zhang', restored_snapshot: first.name, restored_step: 0, step: 3 });
    // A file without ids (an older run) reads with the same ids every time.
    expect((await repo().read()).metadata).toEqual(rolled.metadata);
  });

  it('adds its mission to an existing file of other missions, and refuses an invalid initial state', async () => {
    await fsp.writeFile(path.join(dir, 'guidance.json'), JSON.stringify({ 其他任务: { step: 3, updated_at: '2025-01-01T00:00:00Z', experiences: { G0: 'other' } } }));
    const state = await repo().initialize(initial);
    expect(state.step).toBe(0);
    const onDisk = JSON.parse(await fsp.readFile(path.join(dir, 'guidance.json'), 'utf8'));
    expect(Object.keys(onDisk).sort()).toEqual([MISSION, '其他任务'].sort());
    const error = await caught(repo({ mission: 'new' }).initialize({ ...initial, experiences: {} }));
    expect([error.code, error.location.field]).toEqual(['GUIDANCE_INVALID', 'new.experiences']);
    expect((await caught(repo({ mission: 'absent' }).read())).code).toBe('GUIDANCE_NOT_FOUND');
  });

  it('writes step + 1 after snapshotting the old file, and preserves other missions untouched', async () => {
    const other = { step: 7, updated_at: '2025-01-01T00:00:00Z', experiences: { G0: 'other mission' }, extra_field_kept: true };
    await fsp.writeFile(path.join(dir, 'guidance.json'), JSON.stringify({ 其他任务: other }));
    const store = repo({ clock: () => new Date('2025-03-04T05:06:07.000Z') });
    await store.initialize(initial);
    const written = await store.write({ experiences: { ...initial.experiences, G1: '接地线未紧固判为不通过。' }, metadata: {} }, 0, { by: { kind: 'save', author: 'ann' } });
    expect(written.step).toBe(1);
    expect(written.updated_at).toBe('2025-03-04T05:06:07.000Z');
    expect(written.metadata.G1).toMatchObject({ origin: 'annotator', updated_at: '2025-03-04T05:06:07.000Z' });
    const onDisk = JSON.parse(await fsp.readFile(path.join(dir, 'guidance.json'), 'utf8'));
    expect(onDisk.其他任务).toEqual(other);
    expect(onDisk[MISSION].step).toBe(1);
    const snapshots = await store.listSnapshots();
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0].name).toMatch(/^guidance-\d{8}-\d{6}-\d{6}\.json$/);
    expect(snapshots[0].step).toBe(0);
    expect((await store.readSnapshot(snapshots[0].name)).experiences).toEqual(initial.experiences);
    expect(await listDir()).toEqual(['guidance.json', 'snapshots']);
  });

  it('throws GUIDANCE_STEP_CONFLICT with base/theirs details when another writer saved first', async () => {
    const engine = repo();
    const annotator = repo();
    await engine.initialize(initial);
    const base = await annotator.read();
    await engine.write({ experiences: { ...initial.experiences, G2: 'engine rule' }, metadata: {} }, 0);
    const error = await caught(annotator.write({ experiences: { ...base.experiences, G2: 'annotator rule' }, metadata: {} }, base.step));
    expect(error.code).toBe('GUIDANCE_STEP_CONFLICT');
    expect(error.location).toEqual({ file: path.join(dir, 'guidance.json'), field: 'step' });
    const details = error.details as { baseStep: number; currentStep: number; current: GuidanceState };
    expect(details.baseStep).toBe(0);
    expect(details.currentStep).toBe(1);
    expect(details.current.experiences.G2).toBe('engine rule');
    expect((await engine.read()).experiences.G2).toBe('engine rule');
  });

  it('detects a hand edit that changed the text without bumping the step', async () => {
    const store = repo();
    await store.initialize(initial);
    const seen = await store.read();
    const file = path.join(dir, 'guidance.json');
    const onDisk = JSON.parse(await fsp.readFile(file, 'utf8'));
    onDisk[MISSION].experiences.G1 = 'edited in a text editor';
    await fsp.writeFile(file, JSON.stringify(onDisk));
    const next = { experiences: { ...seen.experiences, G2: 'mine' }, metadata: {} };
    expect((await caught(repo().write(next, 0, { expectedHash: seen.hash }))).code).toBe('GUIDANCE_STEP_CONFLICT');
    // Without an explicit hash the repository remembers what it last read.
    expect((await caught(store.write(next, 0))).code).toBe('GUIDANCE_STEP_CONFLICT');
    expect((await store.read()).experiences.G1).toBe('edited in a text editor');
  });

  it('names the file and field of a hand edit that broke the file', async () => {
    const store = repo();
    await store.initialize(initial);
    const file = path.join(dir, 'guidance.json');
    const onDisk = JSON.parse(await fsp.readFile(file, 'utf8'));
    onDisk[MISSION].experiences.G1 = 42;
    await fsp.writeFile(file, JSON.stringify(onDisk));
    const invalid = await caught(store.read());
    expect(invalid.code).toBe('GUIDANCE_INVALID');
    expect(invalid.location).toEqual({ file, field: `${MISSION}.experiences.G1` });
    await fsp.writeFile(file, '{\n  "a": {\n    "step": 1,,\n  }\n}');
    const syntax = await caught(store.read());
    expect(syntax.code).toBe('GUIDANCE_INVALID');
    expect(syntax.location.line).toBe(3);
    // A broken file is never overwritten by a write.
    expect((await caught(store.write({ experiences: initial.experiences, metadata: {} }, 0))).code).toBe('GUIDANCE_INVALID');
    expect(await fsp.readFile(file, 'utf8')).toContain(',,');
    expect((await caught(repo({ mission: 'missing' }).read())).code).toBe('GUIDANCE_INVALID');
  });

  it('rejects writes that empty the map, drop G0, touch S keys or store Stage-A text', async () => {
    const store = repo();
    await store.initialize(initial);
    const cases: [Record<string, string>, string, string][] = [
      [{}, 'GUIDANCE_EMPTY_EXPERIENCES', `${MISSION}.experiences`],
      [{ G1: 'x', S1: initial.experiences.S1 }, 'GUIDANCE_REJECTED_OPERATION', `${MISSION}.experiences.G0`],
      [{ G0: 'x', S1: 'changed' }, 'GUIDANCE_REJECTED_OPERATION', `${MISSION}.experiences.S1`],
      [{ G0: 'x' }, 'GUIDANCE_REJECTED_OPERATION', `${MISSION}.experiences.S1`],
      [{ ...initial.experiences, S2: 'new invariant' }, 'GUIDANCE_REJECTED_OPERATION', `${MISSION}.experiences.S2`],
      [{ ...initial.experiences, G2: 'BBU/安装到位×2' }, 'GUIDANCE_REJECTED_OPERATION', `${MISSION}.experiences.G2`],
      [{ ...initial.experiences, G2: '  ' }, 'GUIDANCE_REJECTED_OPERATION', `${MISSION}.experiences.G2`],
      [{ ...initial.experiences, X1: 'bad key' }, 'GUIDANCE_REJECTED_OPERATION', `${MISSION}.experiences.X1`],
    ];
    for (const [experiences, code, field] of cases) {
      const error = await caught(store.write({ experiences, metadata: {} }, 0));
      expect([error.code, error.location.field]).toEqual([code, field]);
    }
    const after = await store.read();
    expect(after.step).toBe(0);
    expect(await store.listSnapshots()).toEqual([]);
  });

  it('rolls back as a new step with the snapshot content; nothing is deleted', async () => {
    const store = repo();
    await store.initialize(initial);
    await store.write({ experiences: { ...initial.experiences, G2: 'two' }, metadata: {} }, 0);
    await store.write({ experiences: { ...initial.experiences, G2: 'two', G3: 'three' }, metadata: {} }, 1);
    const snapshots = await store.listSnapshots();
    expect(snapshots.map((s) => s.step)).toEqual([1, 0]);
    const rolled = await store.rollback(snapshots[1].name, 2);
    expect(rolled.step).toBe(3);
    expect(rolled.experiences).toEqual(initial.experiences);
    expect((await store.listSnapshots()).map((s) => s.step)).toEqual([2, 1, 0]);
    expect((await caught(store.rollback(snapshots[0].name, 2))).code).toBe('GUIDANCE_STEP_CONFLICT');
    for (const bad of ['../guidance.json', 'guidance-20250101-000000-000000.json/../../x', '/etc/passwd', 'guidance-2025.json']) {
      const error = await caught(store.readSnapshot(bad));
      expect(error.location.field).toBe('snapshot');
    }
    expect((await caught(store.rollback('guidance-20200101-000000-000000.json', 3))).code).toBe('GUIDANCE_NOT_FOUND');
  });

  it('lists a snapshot that cannot be read with step null, newest first, and only files named as snapshots', async () => {
    const store = repo();
    await store.initialize(initial);
    await store.write({ experiences: { ...initial.experiences, G2: 'two' }, metadata: {} }, 0);
    await store.write({ experiences: { ...initial.experiences, G2: 'three' }, metadata: {} }, 1);
    const [newer, older] = await store.listSnapshots();
    await fsp.writeFile(path.join(dir, 'snapshots', older.name), '{"torn":');
    await fsp.writeFile(path.join(dir, 'snapshots', 'notes.json'), '{}');
    const listed = await store.listSnapshots();
    expect(listed.map((s) => [s.name, s.step, s.updated_at === null])).toEqual([[newer.name, 1, false], [older.name, null, true]]);
    expect(listed[1].size_bytes).toBe(Buffer.byteLength('{"torn":'));
    expect((await caught(store.rollback(older.name, 2))).code).toBe('GUIDANCE_INVALID');
  });

  it('prunes snapshots beyond retention, oldest first, with unique increasing names', async () => {
    const store = repo({ retention: 3 });
    await store.initialize(initial);
    for (let step = 0; step < 8; step++) {
      await store.write({ experiences: { ...initial.experiences, G2: `rule ${step}` }, metadata: {} }, step);
    }
    const snapshots = await store.listSnapshots();
    expect(snapshots.map((s) => s.step)).toEqual([7, 6, 5]);
    const names = snapshots.map((s) => s.name);
    expect([...names].sort().reverse()).toEqual(names);
    expect(new Set(names).size).toBe(3);
  });

  it('breaks a stale lock left by a dead process and times out on a live one', async () => {
    const store = repo({ lock: { timeoutMs: 200 } });
    await store.initialize(initial);
    const lockPath = path.join(dir, 'guidance.json.lock');
    await fsp.writeFile(lockPath, JSON.stringify({ pid: 2 ** 22 + 12345, hostname: os.hostname(), token: 'dead', created_at: 'x' }));
    expect((await store.write({ experiences: { ...initial.experiences, G2: 'after stale lock' }, metadata: {} }, 0)).step).toBe(1);
    expect(await listDir()).toEqual(['guidance.json', 'snapshots']);
    await fsp.writeFile(lockPath, JSON.stringify({ pid: process.ppid, hostname: os.hostname(), token: 'alive', created_at: 'x' }));
    const locked = await caught(store.write({ experiences: initial.experiences, metadata: {} }, 1));
    expect(locked.code).toBe('GUIDANCE_LOCKED');
    expect(locked.message).toContain(String(process.ppid));
    expect((await store.read()).step).toBe(1);
  });

  describe('disk faults', () => {
    const fault = (errno: string) => Object.assign(new Error(`${errno}: injected`), { code: errno });

    for (const [errno, io] of [
      ['ENOSPC', { open: (async (...args: Parameters<typeof fsp.open>) => {
        const handle = await fsp.open(...args);
        return Object.assign(Object.create(Object.getPrototypeOf(handle)), handle, {
          writeFile: async (data: string) => {
            await handle.writeFile(String(data).slice(0, 10));
            throw fault('ENOSPC');
          },
          sync: () => handle.sync(),
          close: () => handle.close(),
        });
      }) as GuidanceFsIo['open'] }],
      ['EROFS', { rename: (async () => { throw fault('EROFS'); }) as GuidanceFsIo['rename'] }],
      ['EACCES', { link: (async () => { throw fault('EACCES'); }) as GuidanceFsIo['link'] }],
    ] as const) {
      it(`${errno}: IO_WRITE_FAILED, live file unchanged, no tmp left, lock released`, async () => {
        await repo().initialize(initial);
        const before = await fsp.readFile(path.join(dir, 'guidance.json'), 'utf8');
        const store = repo({ io });
        const error = await caught(store.write({ experiences: { ...initial.experiences, G2: 'x' }, metadata: {} }, 0));
        expect(error.code).toBe('IO_WRITE_FAILED');
        expect(error.message).toContain(errno);
        expect(await fsp.readFile(path.join(dir, 'guidance.json'), 'utf8')).toBe(before);
        expect(await listDir()).toEqual(['guidance.json', 'snapshots']);
        expect(await listDir('snapshots')).toEqual([]);
        expect((await repo().write({ experiences: { ...initial.experiences, G2: 'x' }, metadata: {} }, 0)).step).toBe(1);
      });
    }

    it.skipIf(process.getuid?.() === 0)('EACCES from a real read-only directory', async () => {
      await repo().initialize(initial);
      await fsp.chmod(dir, 0o555);
      const error = await caught(repo().write({ experiences: { ...initial.experiences, G2: 'x' }, metadata: {} }, 0));
      expect(error.code).toBe('IO_WRITE_FAILED');
      expect((await repo().read()).step).toBe(0);
    });
  });

  describe('after a crash (issue #21)', () => {
    /** A pid no process has: above Linux's pid_max. */
    const DEAD_PID = 99_999_999;

    it('a writer killed between its snapshot and the live replace: the retry reuses that snapshot instead of taking a second one', async () => {
      const store = repo();
      await store.initialize(initial);
      await store.write({ experiences: { ...initial.experiences, G2: '线径不足判为不通过。' }, metadata: {} }, 0);
      const live = await fsp.readFile(path.join(dir, 'guidance.json'), 'utf8');
      // What the killed writer left: a snapshot of the live file (newest name), and the tmp files it never got to remove.
      await fsp.writeFile(path.join(dir, 'snapshots', snapshotNameFromMicros(nowMicros() + 1_000_000)), live);
      await fsp.writeFile(path.join(dir, `.guidance.json.tmp-${DEAD_PID}-0123456789ab`), '{"half":');
      await fsp.writeFile(path.join(dir, 'snapshots', `.guidance.json.snapshot.tmp-${DEAD_PID}-0123456789ab`), live);
      const beforeRetry = await listDir('snapshots');
      expect(beforeRetry).toHaveLength(3);

      await repo().write({ experiences: { ...initial.experiences, G2: '线径不足判为不通过。', G3: '接地排锈蚀判为不通过。' }, metadata: {} }, 1);
      const after = await listDir('snapshots');
      expect(after).toEqual(beforeRetry.filter((name) => !name.startsWith('.')));
      expect(await listDir()).toEqual(['guidance.json', 'snapshots']);
      // The snapshots hold step 0 and step 1 once each, as an uninterrupted pair of writes would.
      const steps = await Promise.all(after.map(async (name) => (await repo().readSnapshot(name)).step));
      expect(steps).toEqual([0, 1]);
      expect((await repo().read()).step).toBe(2);
    });

    it('removes its own leftover temp files only: a live writer\'s, a user\'s look-alike and other files stay', async () => {
      await repo().initialize(initial);
      const keep = [
        '.guidance.json.backup',
        'guidance.json.tmp',
        `.other.json.tmp-${DEAD_PID}-0123456789ab`,
        `.guidance.json.tmp-${process.ppid}-0123456789ab`,
      ];
      const remove = [`.guidance.json.tmp-${DEAD_PID}-0123456789ab`, `.guidance.json.${DEAD_PID}.0123456789ab.tmp`, `.guidance.json.tmp-${process.pid}-00000000`];
      for (const name of [...keep, ...remove]) await fsp.writeFile(path.join(dir, name), 'x');
      await repo().write({ experiences: { ...initial.experiences, G2: 'x' }, metadata: {} }, 0);
      expect(await listDir()).toEqual(['guidance.json', 'snapshots', ...keep].sort());
    });

    it('refuses a guidance file that is not valid UTF-8, naming file, line and byte offset', async () => {
      const text = JSON.stringify({ [MISSION]: { ...initial } }, null, 2);
      const at = text.indexOf('检查');
      const bytes = Buffer.concat([Buffer.from(text.slice(0, at), 'utf8'), Buffer.from([0xe6, 0xff]), Buffer.from(text.slice(at), 'utf8')]);
      await fsp.writeFile(path.join(dir, 'guidance.json'), bytes);
      const error = await caught(repo().read());
      expect(error.code).toBe('GUIDANCE_INVALID');
      expect(error.location).toEqual({ file: path.join(dir, 'guidance.json'), line: text.slice(0, at).split('\n').length });
      expect(error.message).toContain(`byte offset ${Buffer.byteLength(text.slice(0, at))}`);
    });

    it.each([
      ['updated_at', { updated_at: 'last tuesday' }, 'updated_at'],
      ['a rule\'s updated_at', { metadata: { G1: { updated_at: '2025-02-30T00:00:00Z' } } }, 'metadata.G1.updated_at'],
      ['written_by.at', { written_by: { kind: 'save', author: null, step: 0, at: '1735689600' } }, 'written_by.at'],
    ])('refuses a %s that is not ISO 8601, naming file and field', async (_, patch, field) => {
      await fsp.writeFile(path.join(dir, 'guidance.json'), JSON.stringify({ [MISSION]: { ...initial, ...patch } }));
      const error = await caught(repo().read());
      expect(error.code).toBe('GUIDANCE_INVALID');
      expect(error.location.file).toBe(path.join(dir, 'guidance.json'));
      expect(error.location.field).toBe(`${MISSION}.${field}`);
      expect(error.message).toContain('ISO 8601');
    });

    it('a folder at the guidance path is a typed error', async () => {
      await fsp.mkdir(path.join(dir, 'guidance.json'));
      const error = await caught(repo().read());
      expect(error.code).toBe('GUIDANCE_INVALID');
      expect(error.location.file).toBe(path.join(dir, 'guidance.json'));
    });
  });
});
