import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A small Stage-B run (rollout, reflection, holdout gate) configured for
 * `model.backend: openai` against a llama-server (or a balancer in front of several),
 * and the helpers to compare two runs' artifacts.
 */
export type ServerRunConfig = {
  dir: string;
  name: string;
  baseUrl: string;
  stageA: string;
  guidance: string;
  /** Tickets (train + holdout). */
  tickets: number;
  candidates?: number;
  batchSize?: number;
  concurrency?: number;
  maxRetries?: number;
  /** Context per server slot, for prompt budgets. */
  contextSize: number;
  /** output.root (default dir/runs): two runs with the same name in different roots have comparable artifacts. */
  outputRoot?: string;
};

export async function writeServerRunConfig(c: ServerRunConfig): Promise<string> {
  const path = join(c.dir, `${c.name}-${(c.outputRoot ?? 'runs').replace(/[^A-Za-z0-9]+/g, '_')}.yaml`);
  await writeFile(
    path,
    [
      `run_name: ${c.name}`,
      'seed: 5',
      'mission: RRU接地与防水检查',
      'stage_a_paths:',
      `  - ${c.stageA}`,
      'guidance:',
      `  path: ${c.guidance}`,
      '  max_tokens: 1024',
      'model:',
      '  backend: openai',
      `  base_url: ${c.baseUrl}`,
      '  model: tiny',
      `  concurrency: ${c.concurrency ?? 2}`,
      `  max_retries: ${c.maxRetries ?? 6}`,
      '  timeout_ms: 60000',
      `  context_size: ${c.contextSize}`,
      'sampler:',
      `  candidates: ${c.candidates ?? 2}`,
      '  grid:',
      '    - { temperature: 0.8, top_p: 0.9, prompt_variant: default }',
      '    - { temperature: 1.0, top_p: 0.95, prompt_variant: checklist }',
      '  max_new_tokens: 96',
      '  max_reason_chars: 24',
      'runner:',
      '  epochs: 1',
      `  batch_size: ${c.batchSize ?? 4}`,
      `  max_tickets: ${c.tickets}`,
      'reflection:',
      '  enabled: true',
      '  holdout_fraction: 0.25',
      '  holdout_max: 3',
      '  max_new_tokens: 768',
      'output:',
      `  root: ${c.outputRoot ?? join(c.dir, 'runs')}`,
      '',
    ].join('\n'),
  );
  return path;
}

export async function readJsonLines(path: string): Promise<unknown[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

const VOLATILE_KEYS = new Set(['created_at', 'updated_at', 'recorded_at', 'ts', 'started_at', 'finished_at', 'timings_ms']);

function stripVolatile(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripVolatile);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) if (!VOLATILE_KEYS.has(key)) out[key] = stripVolatile(inner);
    return out;
  }
  return value;
}

/** The run's artifacts with timestamps and timings removed, for equality across runs. */
export async function stableArtifacts(runDir: string): Promise<Record<string, unknown>> {
  const files = ['trajectories.jsonl', 'selections.jsonl', 'reflection.jsonl', 'need_review.jsonl', 'export/verdicts.jsonl', 'guidance_history.jsonl'];
  const out: Record<string, unknown> = {};
  for (const file of files) out[file] = stripVolatile(await readJsonLines(join(runDir, file)));
  out['guidance.json'] = stripVolatile(JSON.parse(await readFile(join(runDir, 'guidance.json'), 'utf8')));
  return out;
}
