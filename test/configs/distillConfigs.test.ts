import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { FusionConfigSchema, SftConfigSchema, checkSftAgainstFusion } from '../../src/shared/distill/fusionConfig';
import { defaultSplitDir, splitPaths } from '../../src/shared/distill/splitPaths';
import { RunConfigSchema } from '../../src/shared/schemas/runConfig';

const root = path.resolve(import.meta.dirname, '../..');
const readYaml = (rel: string) => parse(fs.readFileSync(path.join(root, rel), 'utf8'));

const fusion = FusionConfigSchema.parse(readYaml('configs/fusion/stageb_teacher.yaml'));
const sft = SftConfigSchema.parse(readYaml('configs/sft/dense_summary_chat_stageb.yaml'));

describe('fusion and SFT configs', () => {
  it("define the stageb_teacher source as a chatml chat corpus at the split command's default outputs for the teacher run", () => {
    const teacher = fusion.sources.stageb_teacher;
    expect(teacher).toMatchObject({ owner: 'stage_b', dataset: 'chat', template: 'chatml', mode: 'dense' });
    // The teacher's run directory ({output.root}/{run_name}/{mission}), relative to the repository root like the fusion paths.
    const run = RunConfigSchema.parse(readYaml('configs/teacher-qwen3-32b.yaml'));
    const runDir = path.relative(root, path.resolve(root, 'configs', run.output.root, run.run_name, run.mission)).split(path.sep).join('/');
    const defaults = splitPaths(defaultSplitDir(runDir));
    expect(teacher.train).toBe(defaults.train);
    expect(teacher.val).toBe(defaults.val);
    expect(teacher.high_value).toBe(defaults.highValue);
    for (const name of ['dense', 'summary', 'chat']) expect(fusion.sources[name]?.owner).toBe('user');
  });

  it('mixes stageb_teacher into dense + summary + chat with ratios that sum to 1 and name existing sources', () => {
    expect(Object.keys(sft.mix).sort()).toEqual(['chat', 'dense', 'stageb_teacher', 'summary']);
    expect(Object.values(sft.mix).reduce((s, r) => s + r, 0)).toBeCloseTo(1, 9);
    expect(checkSftAgainstFusion(sft, fusion)).toEqual([]);
    expect(fs.existsSync(path.join(root, sft.fusion))).toBe(true);
    expect(fs.existsSync(path.join(root, sft.eval.stage_b_config))).toBe(true);
  });

  it('rejects ratios that do not sum to 1 and sources the fusion config lacks', () => {
    const raw = readYaml('configs/sft/dense_summary_chat_stageb.yaml');
    expect(SftConfigSchema.safeParse({ ...raw, mix: { ...raw.mix, chat: 0.2 } }).success).toBe(false);
    const stray = SftConfigSchema.parse({ ...raw, mix: { dense: 0.5, summary: 0.3, web_ocr: 0.2 } });
    expect(checkSftAgainstFusion(stray, fusion)).toEqual([
      expect.stringContaining('"web_ocr"'),
      expect.stringContaining('high_value_repeat'),
    ]);
    const badFusion = readYaml('configs/fusion/stageb_teacher.yaml');
    badFusion.sources.stageb_teacher.dataset = 'images';
    expect(FusionConfigSchema.safeParse(badFusion).success).toBe(false);
  });
});

describe('Stage-B run configs for distillation', () => {
  it('the Qwen3-32B teacher config is a valid llama-cpp run config with distillation on', () => {
    const config = RunConfigSchema.parse(readYaml('configs/teacher-qwen3-32b.yaml'));
    expect(config.model.backend).toBe('llama-cpp');
    if (config.model.backend !== 'llama-cpp') return;
    expect(config.model.path).toMatch(/Qwen3-32B.*\.gguf$/);
    expect(config.model.gpu_layers).toBe('max');
    // Each parallel sequence gets at least 8k tokens of context.
    expect(config.model.context_size / config.model.sequences).toBeGreaterThanOrEqual(8192);
    expect(config.stage_b_distillation).toMatchObject({ enabled: true, export_last_if_unconverged: false });
    expect(config.runner.epochs).toBeGreaterThanOrEqual(2);
  });

  it('the student eval config judges with frozen guidance and no distillation', () => {
    const config = RunConfigSchema.parse(readYaml('configs/sft/eval_student_stageb.yaml'));
    expect(config.reflection.enabled).toBe(false);
    expect(config.stage_b_distillation.enabled).toBe(false);
    expect(config.sampler.format).toBe('two_line');
  });
});
