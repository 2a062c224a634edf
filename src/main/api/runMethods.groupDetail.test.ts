import * as fsp from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeStageBRun, type StageBModelPort } from '../composeStageBRun';
import type { GenerateRequest, LlmBackend } from '../llm/LlmBackend';
import { parseRunConfigText } from '../io/loadRunConfig';
import { TrajectoryRecordSchema } from '../../shared/schemas/records';
import type { GroupDetailOutput } from '../../shared/api/contract';
import type { DecodeParams } from '../../shared/schemas/decode';
import { openScriptedWorkspace, scriptedModel, writeScriptedRunConfig, type ScriptedWorkspace } from '../../../test/helpers/scriptedRun';
import { createWorkbenchApi, type WorkbenchApi } from './createWorkbenchApi';
import { dispatchApiCall } from './dispatchApiCall';

/**
 * The group detail shows the prompt each candidate was sampled with. The run records no
 * prompt, only what builds it (decode params, guidance step, ticket); this runs the scripted
 * pipeline, captures every rollout prompt the model port received, and checks that
 * groupDetail rebuilds each candidate's prompt byte for byte.
 */
let workspace: ScriptedWorkspace;
let runDir: string;
let api: WorkbenchApi;
/** JSON of a candidate's decode params → the prompts the model received with them. */
const received = new Map<string, { system: string; user: string }[]>();
const decodeKey = (decode: DecodeParams) => JSON.stringify(Object.entries(decode).sort(([a], [b]) => a.localeCompare(b)));

function capturing(port: StageBModelPort): StageBModelPort {
  return {
    ...port,
    open: async (...args: Parameters<StageBModelPort['open']>) => {
      const backend: LlmBackend = await port.open(...args);
      const generate = backend.generate.bind(backend);
      backend.generate = async (request: GenerateRequest, signal?: AbortSignal) => {
        if (request.constraint.kind === 'gbnf') {
          for (const decode of request.candidates) {
            const key = decodeKey(decode);
            const list = received.get(key) ?? [];
            list.push({ system: request.prompt.system, user: request.prompt.userParts.join('') });
            received.set(key, list);
          }
        }
        return generate(request, signal);
      };
      return backend;
    },
  };
}

async function ok<T>(method: string, input: unknown): Promise<T> {
  const envelope = await dispatchApiCall(api.handlers, method, input);
  if (!envelope.ok) throw new Error(`${method}: ${JSON.stringify(envelope.error)}`);
  return envelope.result as T;
}

beforeAll(async () => {
  workspace = await openScriptedWorkspace('stageb-group-prompt-');
  const run = await writeScriptedRunConfig(workspace, 'prompts', { epochs: 2 });
  runDir = run.runDir;
  // The gate is opened so that reflection applies plans and candidates sample under several guidance steps.
  const gateOpen = ['  min_uplift_probability: 0', '  apply_unchanged_verdicts: true', '  allow_holdout_without_fail: true'];
  const text = await fsp.readFile(run.config, 'utf8');
  await fsp.writeFile(run.config, text.replace('  holdout_fraction: 0.34\n', `  holdout_fraction: 0.34\n${gateOpen.join('\n')}\n`));
  await composeStageBRun({ configPath: run.config, model: capturing(scriptedModel) });
  api = createWorkbenchApi({
    runsRoot: run.runsRoot,
    engineLauncher: () => {
      throw new Error('no engine here');
    },
    parseConfig: parseRunConfigText,
  });
}, 120_000);
afterAll(async () => {
  if (workspace) await fsp.rm(workspace.work, { recursive: true, force: true });
});

async function trajectories() {
  return (await fsp.readFile(path.join(runDir, 'trajectories.jsonl'), 'utf8')).trimEnd().split('\n').map((line) => TrajectoryRecordSchema.parse(JSON.parse(line)));
}

