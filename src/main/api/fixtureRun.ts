import path from 'node:path';
import { createRng } from '../../shared/random';
import { NeedReviewRecordSchema, type SelectionRecord, type TrajectoryRecord, type WarningCode } from '../../shared/schemas/records';
import { RunManifestSchema } from '../../shared/schemas/telemetry';
import { FsArtifactStore } from '../io/FsArtifactStore';
import { writeJsonlRows } from '../io/jsonl';
import { openRunGuidance } from '../io/GuidanceRepository';
import type { GuidanceState } from '../../shared/schemas/guidance';

/**
 * Schema-valid run artifacts for tests and the workbench bench: deterministic
 * (seeded) so a test can compute what a filter must return from the same rows.
 */
export type FixtureOptions = { runName: string; mission: string; groups: number; candidates: number; epochs: number; seed?: number };

const REASONS_FAIL = ['接地线未连接到接地排', '未见黄绿色接地线', 'BBU接地线线径不合规', '接地端子松动'];
const REASONS_PASS = ['接地线已连接且线径合规', '接地排连接牢固', '黄绿色接地线可见'];

export function groupIdOf(index: number): string {
  return `QC-${String(index).padStart(7, '0')}`;
}

export function* fixtureTrajectories(options: FixtureOptions): Generator<TrajectoryRecord> {
  const rng = createRng(options.seed ?? 7);
  for (let epoch = 0; epoch < options.epochs; epoch += 1) {
    for (let g = 0; g < options.groups; g += 1) {
      const groupId = groupIdOf(g);
      const label = g % 3 === 0 ? 'fail' : g % 7 === 0 ? null : 'pass';
      for (let k = 0; k < options.candidates; k += 1) {
        const malformed = rng() < 0.05;
        const verdict = malformed ? null : rng() < 0.8 ? (label ?? 'pass') : label === 'pass' ? 'fail' : 'pass';
        const reasons = verdict === 'fail' ? REASONS_FAIL : REASONS_PASS;
        const reason = malformed ? null : reasons[Math.floor(rng() * reasons.length)];
        const confidence = malformed ? null : Math.round(rng() * 100) / 100;
        const warnings: WarningCode[] = [];
        if (malformed) warnings.push('malformed_output');
        if (!malformed && rng() < 0.1) warnings.push('low_self_consistency');
        const response = malformed ? 'Verdict: ???' : `Verdict: ${verdict === 'pass' ? '通过' : '不通过'}\nReason: ${reason}\nConfidence: ${confidence}`;
        yield {
          run_name: options.runName,
          mission: options.mission,
          epoch,
          batch_index: Math.floor(g / 8),
          group_id: groupId,
          ticket_key: `${groupId}::${label ?? 'unlabeled'}`,
          label,
          candidate_index: k,
          decode: { temperature: k % 2 ? 1 : 0.7, top_p: 0.9, seed: 1000 + k, max_new_tokens: 256, prompt_variant: k % 2 ? 'checklist' : 'default' },
          response_text: response,
          verdict,
          reason,
          confidence,
          format_ok: !malformed,
          parse_error: malformed ? 'missing Reason line' : null,
          signals: {
            label_match: label === null || verdict === null ? null : verdict === label,
            self_consistency: malformed ? null : Math.round(rng() * 100) / 100,
            candidate_agreement: malformed ? null : rng() < 0.6,
            confidence,
            label_trust: label === null ? null : 1,
          },
          guidance_step: epoch * 3 + Math.floor(g / 50),
          reflection_cycle: Math.floor(g / 8),
          summary: k === 0 ? `候选${k}认为${reason ?? '输出格式错误'}。` : null,
          critique: k === 0 && verdict !== label ? `需复核：${groupId} 的判断与标签不一致。` : null,
          tokens: { prompt: 900 + (g % 50), generated: 40 + k },
          warnings,
          created_at: new Date(Date.UTC(2025, 0, 1, 0, 0, g)).toISOString(),
        };
      }
    }
  }
}

