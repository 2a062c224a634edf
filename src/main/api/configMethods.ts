import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { StageBError, toStageBError, type SerializedError } from '../../shared/errors';
import type { ApiOutput, ApiParsedInput, ConfigValidation } from '../../shared/api/contract';
import { writeFileAtomic } from '../io/jsonl';
import { resolveInsideRoots } from '../security/resolveInsideRoots';
import type { ApiContext } from './ApiContext';

const CONFIG_EXTENSIONS = ['.yaml', '.yml'];
const MAX_DEPTH = 3;

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
        configs.push({ path: path.relative(root, full).split(path.sep).join('/'), size_bytes: info.size, modified_at: info.mtime.toISOString() });
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

export function validateConfigText(ctx: ApiContext, text: string, label: string): ConfigValidation {
  try {
    const { config } = ctx.parseConfig(text, label);
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

export async function startRun(ctx: ApiContext, input: ApiParsedInput<'startRun'>): Promise<ApiOutput<'startRun'>> {
  const file = await resolveConfigPath(ctx, input.configPath);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new StageBError('CONFIG_NOT_FOUND', `config not found: ${input.configPath}`, { file: input.configPath });
  }
  const validation = validateConfigText(ctx, text, input.configPath);
  if (!validation.ok) {
    const first = validation.errors[0];
    throw new StageBError('CONFIG_INVALID', first.message, first.location);
  }
  return { jobId: ctx.jobs.start(input.kind, file) };
}

export async function cancelRun(ctx: ApiContext, input: ApiParsedInput<'cancelRun'>): Promise<ApiOutput<'cancelRun'>> {
  return { cancelled: ctx.jobs.cancel(input.jobId) };
}

export async function listJobs(ctx: ApiContext): Promise<ApiOutput<'listJobs'>> {
  return { jobs: ctx.jobs.list() };
}
