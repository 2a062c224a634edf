import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { StageBError, toStageBError, type SerializedError } from '../../shared/errors';
import { RunRefSchema, type ApiOutput, type ApiParsedInput, type ConfigEntry, type ConfigValidation } from '../../shared/api/contract';
import { detectConfigKind, runIdentity } from '../../shared/configKind';
import { FusionConfigSchema, SftConfigSchema } from '../../shared/distill/fusionConfig';
import { writeFileAtomic } from '../io/jsonl';
import { parseConfigText } from '../io/loadRunConfig';
import { resolveInsideRoots } from '../security/resolveInsideRoots';
import type { ApiContext } from './ApiContext';

const CONFIG_EXTENSIONS = ['.yaml', '.yml'];
const MAX_DEPTH = 3;
const MAX_CONFIG_BYTES = 1_000_000;

const KIND_NAMES: Record<'fusion' | 'sft', string> = { fusion: 'a fusion config', sft: 'an SFT config' };

function parseLoosely(text: string): unknown {
  try {
    return parseYaml(text);
  } catch {
    return undefined;
  }
}

/** What the launcher shows of a config before it is opened: its kind, and a run config's name, mission and distill switch. */
export function describeConfig(text: string): Pick<ConfigEntry, 'kind' | 'run_name' | 'mission' | 'distill'> {
  const raw = parseLoosely(text);
  const kind = detectConfigKind(text, raw);
  if (kind !== 'run') return { kind, run_name: null, mission: null, distill: false };
  // stage_b_distillation.enabled defaults to true (src/shared/schemas/runConfig.ts): only an explicit false turns it off.
  const distillation = (raw as { stage_b_distillation?: { enabled?: unknown } } | null)?.stage_b_distillation;
  return { kind, ...runIdentity(raw), distill: distillation?.enabled !== false };
}

function configsRoot(ctx: ApiContext): string {
  if (!ctx.configsRoot) throw new StageBError('API_NOT_FOUND', 'no configs folder: start the workbench with --configs <dir>, set STAGEB_CONFIGS, or start it in a folder that has configs/', { field: 'configs' });
  return ctx.configsRoot;
}

async function resolveConfigPath(ctx: ApiContext, relative: string): Promise<string> {
  const file = await resolveInsideRoots([configsRoot(ctx)], relative);
  if (!CONFIG_EXTENSIONS.includes(path.extname(file).toLowerCase())) {
    throw new StageBError('API_FORBIDDEN', 'only .yaml / .yml config files can be read or written here', { file: relative });
  }
  return file;
}

export async function listConfigs(ctx: ApiContext): Promise<ApiOutput<'listConfigs'>> {
  const root = configsRoot(ctx);
  const configs: ApiOutput<'listConfigs'>['configs'] = [];
  const walk = async (dir: string, depth: number) => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && depth < MAX_DEPTH) await walk(full, depth + 1);
      else if (entry.isFile() && CONFIG_EXTENSIONS.includes(path.extname(entry.name).toLowerCase())) {
        const info = await stat(full);
        const text = info.size <= MAX_CONFIG_BYTES ? await readFile(full, 'utf8').catch(() => '') : '';
        configs.push({ path: path.relative(root, full).split(path.sep).join('/'), size_bytes: info.size, modified_at: info.mtime.toISOString(), ...describeConfig(text) });
      }
    }
  };
  await walk(root, 0);
  configs.sort((a, b) => a.path.localeCompare(b.path));
  return { configs };
}

export async function readConfig(ctx: ApiContext, input: ApiParsedInput<'readConfig'>): Promise<ApiOutput<'readConfig'>> {
  const file = await resolveConfigPath(ctx, input.path);
  try {
    return { path: input.path, text: await readFile(file, 'utf8') };
  } catch {
    throw new StageBError('CONFIG_NOT_FOUND', `config not found: ${input.path}`, { file: input.path });
  }
}

