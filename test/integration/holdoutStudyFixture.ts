import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureTinyModelForTests } from '../helpers/tinyModel';
import { ensureDemoMission } from '../../src/main/demo/generateDemoMission';
import { runStageB } from '../../src/main/runStageB';

/**
 * A small finished run on the tiny random-weight model (real node-llama-cpp), for the
 * attribution and preview tests: 12 demo tickets, 4 of them the holdout (both labels),
 * one epoch, reflection off so the run itself stays cheap; its holdout is the one
 * `stageb attribute` / `preview` recompute from the config. The verdicts are noise.
 */
export async function finishedTinyRun(dir: string, name: string): Promise<{ configPath: string; runDir: string }> {
  const modelPath = await ensureTinyModelForTests();
  const demo = await ensureDemoMission(join(dir, 'demo'), 17, 30);
  const configPath = join(dir, `${name}.yaml`);
  await writeFile(
    configPath,
    [
      `run_name: ${name}`,
      'seed: 5',
      'mission: RRU接地与防水检查',
      'stage_a_paths:',
      `  - ${demo.stageA}`,
      'guidance:',
      `  path: ${demo.guidance}`,
      '  max_tokens: 2048',
      'model:',
      '  backend: llama-cpp',
      `  path: ${modelPath}`,
      '  context_size: 4096',
      '  threads: 1',
      '  sequences: 2',
      'sampler:',
      '  candidates: 2',
      '  grid:',
      '    - { temperature: 0.8, top_p: 0.9, prompt_variant: default }',
      '  max_new_tokens: 96',
      '  max_reason_chars: 12',
      'runner:',
      '  epochs: 1',
      '  batch_size: 8',
      '  max_tickets: 12',
      'reflection:',
      '  enabled: false',
      '  holdout_fraction: 0.34',
      '  holdout_max: 4',
      '  bootstrap_samples: 400',
      'output:',
      `  root: ${join(dir, 'runs')}`,
      'stage_b_distillation:',
      '  enabled: false',
    ].join('\n'),
  );
  const result = await runStageB({ configPath });
  return { configPath, runDir: result.runDir };
}
