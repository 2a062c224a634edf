import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../cli';
import { selection } from '../../shared/distill/testFixtures';
import type { RunComparison } from '../../shared/metrics/compareRuns';
import type { GroupLabel } from '../../shared/verdict';
import type { CliIo } from '../cli/CliIo';

let root: string;

async function writeRun(run: string, mission: string, rows: [string, GroupLabel, GroupLabel][]) {
  const dir = path.join(root, run, mission);
  await fsp.mkdir(dir, { recursive: true });
  const lines = rows.map(([group_id, label, verdict]) => JSON.stringify(selection({ run_name: run, mission, group_id, label, verdict })));
  await fsp.writeFile(path.join(dir, 'selections.jsonl'), lines.join('\n') + '\n');
}

beforeAll(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'compare-'));
  // base: 10 fail tickets, 4 released; 10 pass tickets, all passed.
  const base: [string, GroupLabel, GroupLabel][] = [];
  const distill: [string, GroupLabel, GroupLabel][] = [];
  for (let i = 0; i < 10; i++) {
    base.push([`f${i}`, 'fail', i < 4 ? 'pass' : 'fail']);
    distill.push([`f${i}`, 'fail', i < 1 ? 'pass' : 'fail']);
    base.push([`p${i}`, 'pass', 'pass']);
    distill.push([`p${i}`, 'pass', i < 2 ? 'fail' : 'pass']);
  }
  await writeRun('base', 'BBU接地线检查', base);
  await writeRun('distill', 'BBU接地线检查', distill);
  await writeRun('base', '挂墙式BBU检查', [['w1', 'fail', 'fail']]);
  await writeRun('distill', '挂墙式BBU检查', [['w1', 'fail', 'pass']]);
  await fsp.mkdir(path.join(root, 'base', 'not-a-mission'));
});
afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

function collector() {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } };
  return { io, out, err };
}

describe('stageb compare', () => {
  it('prints machine-readable numbers with --json', async () => {
    const c = collector();
    const code = await main(['compare', '--runs', path.join(root, 'base'), path.join(root, 'distill'), '--json'], c.io);
    expect(c.err).toEqual([]);
    expect(code).toBe(0);
    const result = JSON.parse(c.out.join('')) as RunComparison;
    // base: 11 fail, 4 released; 6+10+1 = 17/21 match. distill: 11 fail, 2 released; 9+8+0 = 17/21 match.
    expect(result.overall.false_release.a).toMatchObject({ successes: 4, n: 11 });
    expect(result.overall.false_release.b).toMatchObject({ successes: 2, n: 11 });
    expect(result.overall.label_match.a).toMatchObject({ successes: 17, n: 21 });
    expect(result.overall.label_match.b).toMatchObject({ successes: 17, n: 21 });
    expect(result.overall.false_release.diff!.estimate).toBeCloseTo(2 / 11 - 4 / 11, 12);
    expect(Object.keys(result.missions).sort()).toEqual(['BBU接地线检查', '挂墙式BBU检查']);
    expect(result.missions['BBU接地线检查'].false_release.b).toMatchObject({ successes: 1, n: 10 });
    expect(result.missions['挂墙式BBU检查'].false_release.b).toMatchObject({ successes: 1, n: 1 });
  });

  it('prints a table overall and per mission', async () => {
    const c = collector();
    expect(await main(['compare', '--runs', path.join(root, 'base'), '--runs', path.join(root, 'distill')], c.io)).toBe(0);
    const text = c.out.join('');
    expect(text).toMatch(/overall\s+false_release\s+36\.4% \[\d+\.\d, \d+\.\d\] 4\/11\s+18\.2% \[\d+\.\d, \d+\.\d\] 2\/11\s+-18\.2 pp/);
    expect(text).toMatch(/BBU接地线检查\s+label_match/);
    expect(text).toMatch(/挂墙式BBU检查\s+false_release\s+0\.0% .*0\/1/);
  });

  it('refuses a wrong number of runs and a run without selections', async () => {
    const c = collector();
    expect(await main(['compare', '--runs', path.join(root, 'base')], c.io)).toBe(2);
    const d = collector();
    expect(await main(['compare', '--runs', path.join(root, 'base'), path.join(root, 'nope')], d.io)).toBe(1);
    expect(d.err.join('')).toMatch(/INPUT_NOT_FOUND/);
    const e = collector();
    expect(await main(['compare', '--runs', path.join(root, 'base'), path.join(root, 'base', 'not-a-mission')], e.io)).toBe(1);
    expect(e.err.join('')).toMatch(/INPUT_EMPTY/);
  });
});
