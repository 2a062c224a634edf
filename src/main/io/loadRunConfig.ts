import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { StageBError } from '../../shared/errors';
import { RunConfigSchema, type RunConfig } from '../../shared/schemas/runConfig';
import { resolveModelPaths } from '../../shared/schemas/backends';
import { describeZodIssue } from './zodIssuePath';
import { decodeUtf8Strict } from './utf8';

export type LoadedRunConfig = {
  /** Validated, defaults applied, relative paths resolved against the config file's folder. */
  config: RunConfig;
  configPath: string;
  configDir: string;
  /** The YAML as written (before defaults and path resolution). */
  raw: unknown;
};

export type ConfigIssue = { message: string; line?: number; field?: string };

/** The 1-based line of the key at `keyPath`, or of its nearest existing ancestor's key. */
function lineOfPath(doc: Document, lineCounter: LineCounter, keyPath: readonly PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let line: number | undefined = undefined;
  for (const part of keyPath) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(part));
      if (!pair) break;
      const keyNode = pair.key as { range?: [number, number, number] | null };
      if (keyNode.range) line = lineCounter.linePos(keyNode.range[0]).line;
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part] as { range?: [number, number, number] | null } | undefined;
      if (!item) break;
      if (item.range) line = lineCounter.linePos(item.range[0]).line;
      node = item;
    } else {
      break;
    }
  }
  if (line === undefined) {
    const root = doc.contents as { range?: [number, number, number] | null } | null;
    if (root?.range) line = lineCounter.linePos(root.range[0]).line;
  }
  return line;
}

function throwIssues(fileLabel: string, issues: ConfigIssue[]): never {
  const first = issues[0];
  const more = issues.length > 1 ? ` (${issues.length - 1} more in details)` : '';
  throw new StageBError('CONFIG_INVALID', `${first.message}${more}`, { file: fileLabel, line: first.line, field: first.field }, issues);
}

/**
 * Parses and validates config text without touching the disk. Paths stay as
 * written; `loadRunConfig` resolves them.
 */
export function parseRunConfigText(text: string, fileLabel: string): { config: RunConfig; raw: unknown } {
  return parseConfigText(text, fileLabel, RunConfigSchema, 'run_name, mission, stage_a_paths, guidance and model');
}

/** YAML text checked against a config schema (run, fusion, SFT), every issue with its line and field. */
export function parseConfigText<S extends z.ZodType>(text: string, fileLabel: string, schema: S, requiredKeys: string): { config: z.output<S>; raw: unknown } {
  const lineCounter = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (error) {
    throw new StageBError('CONFIG_INVALID', `YAML could not be parsed: ${error instanceof Error ? error.message : String(error)}`, { file: fileLabel });
  }
  if (doc.errors.length > 0) {
    throwIssues(
      fileLabel,
      doc.errors.slice(0, 20).map((error) => ({
        message: `YAML syntax error: ${error.message.split('\n')[0]}`,
        line: error.linePos?.[0]?.line ?? lineCounter.linePos(error.pos[0]).line,
      })),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new StageBError('CONFIG_INVALID', `YAML could not be read: ${error instanceof Error ? error.message : String(error)}`, { file: fileLabel });
  }
  if (raw === null || raw === undefined) {
    throw new StageBError('CONFIG_INVALID', `the config is empty; it needs at least ${requiredKeys}`, { file: fileLabel, line: 1 });
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new StageBError('CONFIG_INVALID', 'the config must be a YAML mapping of keys to values', { file: fileLabel, line: 1 });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throwIssues(
      fileLabel,
      parsed.error.issues.slice(0, 20).map((zodIssue) => {
        const issue = describeZodIssue(zodIssue);
        return {
          message: issue.message,
          field: issue.field || undefined,
          line: lineOfPath(doc, lineCounter, issue.path),
        };
      }),
    );
  }
  return { config: parsed.data, raw };
}

function resolveAgainst(configDir: string, value: string): string {
  if (value === '~') return os.homedir();
  if (value.startsWith('~/')) return path.join(os.homedir(), value.slice(2));
  return path.resolve(configDir, value);
}

/** Resolves every file path of a config against `configDir` (absolute paths stay as they are). */
export function resolveRunConfigPaths(config: RunConfig, configDir: string): RunConfig {
  const outputPath = config.stage_b_distillation.output_path;
  return {
    ...config,
    stage_a_paths: config.stage_a_paths.map((p) => resolveAgainst(configDir, p)),
    guidance: { ...config.guidance, path: resolveAgainst(configDir, config.guidance.path) },
    label_corrections: { path: config.label_corrections.path === null ? null : resolveAgainst(configDir, config.label_corrections.path) },
    model: resolveModelPaths(config.model, (value) => resolveAgainst(configDir, value)),
    output: { ...config.output, root: resolveAgainst(configDir, config.output.root) },
    stage_b_distillation: {
      ...config.stage_b_distillation,
      output_path: outputPath === null ? null : resolveAgainst(configDir, outputPath),
    },
  };
}

export async function loadRunConfig(configPath: string): Promise<LoadedRunConfig> {
  const absolute = path.resolve(configPath);
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(absolute);
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') throw new StageBError('CONFIG_NOT_FOUND', 'config file not found', { file: absolute });
    if (errno === 'EISDIR') throw new StageBError('CONFIG_NOT_FOUND', 'expected a config file but found a directory', { file: absolute });
    throw new StageBError('IO_READ_FAILED', `cannot read the config: ${error instanceof Error ? error.message : String(error)}`, { file: absolute });
  }
  const { config, raw } = parseRunConfigText(decodeUtf8Strict(bytes, absolute, 'CONFIG_INVALID'), absolute);
  const configDir = path.dirname(absolute);
  return { config: resolveRunConfigPaths(config, configDir), configPath: absolute, configDir, raw };
}
