/**
 * bench/learning: a Stage-B run over the demo mission, printing label_match and the
 * false-release rate per batch together with the guidance step, so one can see
 * whether reflection moved the guidance and what that did. With the tiny
 * random-weight model the numbers show the machinery, not learning; point
 * --model at a real GGUF to see learning.
 *
 *   npm run bench:learning -- [--model path.gguf] [--tickets 64] [--epochs 2] [--threads 1]
 */
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureDemoMission, DEMO_MISSION } from '../../src/main/demo/generateDemoMission';
import { ensureTinyModel } from '../../src/main/llm/tinyModel';
import { runStageB } from '../../src/main/runStageB';

function flag(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback;
}

const work = await mkdtemp(join(tmpdir(), 'stageb-bench-learning-'));
try {
  const demo = await ensureDemoMission(join(work, 'demo'));
  const model = resolve(flag('--model', await ensureTinyModel(resolve('resources/models/tiny.gguf'))));
  const configPath = join(work, 'bench.yaml');
  await writeFile(
    configPath,
    [
      'run_name: bench-learning',
      'seed: 17',
      `mission: ${DEMO_MISSION}`,
      'stage_a_paths:',
      `  - ${demo.stageA}`,
      'guidance:',
      `  path: ${demo.guidance}`,
      'model:',
      '  backend: llama-cpp',
      `  path: ${model}`,
      '  context_size: 8192',
      `  threads: ${flag('--threads', '1')}`,
      '  sequences: 4',
      'sampler:',
      '  candidates: 4',
      '  max_new_tokens: 192',
      '  max_reason_chars: 40',
      'runner:',
      `  epochs: ${flag('--epochs', '2')}`,
      '  batch_size: 8',
      `  max_tickets: ${flag('--tickets', '64')}`,
      'reflection:',
      '  enabled: true',
      '  holdout_fraction: 0.2',
      '  holdout_max: 16',
      'output:',
      `  root: ${join(work, 'runs')}`,
    ].join('\n'),
  );
  const started = Date.now();
  const result = await runStageB({ configPath });
  const t = result.telemetry;
  const pct = (value: number | null) => (value === null ? '  n/a' : `${(value * 100).toFixed(1).padStart(5)}%`);
  console.log(`model ${model}`);
  console.log('epoch batch groups label_match false_release step applied');
  for (const b of t.batches) {
    console.log(`${String(b.epoch).padStart(5)} ${String(b.batch_index).padStart(5)} ${String(b.groups).padStart(6)} ${pct(b.label_match_rate).padStart(11)} ${pct(b.false_release_rate).padStart(13)} ${String(b.guidance_step).padStart(4)} ${b.applied ? 'yes' : 'no'}`);
  }
  for (const e of t.epochs) console.log(`epoch ${e.epoch}: label_match ${pct(e.label_match_rate)}, false_release ${pct(e.false_release_rate)}, updates applied ${e.applied_updates}, converged ${e.converged}`);
  console.log(`reflections: ${t.counts.reflections.applied} applied, ${t.counts.reflections.rejected} rejected, ${t.counts.reflections.ineligible} ineligible; wall ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const first = t.batches[0]?.label_match_rate ?? null;
  const last = t.epochs.at(-1)?.label_match_rate ?? null;
  console.log(`label_match_first_batch: ${first === null ? 'n/a' : first.toFixed(4)}`);
  console.log(`label_match_last_epoch: ${last === null ? 'n/a' : last.toFixed(4)}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
