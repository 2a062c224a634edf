import { z } from 'zod';
import { FusionConfigSchema, SftConfigSchema } from './distill/fusionConfig';

/**
 * What a YAML file in the configs folder is: a Stage-B run config (the launcher starts it),
 * a fusion or SFT config of the distillation flow (docs/distillation.md; read by the
 * user's SFT trainer, never started as a run), or something else.
 */
export const ConfigKindSchema = z.enum(['run', 'fusion', 'sft', 'unknown']);
export type ConfigKind = z.infer<typeof ConfigKindSchema>;

const SCHEMA_LINE = /^#\s*yaml-language-server:\s*\$schema=\S*?\b(run|fusion|sft)-config\.schema\.json\s*$/m;
const RUN_KEYS = ['run_name', 'mission', 'stage_a_paths', 'guidance', 'model', 'sampler', 'reflection', 'output'];

/**
 * The kind a config declares on its `# yaml-language-server: $schema=…` line (the line
 * `npm run schema` documents), else the distillation schema its content parses with, else
 * `run` when it has any run-config key. `raw` is the parsed YAML (undefined when it does not parse).
 */
export function detectConfigKind(text: string, raw: unknown): ConfigKind {
  const declared = SCHEMA_LINE.exec(text)?.[1];
  if (declared) return declared as ConfigKind;
  if (SftConfigSchema.safeParse(raw).success) return 'sft';
  if (FusionConfigSchema.safeParse(raw).success) return 'fusion';
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw) && RUN_KEYS.some((key) => key in raw)) return 'run';
  return 'unknown';
}

/** run_name and mission of a run config as written (strings only), for naming it before it validates. */
export function runIdentity(raw: unknown): { run_name: string | null; mission: string | null } {
  const record = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : null);
  return { run_name: text(record.run_name), mission: text(record.mission) };
}
