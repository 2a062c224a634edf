import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { BACKEND_CONFIGS, BACKEND_NAMES, ModelConfigSchema, localModelFile, modelLoadMessage, resolveModelPaths } from '../../../shared/schemas/backends';
import { listImports } from '../../../../test/architecture/importLayers';
import { BACKEND_MODULES } from './registry';

const root = join(import.meta.dirname, '..', '..', '..', '..');
const toRepoPath = (path: string) => relative(root, path).split(sep).join('/');

/** The modules allowed to tell backends apart by name: the two registries and each backend's own halves. */
const REGISTRY_DIRS = ['src/shared/schemas/backends/', 'src/main/llm/backends/'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx)$/.test(name) && !/\.test\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * Where a source compares something with a backend name or switches on one: `x.backend === …`,
 * `… !== 'openai'`, `case 'llama-cpp':`, `switch (config.model.backend)`. Line numbers, 1-based.
 */
function backendNameComparisons(fileName: string, source: string, names: readonly string[]): number[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const lines: number[] = [];
  const lineOf = (node: ts.Node) => file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
  const isName = (node: ts.Node) => ts.isStringLiteralLike(node) && names.includes(node.text);
  const isBackendField = (node: ts.Node): boolean =>
    (ts.isPropertyAccessExpression(node) && node.name.text === 'backend') ||
    (ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression) && node.argumentExpression.text === 'backend') ||
    (ts.isIdentifier(node) && node.text === 'backend') ||
    (ts.isNonNullExpression(node) && isBackendField(node.expression)) ||
    (ts.isParenthesizedExpression(node) && isBackendField(node.expression));
  const EQUALITY = [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken];
  const visit = (node: ts.Node) => {
    if (ts.isBinaryExpression(node) && EQUALITY.includes(node.operatorToken.kind)) {
      if ([node.left, node.right].some((side) => isName(side) || isBackendField(side))) lines.push(lineOf(node));
    } else if (ts.isSwitchStatement(node) && isBackendField(node.expression)) {
      lines.push(lineOf(node));
    } else if (ts.isCaseClause(node) && isName(node.expression)) {
      lines.push(lineOf(node));
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return lines;
}

/** Every file `entry` reaches through relative imports, static and dynamic, type-only ones left out. */
function reachableFiles(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const edge of listImports(file, readFileSync(file, 'utf8'))) {
      if (edge.typeOnly || !edge.specifier.startsWith('.')) continue;
      const base = resolve(dirname(file), edge.specifier);
      const target = [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')].find((candidate) => statSync(candidate, { throwIfNoEntry: false })?.isFile());
      if (target) pending.push(target);
    }
  }
  return seen;
}

describe('the backend registries', () => {
  it('pair every backend config with exactly one module, by the same config object', () => {
    expect(BACKEND_MODULES.map((module) => module.config)).toEqual([...BACKEND_CONFIGS]);
    for (const config of BACKEND_CONFIGS) expect(BACKEND_MODULES.filter((module) => module.config === config)).toHaveLength(1);
    expect(new Set(BACKEND_NAMES).size).toBe(BACKEND_NAMES.length);
  });

  it("give each backend's schema its own name as the `backend` literal", () => {
    for (const config of BACKEND_CONFIGS) expect(config.schema.shape.backend.value).toBe(config.name);
  });

  it('dispatch the model_load message, the model file and path resolution by the block', () => {
    const local = ModelConfigSchema.parse({ backend: 'llama-cpp', path: 'models/m.gguf' });
    const server = ModelConfigSchema.parse({ backend: 'openai', base_url: 'http://user:secret@127.0.0.1:8000/v1', model: 'qwen' });
    expect(modelLoadMessage(local)).toBe('loading models/m.gguf');
    expect(modelLoadMessage(server)).toBe('connecting to http://127.0.0.1:8000/v1');
    expect(localModelFile(local)).toBe('models/m.gguf');
    expect(localModelFile(server)).toBeNull();
    expect(resolveModelPaths(local, (path) => `/configs/${path}`)).toEqual({ ...local, path: '/configs/models/m.gguf' });
    expect(resolveModelPaths(server, (path) => `/configs/${path}`)).toEqual(server);
  });
});

describe('backend names are compared only in the registries', () => {
  it.each([
    ["if (config.model.backend === 'llama-cpp') load();", [1]],
    ["const local = config.model.backend !== 'openai' ? a : b;", [1]],
    ['if (info.backend == other.backend) x();', [1]],
    ["switch (config.backend) {\n  case 'x': break;\n}", [1]],
    ["switch (kind) {\n  case 'openai': break;\n}", [2]],
    ["if ('llama-cpp' === name) x();", [1]],
    ["const info = { backend: 'llama-cpp' };", []],
    ["// config.model.backend === 'llama-cpp'", []],
    ["const text = \"backend === 'openai'\";", []],
    ["if (compute === 'cpu') x();", []],
  ])('finds the comparisons in %j', (source, expected) => {
    expect(backendNameComparisons('x.ts', source, ['llama-cpp', 'openai'])).toEqual(expected);
  });

  it('finds none in src/ outside the registry modules', () => {
    const found: string[] = [];
    for (const path of sourceFiles(join(root, 'src'))) {
      const repoPath = toRepoPath(path);
      if (REGISTRY_DIRS.some((dir) => repoPath.startsWith(dir))) continue;
      for (const line of backendNameComparisons(path, readFileSync(path, 'utf8'), BACKEND_NAMES)) found.push(`${repoPath}:${line}`);
    }
    expect(found).toEqual([]);
  });
});

describe('the production backends only load models', () => {
  it('reach neither the tiny-model generator nor the demo from the registry', () => {
    const reached = [...reachableFiles(join(import.meta.dirname, 'registry.ts'))].map(toRepoPath);
    expect(reached).toEqual(expect.arrayContaining(['src/main/llm/LlamaCppBackend.ts', 'src/main/llm/OpenAiBackend.ts']));
    expect(reached.filter((path) => path === 'src/main/llm/tinyModel.ts' || path.startsWith('src/main/demo/') || path.includes('/gguf/ggufWriter'))).toEqual([]);
  });
});
