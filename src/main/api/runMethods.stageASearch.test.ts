import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfigText } from '../io/loadRunConfig';
import { writeJsonlRows } from '../io/jsonl';
import { RunManifestSchema } from '../../shared/schemas/telemetry';
import { createWorkbenchApi, type WorkbenchApi } from './createWorkbenchApi';
import { dispatchApiCall } from './dispatchApiCall';
import { fixtureSelections, fixtureTrajectories, writeFixtureRun } from './fixtureRun';
import { RUN_FILES } from './runDirectory';

/**
 * The rows' free-text search covers the tickets' Stage-A summaries, which live in the run's
 * input files (run.json), not in trajectories.jsonl or selections.jsonl.
 */
const MISSION = 'BBU接地线检查';
const OPTIONS = { runName: 'run-s', mission: MISSION, groups: 21, candidates: 2, epochs: 2 };
const REF = { runId: 'run-s', mission: MISSION };
/** The real 挡风板 mission (../shared); every ticket's summaries name the baffle. */
const WIND = path.resolve(__dirname, '../../../../shared/datasets/bbu-qc-2025/bbu_wind.stage_a.jsonl');

let root: string;
let api: WorkbenchApi;

type Page = { total: number; partial?: boolean; rows: { record: { group_id: string } }[] };

/** Asks until the answer is complete, as the table does: while the Stage-A inputs are parsed it is provisional (partial). */
async function rows(input: Record<string, unknown>, ref: Record<string, unknown> = REF): Promise<Page> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const envelope = await dispatchApiCall(api.handlers, 'queryRows', { ...ref, limit: 500, ...input });
    if (!envelope.ok) throw new Error(JSON.stringify(envelope.error));
    const page = envelope.result as Page;
    if (!page.partial) return page;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the answer stayed partial');
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'stageb-stage-a-search-'));
  await writeFixtureRun(root, OPTIONS);
  api = createWorkbenchApi({
    runsRoot: root,
    engineLauncher: () => {
      throw new Error('no engine here');
    },
    parseConfig: parseRunConfigText,
  });
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('free-text search over the Stage-A summaries', () => {
  it('finds every row of the tickets whose summaries hold a term no row holds', async () => {
    // The fixture's summaries name the vendor 华为; no response, reason, summary or critique does.
    const trajectoryText = [...fixtureTrajectories(OPTIONS)].map((row) => JSON.stringify(row)).join('\n');
    expect(trajectoryText).not.toContain('华为');
    const selections = await rows({ kind: 'selections', filters: { text: '华为' } });
    expect(selections.total).toBe([...fixtureSelections(OPTIONS)].length);
    const trajectories = await rows({ kind: 'trajectories', filters: { text: '华为' } });
    expect(trajectories.total).toBe(OPTIONS.groups * OPTIONS.candidates * OPTIONS.epochs);
    // And with the other filters: the Stage-A match is one half of the text filter, ANDed with the rest.
    const epoch1 = await rows({ kind: 'selections', filters: { text: '华为', epoch: 1, label: 'fail' } });
    expect(epoch1.total).toBe([...fixtureSelections(OPTIONS)].filter((row) => row.epoch === 1 && row.label === 'fail').length);
    expect((await rows({ kind: 'selections', filters: { text: '中兴' } })).total).toBe(0);
  });

  it.skipIf(!existsSync(WIND))('finds the 挡风板 tickets of the real mission', async () => {
    const tickets = (await readFile(WIND, 'utf8')).trimEnd().split('\n').slice(0, 6).map((line) => JSON.parse(line) as { group_id: string; label: 'pass' | 'fail'; mission: string });
    const mission = tickets[0].mission;
    const dir = path.join(root, 'wind', mission);
    await mkdir(dir, { recursive: true });
    // The fixture's rows, re-keyed to the real tickets: schema-valid rows whose own text never names the baffle.
    const template = [...fixtureSelections({ ...OPTIONS, groups: tickets.length, epochs: 1 })];
    await writeJsonlRows(path.join(dir, RUN_FILES.selections), template.map((row, i) => ({ ...row, mission, group_id: tickets[i].group_id, ticket_key: `${tickets[i].group_id}::${tickets[i].label}`, label: tickets[i].label })));
    await writeFile(path.join(dir, RUN_FILES.manifest), JSON.stringify(RunManifestSchema.parse({
      run_name: 'wind', mission, seed: 1, config: { mission, stage_a_paths: [WIND] }, config_hash: 'x',
      model: { backend: 'llama-cpp', path: null, fingerprint: null, name: null }, versions: {},
      inputs: [{ path: WIND, sha256: 'x', lines: 103 }], created_at: '2025-01-01T00:00:00.000Z',
    })));
    expect((await rows({ kind: 'selections', filters: { text: '挡风板' } }, { runId: 'wind', mission })).total).toBe(tickets.length);
  });
});
