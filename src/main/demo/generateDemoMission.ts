import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createRng, deriveSeed, shuffled } from '../../shared/random';
import type { StoredGuidanceState } from '../../shared/schemas/guidance';
import { IRRELEVANT_IMAGE, renderStageASummaryJson, renderStageASummaryText, type StageASummaryEntryInput } from '../../shared/stageASummary';
import { ticketKey } from '../../shared/verdict';
import { writeFileAtomic } from '../io/jsonl';

/**
 * A synthetic mission in the same domain as the real data, for the demo run and
 * for tests and benches that must check learning against known rules:
 * RRU接地与防水检查 (RRU grounding and waterproofing). Tickets are labelled by
 * hidden rules (recorded in the truth sidecar, never shown to the model), with a
 * fixed share of flipped labels as noise.
 */
export const DEMO_MISSION = 'RRU接地与防水检查';
/** Bump when the output for a given seed changes, so ensureDemoMission regenerates. */
export const DEMO_GENERATOR_VERSION = 1;
export const DEMO_DEFAULT_SEED = 17;
export const DEMO_DEFAULT_COUNT = 200;
export const DEMO_LABEL_NOISE_RATE = 0.05;

export const DEMO_FILES = {
  stageA: 'demo_mission.stage_a.jsonl',
  guidance: 'demo_guidance.json',
  truth: 'demo_mission.truth.json',
  manifest: 'demo_mission.manifest.json',
} as const;

/** Fixed so that the same seed gives byte-identical files. */
const DEMO_TIMESTAMP = '2025-01-01T00:00:00.000Z';

export const DEMO_HIDDEN_RULES = [
  { id: 'R1_grounding_missing', description: '整组照片中没有任何一张显示RRU接地线已连接 → 不通过' },
  { id: 'R2_grounding_bad', description: '任意一张照片显示接地线未连接或接地端子锈蚀 → 不通过' },
  { id: 'R3_waterproof_bad', description: '任意一张照片显示防水胶带缠绕不完整/破损，或馈线接头无防水处理 → 不通过' },
  { id: 'PASS', description: '其余情况（接地线已连接且所有防水处理完好）→ 通过；无关图片与带需复核备注的条目不影响判定' },
] as const;
export type DemoRuleId = (typeof DEMO_HIDDEN_RULES)[number]['id'];

export type DemoTruthTicket = {
  ticket_key: string;
  group_id: string;
  /** The label the hidden rules give. */
  true_label: 'pass' | 'fail';
  /** The label written to the Stage-A file (differs from true_label for noisy tickets). */
  observed_label: 'pass' | 'fail';
  rules: DemoRuleId[];
  noisy: boolean;
};

export type DemoTruth = {
  generator_version: number;
  seed: number;
  mission: string;
  rules: typeof DEMO_HIDDEN_RULES;
  label_noise_rate: number;
  noisy_ticket_keys: string[];
  tickets: DemoTruthTicket[];
};

export type GenerateDemoMissionOptions = { outDir: string; seed?: number; count?: number };

export type DemoMissionPaths = { outDir: string; stageA: string; guidance: string; truth: string; manifest: string };

type Rng = () => number;

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)];
}

function chance(rng: Rng, p: number): boolean {
  return rng() < p;
}

