import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseStageASummary } from '../../shared/stageASummary';
import { ingestStageA } from '../io/ingestStageA';
import { loadInitialGuidance, utf8ByteTokenCount } from '../io/loadInitialGuidance';
import { loadRunConfig } from '../io/loadRunConfig';
import { validateExperienceText } from '../../shared/guidance/validateExperienceText';
import { DEMO_MISSION, ensureDemoMission, generateDemoMission, type DemoTruth } from './generateDemoMission';
import { runDemoMissionCommand } from './demoMissionCommand';

const REPO_ROOT = path.resolve(__dirname, '../../..');
let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'demo-mission-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

async function readAll(outDir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const name of (await fsp.readdir(outDir)).sort()) out[name] = await fsp.readFile(path.join(outDir, name));
  return out;
}

describe('generateDemoMission', () => {
  it('is byte-identical for the same seed and differs for another seed', async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    const c = path.join(dir, 'c');
    await generateDemoMission({ outDir: a, seed: 5 });
    await generateDemoMission({ outDir: b, seed: 5 });
    await generateDemoMission({ outDir: c, seed: 6 });
    const filesA = await readAll(a);
    const filesB = await readAll(b);
    expect(Object.keys(filesA)).toEqual(['demo_guidance.json', 'demo_mission.manifest.json', 'demo_mission.stage_a.jsonl', 'demo_mission.truth.json']);
    for (const name of Object.keys(filesA)) expect(filesA[name].equals(filesB[name]), name).toBe(true);
    const filesC = await readAll(c);
    expect(filesC['demo_mission.stage_a.jsonl'].equals(filesA['demo_mission.stage_a.jsonl'])).toBe(false);
  });

  it('writes ~200 tickets that ingest cleanly, in both formats, with irrelevant photos, review markers and 3–8% label noise', async () => {
    const outDir = path.join(dir, 'ingest');
    const paths = await generateDemoMission({ outDir, seed: 17 });
    const { tickets, stats } = await ingestStageA({ paths: [paths.stageA], mission: DEMO_MISSION });
    expect(tickets).toHaveLength(200);
    for (const ticket of tickets) {
      expect(ticket.summaries.length).toBeGreaterThanOrEqual(1);
      expect(ticket.summaries.length).toBeLessThanOrEqual(4);
      expect(ticket.summaries.some((s) => parseStageASummary(s.text).format !== 'irrelevant')).toBe(true);
    }
    expect(stats.summary_formats.text).toBeGreaterThan(50);
    expect(stats.summary_formats.json).toBeGreaterThan(50);
    expect(stats.summary_formats.irrelevant).toBeGreaterThan(5);
    expect(stats.summary_formats.unknown).toBe(0);
    expect(stats.review_markers).toBeGreaterThan(5);
    expect(stats.labels.pass).toBeGreaterThan(50);
    expect(stats.labels.fail).toBeGreaterThan(50);

    const truth = JSON.parse(await fsp.readFile(paths.truth, 'utf8')) as DemoTruth;
    expect(truth.tickets.map((t) => t.ticket_key)).toEqual(tickets.map((t) => t.ticket_key));
    const flipped = truth.tickets.filter((t) => t.true_label !== t.observed_label);
    expect(flipped.map((t) => t.ticket_key)).toEqual(truth.noisy_ticket_keys);
    const rate = flipped.length / tickets.length;
    expect(rate).toBeGreaterThanOrEqual(0.03);
    expect(rate).toBeLessThanOrEqual(0.08);
    // The hidden rules explain every non-noisy label.
    for (const t of truth.tickets) expect(t.true_label).toBe(t.rules.length === 0 ? 'pass' : 'fail');
  });

  it('makes a guidance file that loads, with G0, weak G rules and an S invariant that pass the experience validator', async () => {
    const paths = await generateDemoMission({ outDir: path.join(dir, 'guidance'), seed: 17 });
    const state = await loadInitialGuidance(paths.guidance, DEMO_MISSION, { countTokens: utf8ByteTokenCount, maxTokens: 1024 });
    expect(Object.keys(state.experiences)).toEqual(expect.arrayContaining(['G0', 'G1', 'S1']));
    for (const [key, text] of Object.entries(state.experiences)) expect(validateExperienceText(key, text)).toBeNull();
  });

  it('ensureDemoMission reuses matching files and regenerates on another seed or an edit', async () => {
    const outDir = path.join(dir, 'ensure');
    expect((await ensureDemoMission(outDir, 3, 40)).generated).toBe(true);
    const first = await readAll(outDir);
    expect((await ensureDemoMission(outDir, 3, 40)).generated).toBe(false);
    expect((await ensureDemoMission(outDir, 4, 40)).generated).toBe(true);
    expect((await ensureDemoMission(outDir, 3, 40)).generated).toBe(true);
    expect(await readAll(outDir)).toEqual(first);
    await fsp.appendFile(path.join(outDir, 'demo_mission.stage_a.jsonl'), '\n');
    expect((await ensureDemoMission(outDir, 3, 40)).generated).toBe(true);
    expect(await readAll(outDir)).toEqual(first);
  });

  it('writes, then reuses, the files of a seed and count', async () => {
    const line = await runDemoMissionCommand({ outDir: 'cmd', seed: 9, count: 12 }, dir);
    expect(line).toContain('written');
    expect(await runDemoMissionCommand({ outDir: 'cmd', seed: 9, count: 12 }, dir)).toContain('up to date');
    const { tickets } = await ingestStageA({ paths: [path.join(dir, 'cmd', 'demo_mission.stage_a.jsonl')], mission: DEMO_MISSION });
    expect(tickets).toHaveLength(12);
  });
});

describe('shipped configs', () => {
  it('configs/demo.yaml validates and points at the demo files', async () => {
    const { config } = await loadRunConfig(path.join(REPO_ROOT, 'configs/demo.yaml'));
    expect(config.mission).toBe(DEMO_MISSION);
    expect(config.stage_a_paths).toEqual([path.join(REPO_ROOT, 'resources/demo/demo_mission.stage_a.jsonl')]);
    expect(config.guidance.path).toBe(path.join(REPO_ROOT, 'resources/demo/demo_guidance.json'));
    expect(config.model).toMatchObject({ backend: 'llama-cpp', path: path.join(REPO_ROOT, 'resources/models/tiny.gguf') });
    expect(config.output.root).toBe(path.join(REPO_ROOT, 'runs'));
    expect(config.reflection.enabled).toBe(true);
    // The grammar-bound verdict fits: a 3-token-per-character reason plus the fixed lines.
    expect(config.sampler.max_new_tokens).toBeGreaterThanOrEqual(config.sampler.max_reason_chars * 3 + 40);
  });

  it('configs/example.yaml validates and sets every top-level section explicitly', async () => {
    const { config, raw } = await loadRunConfig(path.join(REPO_ROOT, 'configs/example.yaml'));
    expect(config.mission).toBe('BBU接地线检查');
    expect(Object.keys(raw as object).sort()).toEqual(Object.keys(config).sort());
  });
});
