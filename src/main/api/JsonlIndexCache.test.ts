import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrajectoryRecordSchema } from '../../shared/schemas/records';
import { fixtureTrajectories } from './fixtureRun';
import { writeJsonlRows } from '../io/jsonl';
import { JsonlIndexCache } from './JsonlIndexCache';

let dir: string;
const files: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'index-cache-'));
  for (const name of ['a', 'b', 'c']) {
    const file = path.join(dir, `${name}.jsonl`);
    await writeJsonlRows(file, fixtureTrajectories({ runName: name, mission: 'm', groups: 20, candidates: 2, epochs: 1 }));
    files.push(file);
  }
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('JsonlIndexCache', () => {
  it('evicts the least recently used file past the file limit and reuses a cached index', async () => {
    const cache = new JsonlIndexCache(2);
    const first = await cache.get(files[0], TrajectoryRecordSchema);
    expect(await cache.get(files[0], TrajectoryRecordSchema)).toBe(first);
    await cache.get(files[1], TrajectoryRecordSchema);
    await cache.get(files[0], TrajectoryRecordSchema);
    await cache.get(files[2], TrajectoryRecordSchema);
    expect(cache.files).toEqual([files[0], files[2]]);
  });

  it('keeps only the latest index when the memory budget is smaller than one index', async () => {
    const cache = new JsonlIndexCache(8, 1);
    await cache.get(files[0], TrajectoryRecordSchema);
    await cache.get(files[1], TrajectoryRecordSchema);
    expect(cache.files).toEqual([files[1]]);
  });
});