function intBetween(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

const BRANDS = ['华为', '中兴', '爱立信'] as const;
const VISIBILITY = ['显示完整', '只显示部分'] as const;

const entry = (category: string, attributes: string[], count = 1, extra: Partial<StageASummaryEntryInput> = {}): StageASummaryEntryInput => ({
  category,
  attributes,
  count,
  ...extra,
});

function rruEntry(rng: Rng): StageASummaryEntryInput {
  return entry('RRU设备', [pick(rng, BRANDS), pick(rng, VISIBILITY)], chance(rng, 0.2) ? 2 : 1);
}

function groundingGood(rng: Rng): StageASummaryEntryInput[] {
  const out = [entry('接地线', ['已连接', pick(rng, ['线径合规', '走线平直', '线径合规'])], intBetween(rng, 1, 2))];
  if (chance(rng, 0.6)) out.push(entry('螺丝', ['接地端子', '紧固无锈蚀'], intBetween(rng, 1, 3)));
  if (chance(rng, 0.4)) out.push(entry('标签', ['RRU-接地线']));
  return out;
}

function groundingBad(rng: Rng): StageASummaryEntryInput[] {
  if (chance(rng, 0.5)) return [entry('接地线', ['未连接', pick(rng, ['线头悬空', '端子脱落'])])];
  return [entry('接地线', ['已连接', '线径合规']), entry('螺丝', ['接地端子', '锈蚀'], intBetween(rng, 1, 2))];
}

function waterproofGood(rng: Rng): StageASummaryEntryInput[] {
  const out: StageASummaryEntryInput[] = [];
  if (chance(rng, 0.7)) out.push(entry('防水胶带', ['缠绕完整', pick(rng, ['三层缠绕', '自下而上缠绕'])], intBetween(rng, 1, 3)));
  if (chance(rng, 0.6) || out.length === 0) out.push(entry('馈线接头', ['有防水处理', pick(rng, ['防水盒', '冷缩管'])], intBetween(rng, 1, 2)));
  return out;
}

function waterproofBad(rng: Rng): StageASummaryEntryInput[] {
  if (chance(rng, 0.5)) return [entry('防水胶带', ['缠绕不完整', pick(rng, ['有破损', '接头外露'])])];
  return [entry('馈线接头', ['无防水处理'], intBetween(rng, 1, 2))];
}

function filler(rng: Rng): StageASummaryEntryInput[] {
  const options: StageASummaryEntryInput[] = [
    entry('光纤', ['有保护措施', pick(rng, ['蛇形管', '铠装'])], intBetween(rng, 1, 3)),
    entry('标签', [pick(rng, ['RRU1-光纤', 'RRU2-光纤', 'RRU-电源线'])]),
    entry('电源线', ['捆扎整齐'], intBetween(rng, 1, 2)),
  ];
  return options.filter(() => chance(rng, 0.35));
}

const REVIEW_REMARKS: Record<string, string> = {
  防水胶带: '部分遮挡,无法判断缠绕情况',
  螺丝: '拍摄角度问题,无法判断是否紧固',
  馈线接头: '光线较暗,无法判断防水处理',
};

function reviewEntry(rng: Rng): StageASummaryEntryInput {
  const category = pick(rng, Object.keys(REVIEW_REMARKS));
  return entry(category, [], 1, { review: true, remark: REVIEW_REMARKS[category] });
}

type Scenario = { rules: DemoRuleId[] };

function pickScenario(rng: Rng): Scenario {
  const roll = rng();
  if (roll < 0.45) return { rules: [] };
  if (roll < 0.6) return { rules: ['R1_grounding_missing'] };
  if (roll < 0.75) return { rules: ['R2_grounding_bad'] };
  if (roll < 0.93) return { rules: ['R3_waterproof_bad'] };
  return { rules: ['R2_grounding_bad', 'R3_waterproof_bad'] };
}

/** Evidence blocks for a scenario, spread over the relevant images afterwards. */
function evidenceFor(rng: Rng, scenario: Scenario): StageASummaryEntryInput[][] {
  const blocks: StageASummaryEntryInput[][] = [];
  const rules = new Set(scenario.rules);
  if (rules.has('R2_grounding_bad')) {
    blocks.push(groundingBad(rng));
    if (chance(rng, 0.4)) blocks.push(groundingGood(rng));
  } else if (!rules.has('R1_grounding_missing')) {
    blocks.push(groundingGood(rng));
  }
  if (rules.has('R3_waterproof_bad')) {
    blocks.push(waterproofBad(rng));
    if (chance(rng, 0.5)) blocks.push(waterproofGood(rng));
  } else {
    blocks.push(waterproofGood(rng));
  }
  return blocks;
}

type DemoTicket = { line: Record<string, unknown>; truth: Omit<DemoTruthTicket, 'ticket_key' | 'observed_label' | 'noisy'> };

function buildTicket(seed: number, index: number): DemoTicket {
  const rng = createRng(deriveSeed(seed, 'demo-ticket', index));
  const groupId = `DEMO-RRU-${String(seed).padStart(2, '0')}-${String(index + 1).padStart(4, '0')}`;
  const scenario = pickScenario(rng);
  const blocks = evidenceFor(rng, scenario);
  const imageCount = Math.max(1, Math.min(4, intBetween(rng, 1, 4)));
  const relevant: StageASummaryEntryInput[][] = Array.from({ length: imageCount }, () => []);
  // Irrelevant photos only where other photos carry the evidence.
  const irrelevant = new Set<number>();
  for (let i = 0; i < imageCount; i++) if (imageCount > 1 && chance(rng, 0.12) && irrelevant.size < imageCount - 1) irrelevant.add(i);
  const usable = relevant.map((_, i) => i).filter((i) => !irrelevant.has(i));
  for (const block of blocks) relevant[pick(rng, usable)].push(...block);
  for (const i of usable) {
    if (chance(rng, 0.5) || relevant[i].length === 0) relevant[i].unshift(rruEntry(rng));
    relevant[i].push(...filler(rng));
    if (chance(rng, 0.07)) relevant[i].push(reviewEntry(rng));
  }
  const formatMode = pick(rng, ['text', 'json', 'mixed', 'text', 'json'] as const);
  const perImage: Record<string, string> = {};
  const images: string[] = [];
  for (let i = 0; i < imageCount; i++) {
    const name = `image_${i + 1}`;
    images.push(`${groupId}_${name}.jpeg`);
    if (irrelevant.has(i)) {
      perImage[name] = chance(rng, 0.5) ? IRRELEVANT_IMAGE : `${IRRELEVANT_IMAGE}×1`;
      continue;
    }
    const useJson = formatMode === 'json' || (formatMode === 'mixed' && chance(rng, 0.5));
    if (useJson) {
      const groupStats = chance(rng, 0.3) ? groupCounts(relevant[i]) : undefined;
      perImage[name] = renderStageASummaryJson(relevant[i], { groupStats });
    } else {
      perImage[name] = renderStageASummaryText(relevant[i]);
    }
  }
  const trueLabel = scenario.rules.length === 0 ? 'pass' : 'fail';
  return {
    line: { group_id: groupId, mission: DEMO_MISSION, label: trueLabel, images, per_image: perImage },
    truth: { group_id: groupId, true_label: trueLabel, rules: scenario.rules },
  };
}

function groupCounts(entries: readonly StageASummaryEntryInput[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of entries) {
    const group = item.category === '接地线' || item.category === '螺丝' ? '接地' : item.category === '防水胶带' || item.category === '馈线接头' ? '防水' : '其他';
    out[group] = (out[group] ?? 0) + item.count;
  }
  return out;
}

export function buildDemoGuidance(): Record<string, StoredGuidanceState> {
  const meta = (rationale: string) => ({ origin: 'initial' as const, reflection_id: null, sources: [], rationale, updated_at: DEMO_TIMESTAMP });
  return {
    [DEMO_MISSION]: {
      step: 0,
      updated_at: DEMO_TIMESTAMP,
      experiences: {
        G0: '任务：RRU接地与防水检查。逐张阅读照片摘要，确认RRU接地线是否可见并可靠连接，确认防水胶带与馈线接头的防水处理是否完好；无关图片不作为证据。',
        G1: '照片中能看到RRU设备且显示完整时，一般可以判定通过。',
        G2: '摘要中出现接地线即可视为接地合格。',
        S1: '只依据摘要中出现的事实判断，不臆测未出现的部件；带需复核备注的条目只作参考。',
      },
      metadata: {
        G0: meta('mission checklist'),
        G1: meta('weak starting rule: ignores grounding and waterproofing'),
        G2: meta('weak starting rule: ignores 未连接 and 锈蚀'),
        S1: meta('invariant'),
      },
    },
  };
}

export type DemoMissionContent = { stageA: string; guidance: string; truth: string; truthValue: DemoTruth };

/** The demo files as strings, deterministically from the seed (no IO). */
export function buildDemoMission(seed: number = DEMO_DEFAULT_SEED, count: number = DEMO_DEFAULT_COUNT): DemoMissionContent {
  const tickets = Array.from({ length: count }, (_, i) => buildTicket(seed, i));
  const noisyCount = Math.round(count * DEMO_LABEL_NOISE_RATE);
  const noisyIndexes = new Set(shuffled(tickets.map((_, i) => i), deriveSeed(seed, 'demo-noise')).slice(0, noisyCount));
  const lines: string[] = [];
  const truthTickets: DemoTruthTicket[] = [];
  tickets.forEach((ticket, i) => {
    const noisy = noisyIndexes.has(i);
    const observed = noisy ? (ticket.truth.true_label === 'pass' ? 'fail' : 'pass') : ticket.truth.true_label;
    ticket.line.label = observed;
    lines.push(JSON.stringify(ticket.line));
    truthTickets.push({ ticket_key: ticketKey(ticket.truth.group_id, observed), ...ticket.truth, observed_label: observed, noisy });
  });
  const truthValue: DemoTruth = {
    generator_version: DEMO_GENERATOR_VERSION,
    seed,
    mission: DEMO_MISSION,
    rules: DEMO_HIDDEN_RULES,
    label_noise_rate: count === 0 ? 0 : noisyCount / count,
    noisy_ticket_keys: truthTickets.filter((t) => t.noisy).map((t) => t.ticket_key),
    tickets: truthTickets,
  };
  return {
    stageA: lines.join('\n') + (lines.length ? '\n' : ''),
    guidance: JSON.stringify(buildDemoGuidance(), null, 2) + '\n',
    truth: JSON.stringify(truthValue, null, 2) + '\n',
    truthValue,
  };
}

export function demoMissionPaths(outDir: string): DemoMissionPaths {
  return {
    outDir,
    stageA: path.join(outDir, DEMO_FILES.stageA),
    guidance: path.join(outDir, DEMO_FILES.guidance),
    truth: path.join(outDir, DEMO_FILES.truth),
    manifest: path.join(outDir, DEMO_FILES.manifest),
  };
}

type DemoManifest = { generator_version: number; seed: number; count: number; sha256: Record<string, string> };

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export async function generateDemoMission(options: GenerateDemoMissionOptions): Promise<DemoMissionPaths> {
  const seed = options.seed ?? DEMO_DEFAULT_SEED;
  const count = options.count ?? DEMO_DEFAULT_COUNT;
  const content = buildDemoMission(seed, count);
  const paths = demoMissionPaths(options.outDir);
  await writeFileAtomic(paths.stageA, content.stageA);
  await writeFileAtomic(paths.guidance, content.guidance);
  await writeFileAtomic(paths.truth, content.truth);
  const manifest: DemoManifest = {
    generator_version: DEMO_GENERATOR_VERSION,
    seed,
    count,
    sha256: { [DEMO_FILES.stageA]: sha256(content.stageA), [DEMO_FILES.guidance]: sha256(content.guidance), [DEMO_FILES.truth]: sha256(content.truth) },
  };
  // Written last: a manifest only exists for a complete set of files.
  await writeFileAtomic(paths.manifest, JSON.stringify(manifest, null, 2) + '\n');
  return paths;
}

async function manifestMatches(paths: DemoMissionPaths, seed: number, count: number): Promise<boolean> {
  try {
    const manifest = JSON.parse(await fsp.readFile(paths.manifest, 'utf8')) as DemoManifest;
    if (manifest.generator_version !== DEMO_GENERATOR_VERSION || manifest.seed !== seed || manifest.count !== count) return false;
    for (const [name, file] of [
      [DEMO_FILES.stageA, paths.stageA],
      [DEMO_FILES.guidance, paths.guidance],
      [DEMO_FILES.truth, paths.truth],
    ] as const) {
      if (manifest.sha256?.[name] !== sha256(await fsp.readFile(file, 'utf8'))) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Generates the demo files only when they are missing, edited, or were made by
 * another generator version, seed or count. Returns whether it wrote them.
 */
export async function ensureDemoMission(
  outDir: string,
  seed: number = DEMO_DEFAULT_SEED,
  count: number = DEMO_DEFAULT_COUNT,
): Promise<DemoMissionPaths & { generated: boolean }> {
  const paths = demoMissionPaths(outDir);
  if (await manifestMatches(paths, seed, count)) return { ...paths, generated: false };
  return { ...(await generateDemoMission({ outDir, seed, count })), generated: true };
}