describe('groupDetail prompts', () => {
  it('rebuilds every candidate prompt byte for byte as the model port received it', async () => {
    const rows = await trajectories();
    const groups = [...new Set(rows.map((row) => row.group_id))];
    expect(new Set(rows.map((row) => row.guidance_step)).size).toBeGreaterThan(1);
    let checked = 0;
    for (const groupId of groups) {
      const detail = await ok<GroupDetailOutput>('groupDetail', { runId: 'prompts', mission: workspace.mission, groupId });
      expect(detail.prompts).toHaveLength(detail.candidates.length);
      detail.candidates.forEach((candidate, i) => {
        const sent = received.get(decodeKey(candidate.decode));
        expect(sent, `${groupId} candidate ${candidate.candidate_index}`).toHaveLength(1);
        const { prompt, error } = detail.prompts[i];
        expect(error).toBeNull();
        expect(prompt!.system).toBe(sent![0].system);
        expect(prompt!.user).toBe(sent![0].user);
        expect(Buffer.from(prompt!.user, 'utf8').equals(Buffer.from(sent![0].user, 'utf8'))).toBe(true);
        expect(prompt!.sha256).toBe(createHash('sha256').update(`${sent![0].system}\u0000${sent![0].user}`).digest('hex'));
        expect(prompt!.guidance_source).toBe('history');
        expect(prompt!.warnings).toEqual([]);
        checked += 1;
      });
      expect(detail.constraint).toMatchObject({ format: 'three_line', recorded: true });
      expect(detail.constraint!.grammar).toContain('root');
    }
    expect(checked).toBe(rows.length);
  });

  it('warns when a Stage-A file no longer matches the sha256 run.json recorded', async () => {
    const rows = await trajectories();
    const stageA = workspace.demo.stageA;
    const original = await fsp.readFile(stageA, 'utf8');
    try {
      await fsp.writeFile(stageA, `${original}\n`);
      const detail = await ok<GroupDetailOutput>('groupDetail', { runId: 'prompts', mission: workspace.mission, groupId: rows[0].group_id });
      expect(detail.prompts[0].prompt!.warnings).toContain('stage_a_changed');
    } finally {
      await fsp.writeFile(stageA, original);
    }
  });
});

describe('groupDetail neighbors', () => {
  it('steps through the run order when opened directly, and through a table order when one is given', async () => {
    const selections = (await fsp.readFile(path.join(runDir, 'selections.jsonl'), 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as { group_id: string; confidence: number | null; epoch: number });
    const first = selections[0].group_id;
    const direct = await ok<GroupDetailOutput>('groupDetail', { runId: 'prompts', mission: workspace.mission, groupId: selections[1].group_id });
    expect(direct.neighbors).toMatchObject({ source: 'run', index: 1, total: selections.length, previous: { group_id: first, index: 0 }, next: { group_id: selections[2].group_id, index: 2 } });
    const atStart = await ok<GroupDetailOutput>('groupDetail', { runId: 'prompts', mission: workspace.mission, groupId: first });
    expect(atStart.neighbors!.previous).toBeNull();

    // Epoch 1 sorted by group id descending: the table the reviewer came from.
    const table = selections.filter((row) => row.epoch === 1).map((row) => row.group_id).sort().reverse();
    const order = { kind: 'selections', filters: { epoch: 1 }, sort: { field: 'group_id', dir: 'desc' }, index: 2 };
    const inTable = await ok<GroupDetailOutput>('groupDetail', { runId: 'prompts', mission: workspace.mission, groupId: table[2], order });
    expect(inTable.neighbors).toMatchObject({ source: 'table', index: 2, total: table.length, previous: { group_id: table[1], index: 1 }, next: { group_id: table[3], index: 3 } });
    const last = await ok<GroupDetailOutput>('groupDetail', { runId: 'prompts', mission: workspace.mission, groupId: table[table.length - 1], order: { ...order, index: undefined } });
    expect(last.neighbors).toMatchObject({ index: table.length - 1, next: null });
  });

  it('skips the other candidates of the same group in a trajectories table', async () => {
    const rows = await trajectories();
    const groups = [...new Set(rows.filter((row) => row.epoch === 0).map((row) => row.group_id))];
    const order = { kind: 'trajectories', filters: { epoch: 0 }, sort: { field: 'row', dir: 'asc' } };
    const detail = await ok<GroupDetailOutput>('groupDetail', { runId: 'prompts', mission: workspace.mission, groupId: groups[1], order });
    const perGroup = rows.filter((row) => row.epoch === 0 && row.group_id === groups[0]).length;
    expect(detail.neighbors).toMatchObject({ index: perGroup, previous: { group_id: groups[0], index: perGroup - 1 }, next: { group_id: groups[2], index: perGroup * 2 } });
  });
});