/** Checks text against the schema of its kind (src/shared/configKind.ts): a run config, or a fusion / SFT config of the distillation flow. */
export function validateConfigText(ctx: ApiContext, text: string, label: string): ConfigValidation {
  try {
    const kind = detectConfigKind(text, parseLoosely(text));
    const { config } =
      kind === 'sft' ? parseConfigText(text, label, SftConfigSchema, 'version, name, fusion, base_model, mix, training and eval')
      : kind === 'fusion' ? parseConfigText(text, label, FusionConfigSchema, 'version, name and sources')
      : ctx.parseConfig(text, label);
    return { ok: true, config: config as Record<string, unknown> };
  } catch (error) {
    const typed = toStageBError(error, 'CONFIG_INVALID', { file: label });
    const issues = Array.isArray(typed.details) ? (typed.details as { message: string; line?: number; field?: string }[]) : [];
    const errors: SerializedError[] = issues.length
      ? issues.map((issue) => ({ code: typed.code, message: issue.message, location: { file: label, line: issue.line, field: issue.field } }))
      : [typed.toJSON()];
    return { ok: false, errors };
  }
}

export async function validateConfig(ctx: ApiContext, input: ApiParsedInput<'validateConfig'>): Promise<ApiOutput<'validateConfig'>> {
  return validateConfigText(ctx, input.text, 'config');
}

export async function saveConfig(ctx: ApiContext, input: ApiParsedInput<'saveConfig'>): Promise<ApiOutput<'saveConfig'>> {
  const file = await resolveConfigPath(ctx, input.path);
  const validation = validateConfigText(ctx, input.text, input.path);
  if (!validation.ok && !input.force) {
    const first = validation.errors[0];
    throw new StageBError('CONFIG_INVALID', `not saved: ${first.message}`, first.location);
  }
  try {
    await writeFileAtomic(file, input.text);
  } catch (error) {
    throw toStageBError(error, 'IO_WRITE_FAILED', { file: input.path });
  }
  return { path: input.path, validation };
}

export async function saveConfigAs(ctx: ApiContext, input: ApiParsedInput<'saveConfigAs'>): Promise<ApiOutput<'saveConfigAs'>> {
  const file = await resolveConfigPath(ctx, input.name);
  const validation = validateConfigText(ctx, input.text, input.name);
  if (!validation.ok) {
    const first = validation.errors[0];
    throw new StageBError('CONFIG_INVALID', `not saved: ${first.message}`, first.location);
  }
  const exists = await stat(file).then(() => true, () => false);
  if (exists && !input.overwrite) {
    throw new StageBError('FILE_EXISTS', `${input.name} exists already in the configs folder; choose another name or confirm the overwrite`, { file: input.name, field: 'name' });
  }
  try {
    await writeFileAtomic(file, input.text);
  } catch (error) {
    throw toStageBError(error, 'IO_WRITE_FAILED', { file: input.name });
  }
  return { path: input.name, validation };
}

export async function startRun(ctx: ApiContext, input: ApiParsedInput<'startRun'>): Promise<ApiOutput<'startRun'>> {
  const file = await resolveConfigPath(ctx, input.configPath);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new StageBError('CONFIG_NOT_FOUND', `config not found: ${input.configPath}`, { file: input.configPath });
  }
  const described = describeConfig(text);
  if (described.kind === 'sft' || described.kind === 'fusion') {
    throw new StageBError(
      'CONFIG_INVALID',
      `${input.configPath} is ${KIND_NAMES[described.kind]}, not a Stage-B run config: the SFT trainer reads it (docs/distillation.md). A distill job starts from a run config with stage_b_distillation.enabled.`,
      { file: input.configPath },
    );
  }
  const validation = validateConfigText(ctx, text, input.configPath);
  if (!validation.ok) {
    const first = validation.errors[0];
    throw new StageBError('CONFIG_INVALID', first.message, first.location);
  }
  if (input.kind === 'distill' && !described.distill) {
    throw new StageBError('CONFIG_INVALID', 'stage_b_distillation.enabled is false in this config; a distill job needs it', { file: input.configPath, field: 'stage_b_distillation.enabled' });
  }
  // The job is named by the run it writes ({output.root}/{run_name}/{mission}), so the launcher lists "demo · mission", not a UUID.
  const run = RunRefSchema.safeParse({ runId: validation.config.run_name, mission: validation.config.mission });
  return { jobId: ctx.jobs.start(input.kind, file, run.success ? { run: run.data } : {}) };
}

export async function cancelRun(ctx: ApiContext, input: ApiParsedInput<'cancelRun'>): Promise<ApiOutput<'cancelRun'>> {
  return { cancelled: ctx.jobs.cancel(input.jobId) };
}

export async function listJobs(ctx: ApiContext): Promise<ApiOutput<'listJobs'>> {
  return { jobs: ctx.jobs.list() };
}
