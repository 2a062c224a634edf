import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeStageBRun } from '../../src/main/composeStageBRun';
import { heldByLiveProcess, listRuns } from '../../src/main/api/runMethods';
import type { ApiContext } from '../../src/main/api/ApiContext';
import { TelemetrySchema, type RunEvent, type Telemetry } from '../../src/shared/schemas/telemetry';
import { openScriptedWorkspace, scriptedModel, writeScriptedRunConfig, type ScriptedWorkspace } from '../helpers/scriptedRun';
import { GuidanceRepository } from '../../src/main/io/GuidanceRepository';
import { exportRun } from '../../src/main/runStageB';

/**
 * A run's life as the runs list and the launcher see it: progress over two epochs,
 * a cancel that finalises telemetry, a resume whose telemetry is the whole run's, and a
 * run no live process holds. The model is the deterministic HashScriptedBackend.
 */
let workspace: ScriptedWorkspace;
let mission: string;
const scripted = scriptedModel;

beforeAll(async () => {
  workspace = await openScriptedWorkspace('stageb-lifecycle-');
  mission = workspace.mission;
});

afterAll(async () => {
  if (workspace) await fsp.rm(workspace.work, { recursive: true, force: true });
});

/** Two epochs of two batches of four groups (reflection on, so resumes carry reflection records too). */
const writeConfig = (name: string, extra: string[] = []) => writeScriptedRunConfig(workspace, name, { epochs: 2, extra });

async function telemetryOf(runDir: string): Promise<Telemetry> {
  return TelemetrySchema.parse(JSON.parse(await fsp.readFile(path.join(runDir, 'telemetry.json'), 'utf8')));
}

type Progress = Extract<RunEvent, { type: 'progress' }>;