export function* fixtureSelections(options: FixtureOptions): Generator<SelectionRecord> {
  const rows: TrajectoryRecord[] = [];
  for (const row of fixtureTrajectories(options)) {
    rows.push(row);
    if (rows.length < options.candidates) continue;
    const first = rows.find((r) => r.verdict !== null) ?? rows[0];
    const vote = { pass: rows.filter((r) => r.verdict === 'pass').length, fail: rows.filter((r) => r.verdict === 'fail').length, malformed: rows.filter((r) => r.verdict === null).length };
    const g = Number(first.group_id.slice(3));
    yield {
      run_name: first.run_name,
      mission: first.mission,
      epoch: first.epoch,
      batch_index: first.batch_index,
      group_id: first.group_id,
      ticket_key: first.ticket_key,
      label: first.label,
      selected_candidate: first.verdict === null ? null : first.candidate_index,
      verdict: first.verdict,
      reason: first.reason,
      confidence: first.confidence,
      response_text: first.response_text,
      vote,
      selection_rule: 'majority_then_confidence',
      signals: first.signals,
      guidance_step: first.guidance_step,
      reflection_cycle: first.reflection_cycle,
      reflection_id: null,
      summary: first.summary,
      critique: first.critique,
      eligible: g % 5 === 0 ? false : true,
      ineligible_reason: g % 5 === 0 ? 'holdout_no_uplift' : null,
      warnings: first.warnings,
      created_at: first.created_at,
    };
    rows.length = 0;
  }
}

export function fixtureGuidance(step: number, extra = 0): GuidanceState {
  const experiences: Record<string, string> = { G0: '检查BBU接地线是否连接到接地排，线径是否合规。' };
  for (let i = 1; i <= extra; i += 1) experiences[`G${i}`] = `经验${i}：黄绿色线缆可见时视为接地线存在。`;
  return { step, updated_at: '2025-01-01T00:00:00.000Z', experiences, metadata: {} };
}

/** Rows in chunks, so a 500k-row bench fixture goes through the store without one giant array. */
function* chunksOf<T>(rows: Iterable<T>, size: number): Generator<T[]> {
  let chunk: T[] = [];
  for (const row of rows) {
    chunk.push(row);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * A complete small mission run directory: artifacts, guidance + two snapshots, a Stage-A
 * input file, run.json. Written through the run directory's owners (FsArtifactStore,
 * GuidanceRepository), as the engine writes a run.
 */
export async function writeFixtureRun(runsRoot: string, options: FixtureOptions): Promise<string> {
  const dir = path.join(runsRoot, options.runName, options.mission);
  const store = new FsArtifactStore(dir);
  await store.ensureDir();
  for (const chunk of chunksOf(fixtureTrajectories(options), 5000)) await store.appendTrajectories(chunk);
  for (const chunk of chunksOf(fixtureSelections(options), 5000)) await store.appendSelections(chunk);
  // Steps 0 → 1 → 2 leave snapshots of steps 0 and 1, as a run with two applied reflections does.
  let tick = 0;
  const repository = openRunGuidance({ missionDir: dir, mission: options.mission, clock: () => new Date(Date.UTC(2025, 0, 1, 0, 0, tick++)) });
  await repository.initialize(fixtureGuidance(0, 0));
  for (const step of [1, 2]) await repository.write({ experiences: fixtureGuidance(step, step).experiences }, step - 1, { by: { kind: 'reflection', author: null, reflection_id: `refl-fixture-${step}` } });
  const stageA = path.join(runsRoot, options.runName, 'input.stage_a.jsonl');
  const tickets: unknown[] = [];
  for (let g = 0; g < options.groups; g += 1) {
    const label = g % 3 === 0 ? 'fail' : g % 7 === 0 ? undefined : '通过';
    tickets.push({ group_id: groupIdOf(g), mission: options.mission, label, images: ['a.jpg', 'b.jpg'], per_image: { image_2: '无关图片', image_1: 'BBU设备/华为,显示完整×1，接地线/已连接×1' } });
  }
  await writeJsonlRows(stageA, tickets);
  await store.writeManifest(
    RunManifestSchema.parse({
      run_name: options.runName,
      mission: options.mission,
      seed: options.seed ?? 7,
      config: { stage_a_paths: [stageA] },
      config_hash: 'x',
      model: { backend: 'llama-cpp', path: '/models/tiny.gguf', fingerprint: null, name: null },
      versions: {},
      inputs: [{ path: stageA, sha256: 'x', lines: options.groups }],
      created_at: '2025-01-01T00:00:00.000Z',
    }),
  );
  await store.writeNeedReview([
    NeedReviewRecordSchema.parse({ mission: options.mission, group_id: groupIdOf(1), ticket_key: `${groupIdOf(1)}::pass`, label: 'pass', agreed_verdict: 'fail', epochs: [0, 1], evidence: [], created_at: '2025-01-01T00:00:00.000Z' }),
  ]);
  return dir;
}
