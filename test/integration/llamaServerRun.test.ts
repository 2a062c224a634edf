import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModelForTests } from '../helpers/tinyModel';
import { llamaServerForTests, startLlamaServer, type LlamaServer } from '../helpers/llamaServer';
import { readJsonLines, writeServerRunConfig } from '../helpers/llamaServerRun';
import { ensureDemoMission } from '../../src/main/demo/generateDemoMission';
import { runStageB } from '../../src/main/runStageB';
import { parseVerdictResponse } from '../../src/shared/verdictProtocol';
import { ReflectionLogRecordSchema, SelectionRecordSchema, TrajectoryRecordSchema, ExportRowSchema } from '../../src/shared/schemas/records';
import { RunEventSchema, RunManifestSchema, TelemetrySchema } from '../../src/shared/schemas/telemetry';
import { GuidanceFileSchema, GuidanceHistoryEntrySchema } from '../../src/shared/schemas/guidance';

/**
 * A full Stage-B run (rollout, three-stage reflection, holdout gate) through
 * `model.backend: openai` against a real llama-server on the tiny random-weight
 * model. Verdicts are noise; what is under test is the path: grammars honoured by
 * the server, every artifact schema-valid, and the server's cache accounting in telemetry.
 */
const llamaServer = llamaServerForTests('Stage-B run through llama-server');

const TICKETS = 10;
const K = 2;

describe.skipIf(!llamaServer)('Stage-B run through llama-server', () => {
  let dir: string;
  let server: LlamaServer;
  let demo: Awaited<ReturnType<typeof ensureDemoMission>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stageb-llama-server-run-'));
    const model = await ensureTinyModelForTests();
    demo = await ensureDemoMission(join(dir, 'demo'), 17, 20);
    // Two slots, so the K candidates of a group decode side by side with the prompt cache on.
    server = await startLlamaServer({ binary: llamaServer!, model, parallel: 2, contextSize: 2 * 8192 });
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('completes with schema-valid artifacts, grammar-bound verdicts and JSON reflections, and the cache accounting', async () => {
    const configPath = await writeServerRunConfig({
      dir,
      name: 'through-server',
      baseUrl: server.baseUrl,
      stageA: demo.stageA,
      guidance: demo.guidance,
      tickets: TICKETS,
      candidates: K,
      concurrency: 2,
      contextSize: 8192,
    });
    const result = await runStageB({ configPath });
    expect(result.status, server.log().slice(-3000)).toBe('completed');
    const runDir = result.runDir;

    const manifest = RunManifestSchema.parse(JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')));
    expect(manifest.model.backend).toBe('openai');
    const telemetry = TelemetrySchema.parse(JSON.parse(await readFile(join(runDir, 'telemetry.json'), 'utf8')));
    const trajectories = (await readJsonLines(join(runDir, 'trajectories.jsonl'))).map((row) => TrajectoryRecordSchema.parse(row));
    const selections = (await readJsonLines(join(runDir, 'selections.jsonl'))).map((row) => SelectionRecordSchema.parse(row));
    const reflections = (await readJsonLines(join(runDir, 'reflection.jsonl'))).map((row) => ReflectionLogRecordSchema.parse(row));
    (await readJsonLines(join(runDir, 'events.jsonl'))).forEach((row) => RunEventSchema.parse(row));
    (await readJsonLines(join(runDir, 'guidance_history.jsonl'))).forEach((row) => GuidanceHistoryEntrySchema.parse(row));
    (await readJsonLines(join(runDir, 'export/verdicts.jsonl'))).forEach((row) => ExportRowSchema.parse(row));
    GuidanceFileSchema.parse(JSON.parse(await readFile(join(runDir, 'guidance.json'), 'utf8')));

    const train = telemetry.counts.train_tickets;
    expect(train + telemetry.counts.holdout_tickets).toBe(TICKETS);
    expect(trajectories).toHaveLength(train * K);
    expect(selections).toHaveLength(train);
    // The server honoured the verdict GBNF sent in `grammar`: a random model still emits only well-formed verdicts.
    for (const row of trajectories) {
      expect(row.format_ok, row.response_text).toBe(true);
      expect(parseVerdictResponse(row.response_text).ok).toBe(true);
    }
    // Every JSON stage (summary, critique, batch update) came back as schema-valid JSON: no generation_error,
    // and the summaries are not empty.
    expect(reflections.length).toBeGreaterThan(0);
    for (const row of reflections) {
      expect(row.reflection.ineligible_reason, JSON.stringify(row.reflection.debug_info)).not.toBe('generation_error');
      expect(row.reflection.proposal.summary.length).toBeGreaterThan(0);
    }
    // Telemetry carries the server's own accounting: prompt tokens it evaluated (timings.prompt_n)
    // against all prompt tokens sent; the difference is what it reused from its slot cache (timings.cache_n).
    expect(telemetry.tokens.prompt_total).toBeGreaterThan(0);
    expect(telemetry.tokens.prompt_evaluated).toBeGreaterThan(0);
    expect(telemetry.tokens.prompt_evaluated).toBeLessThan(telemetry.tokens.prompt_total);
    expect(telemetry.tokens.generated).toBeGreaterThan(0);
  }, 600_000);
});