describe('run lifecycle', () => {
  let reference: Telemetry;
  let referenceProgress: Progress[];

  it('reports progress over all epochs and per epoch', async () => {
    const { config, runDir } = await writeConfig('uninterrupted');
    referenceProgress = [];
    await composeStageBRun({ configPath: config, model: scripted, onEvent: (e) => e.type === 'progress' && referenceProgress.push(e) });
    reference = await telemetryOf(runDir);
    const total = reference.counts.groups_processed;
    expect(total).toBeGreaterThan(0);
    const last = referenceProgress[referenceProgress.length - 1];
    expect(last.groups_done).toBe(last.groups_total);
    expect(last.groups_total).toBe(total);
    const perEpoch = total / 2;
    for (const event of referenceProgress) {
      expect(event.groups_total).toBe(total);
      expect(event.epoch_groups_total).toBe(perEpoch);
      // The overall bar is every group of every epoch; the epoch bar only this epoch's.
      expect(event.groups_done).toBe(event.epoch * perEpoch + event.epoch_groups_done);
    }
    const firstOfSecondEpoch = referenceProgress.find((e) => e.epoch === 1 && e.epoch_groups_done > 0)!;
    expect(firstOfSecondEpoch.epoch_groups_done / firstOfSecondEpoch.epoch_groups_total).toBeLessThan(1);
    expect(firstOfSecondEpoch.groups_done / firstOfSecondEpoch.groups_total).toBeGreaterThan(0.5);
    expect(referenceProgress.map((e) => e.groups_done)).toEqual([...referenceProgress.map((e) => e.groups_done)].sort((a, b) => a - b));
    const phases = (await fsp.readFile(path.join(runDir, 'events.jsonl'), 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line)).filter((e) => e.type === 'phase').map((e) => e.phase);
    expect([...new Set(phases)]).toEqual(['validate', 'model_load', 'rollout', 'export', 'distill']);
    expect(reference.status).toBe('completed');
    expect(reference.host).toBeNull();
    expect(reference.resumed_at).toEqual([]);
  });

  it('counts every reflection record in exactly one category and records the step each batch sampled with', () => {
    const r = reference.counts.reflections;
    expect(r.records).toBeGreaterThan(0);
    expect(r.applied + r.rejected + r.ineligible + r.generation_error).toBe(r.records);
    for (const batch of reference.batches) {
      expect(batch.guidance_step_after).toBeGreaterThanOrEqual(batch.guidance_step);
      if (!batch.applied) expect(batch.guidance_step_after).toBe(batch.guidance_step);
    }
  });

  it('finalises a cancelled run as cancelled, and its resume adds up to the uninterrupted run', async () => {
    const { config, runDir } = await writeConfig('cancelled');
    const controller = new AbortController();
    await expect(
      composeStageBRun({ configPath: config, model: scripted, signal: controller.signal, onEvent: (e) => e.type === 'batch' && controller.abort() }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    const cancelled = await telemetryOf(runDir);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.finished_at).not.toBeNull();
    expect(cancelled.host).toBeNull();

    const resumedProgress: Progress[] = [];
    await composeStageBRun({ configPath: config, model: scripted, onEvent: (e) => e.type === 'progress' && resumedProgress.push(e) });
    // The first event comes before any batch of the resume finishes and shows what the first process did.
    expect(resumedProgress[0].groups_done).toBe(cancelled.counts.groups_processed);
    expect(resumedProgress[0].eta_ms).toBeNull();

    const resumed = await telemetryOf(runDir);
    expect(resumed.status).toBe('completed');
    expect(resumed.started_at).toBe(cancelled.started_at);
    expect(resumed.resumed_at).toHaveLength(1);
    expect(resumed.tokens.prompt_total).toBe(reference.tokens.prompt_total);
    expect(resumed.tokens.generated).toBe(reference.tokens.generated);
    expect(resumed.counts).toEqual(reference.counts);
    expect(resumed.timings_ms.total).toBeGreaterThanOrEqual(cancelled.timings_ms.total);
    const phases = resumed.timings_ms;
    expect(phases.total).toBeGreaterThanOrEqual(phases.ingest + phases.model_load + phases.rollout + phases.export);
  });

  it('lists a run that says running but that no live process holds as interrupted', async () => {
    const { config, runDir, runsRoot } = await writeConfig('interrupted');
    await composeStageBRun({ configPath: config, model: scripted });
    const telemetry = await telemetryOf(runDir);
    const ctx = { runsRoot } as ApiContext;
    const statusWith = async (host: Telemetry['host']) => {
      await fsp.writeFile(path.join(runDir, 'telemetry.json'), JSON.stringify({ ...telemetry, status: 'running', finished_at: null, host }));
      return (await listRuns(ctx)).runs[0].status;
    };
    expect(await statusWith({ pid: process.pid, hostname: os.hostname() })).toBe('running');
    expect(await statusWith(null)).toBe('interrupted');
    expect(await statusWith({ pid: 2 ** 30, hostname: os.hostname() })).toBe('interrupted');
    expect(heldByLiveProcess({ pid: 123, hostname: `${os.hostname()}-elsewhere` }, () => false)).toBe(true);
    expect(heldByLiveProcess({ pid: 123, hostname: os.hostname() }, () => false)).toBe(false);
  });

  /** Starts a run and cancels it after its first batch, leaving a resumable run with progress. */
  async function cancelledAfterFirstBatch(name: string) {
    const paths = await writeConfig(name);
    const controller = new AbortController();
    await expect(
      composeStageBRun({ configPath: paths.config, model: scripted, signal: controller.signal, onEvent: (e) => e.type === 'batch' && controller.abort() }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    const selections = (await fsp.readFile(path.join(paths.runDir, 'selections.jsonl'), 'utf8')).split('\n').filter(Boolean).length;
    expect(selections).toBeGreaterThan(0);
    return { ...paths, selections };
  }

  it('refuses to resume a run with progress whose guidance.json was deleted, naming the file', async () => {
    const { config, runDir } = await cancelledAfterFirstBatch('guidance-deleted');
    const guidanceFile = path.join(runDir, 'guidance.json');
    await fsp.rm(guidanceFile);
    await expect(composeStageBRun({ configPath: config, model: scripted })).rejects.toMatchObject({
      code: 'GUIDANCE_NOT_FOUND',
      location: { file: guidanceFile },
    });
    // Not silently recreated from the initial file at step 0.
    await expect(fsp.stat(guidanceFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('checks the token budget of guidance a hand edit grew, before anything is sampled or written', async () => {
    const { config, runDir, selections } = await cancelledAfterFirstBatch('hand-edit-over-budget');
    const guidanceFile = path.join(runDir, 'guidance.json');
    const repository = new GuidanceRepository({ path: guidanceFile, mission, snapshotDir: path.join(runDir, 'snapshots'), retention: 50 });
    const current = await repository.read();
    // The scripted backend counts one token per character; the default budget is 2048.
    const edited = await repository.write({ ...current, experiences: { ...current.experiences, [`G${Object.keys(current.experiences).length}`]: '接地'.repeat(1500) } }, current.step);
    await expect(composeStageBRun({ configPath: config, model: scripted })).rejects.toMatchObject({
      code: 'GUIDANCE_OVER_BUDGET',
      location: { file: guidanceFile, field: `${mission}.experiences` },
    });
    const after = (await fsp.readFile(path.join(runDir, 'selections.jsonl'), 'utf8')).split('\n').filter(Boolean).length;
    expect(after).toBe(selections);
    expect((await repository.read()).step).toBe(edited.step);
    expect((await telemetryOf(runDir)).status).toBe('failed');
  });

  it('export refuses an unfinished run and a torn tail, and --allow-incomplete says what it left out', async () => {
    const { config, runDir } = await cancelledAfterFirstBatch('export-incomplete');
    await expect(exportRun(config)).rejects.toMatchObject({ code: 'EXPORT_INCOMPLETE', location: { file: path.join(runDir, 'selections.jsonl') } });
    const partial = await exportRun(config, { allowIncomplete: true });
    expect(partial.leftOut.map((gap) => gap.kind)).toEqual(['incomplete_batch', 'unfinished_run']);
    expect(partial.rows).toBeGreaterThan(0);

    await composeStageBRun({ configPath: config, model: scripted });
    const whole = await exportRun(config);
    expect(whole.leftOut).toEqual([]);

    const selectionsFile = path.join(runDir, 'selections.jsonl');
    const lines = (await fsp.readFile(selectionsFile, 'utf8')).split('\n').filter(Boolean).length;
    await fsp.appendFile(selectionsFile, '{"epoch": 1, "batch_');
    await expect(exportRun(config)).rejects.toMatchObject({ code: 'EXPORT_INCOMPLETE', location: { file: selectionsFile, line: lines + 1 } });
    const despite = await exportRun(config, { allowIncomplete: true });
    expect(despite.leftOut).toMatchObject([{ kind: 'torn_tail', file: selectionsFile, line: lines + 1 }]);
    expect(despite.rows).toBe(whole.rows);
  });

  it('a rerun of a finished run rewrites a missing or changed distill corpus, and its prompts state the two-line protocol', async () => {
    const { config, runDir } = await writeConfig('distill-rerun', ['stage_b_distillation:', '  enabled: true', '  export_last_if_unconverged: true']);
    await composeStageBRun({ configPath: config, model: scripted });
    const corpus = path.join(runDir, 'distill_chatml.jsonl');
    const original = await fsp.readFile(corpus, 'utf8');
    const records = original.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(records.length).toBeGreaterThan(0);
    const telemetry = await telemetryOf(runDir);
    expect(telemetry.distill.rows + telemetry.distill.skipped).toBe(telemetry.counts.train_tickets);
    for (const record of records) {
      // The assistant turn is Verdict/Reason only; a system prompt asking for Confidence would teach the student a protocol it never sees.
      expect(record.messages[2].content.split('\n')).toHaveLength(2);
      expect(record.messages[0].content).not.toContain('Confidence');
    }

    const rerun = async () => {
      const phases: string[] = [];
      const result = await composeStageBRun({ configPath: config, model: scripted, onEvent: (e) => e.type === 'phase' && phases.push(e.phase) });
      expect(result.alreadyComplete).toBe(true);
      return phases;
    };
    expect(await rerun()).not.toContain('distill');
    await fsp.rm(corpus);
    expect(await rerun()).toContain('distill');
    expect(await fsp.readFile(corpus, 'utf8')).toBe(original);
    await fsp.writeFile(corpus, original.split('\n').slice(1).join('\n'));
    expect(await rerun()).toContain('distill');
    expect(await fsp.readFile(corpus, 'utf8')).toBe(original);
  });

  it('two fresh identical runs name the same cache files with the same fingerprints, and every file is listed by its record', async () => {
    // The gate is opened so that plans are applied and later fingerprints build on applied guidance.
    const gateOpen = ['  min_uplift_probability: 0', '  apply_unchanged_verdicts: true', '  allow_holdout_without_fail: true'];
    const runs = [];
    for (const name of ['cache-a', 'cache-b']) {
      const { config, runDir } = await writeConfig(name);
      const text = (await fsp.readFile(config, 'utf8')).replace("  holdout_fraction: 0.34\n", `  holdout_fraction: 0.34\n${gateOpen.join('\n')}\n`);
      await fsp.writeFile(config, text);
      await composeStageBRun({ configPath: config, model: scripted });
      const dir = path.join(runDir, 'reflection_cache');
      const files = (await fsp.readdir(dir)).sort();
      const fingerprints = await Promise.all(files.map(async (f) => JSON.parse(await fsp.readFile(path.join(dir, f), 'utf8')).inputs_fingerprint ?? null));
      const listed = new Set((await fsp.readFile(path.join(runDir, 'reflection.jsonl'), 'utf8')).split('\n').filter(Boolean).flatMap((line) => JSON.parse(line).reflection.cache_artifacts));
      runs.push({ files, fingerprints, listed, applied: (await telemetryOf(runDir)).counts.reflections.applied });
      // Wall-clock times differ between the two runs.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(runs[0].applied).toBeGreaterThan(0);
    expect(runs[1].files).toEqual(runs[0].files);
    expect(runs[1].fingerprints).toEqual(runs[0].fingerprints);
    for (const run of runs) for (const file of run.files) expect(run.listed).toContain(`reflection_cache/${file}`);
  });
});
