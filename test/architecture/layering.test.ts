import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layerViolation, listImports, type ImportEdge } from './importLayers';

const root = join(import.meta.dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx)$/.test(name) && !/\.test\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const edge = (specifier: string, typeOnly = false): ImportEdge => ({ specifier, typeOnly, line: 1 });

describe('layer rules', () => {
  it.each([
    ['src/shared/verdict.ts', edge('node:fs'), true],
    ['src/shared/verdict.ts', edge('path'), true],
    ['src/shared/verdict.ts', edge('react'), true],
    ['src/shared/verdict.ts', edge('../main/io/jsonl'), true],
    ['src/shared/verdict.ts', edge('zod'), false],
    ['src/shared/guidance/ruleId.ts', edge('../errors'), false],
    ['src/main/engine/signals.ts', edge('node:fs/promises'), true],
    ['src/main/engine/signals.ts', edge('node-llama-cpp'), true],
    ['src/main/engine/signals.ts', edge('../io/GuidanceRepository'), true],
    ['src/main/engine/signals.ts', edge('../io/GuidanceRepository', true), false],
    ['src/main/engine/reflection/x.ts', edge('../../llm/LlmBackend', true), false],
    ['src/main/engine/reflection/x.ts', edge('../../../shared/errors'), false],
    ['src/renderer/app/App.tsx', edge('../../main/api/runMethods'), true],
    ['src/renderer/app/App.tsx', edge('../../main/api/runMethods', true), true],
    ['src/renderer/app/App.tsx', edge('node:path'), true],
    ['src/renderer/app/App.tsx', edge('electron'), true],
    ['src/renderer/app/App.tsx', edge('../../shared/api/contract'), false],
    ['src/main/llm/modelCommand.ts', edge('../cli/CliIo'), true],
    ['src/main/llm/modelCommand.ts', edge('../cli', true), true],
    ['src/main/cli/x.ts', edge('../llm/createBackend'), false],
  ])('%s importing %o is a violation: %s', (from, imported, expected) => {
    expect(layerViolation(from, imported) !== null).toBe(expected);
  });

  it('lists static, type-only, re-exported, dynamic and required imports', () => {
    const edges = listImports('x.ts', [
      "import a from 'a';",
      "import type { B } from 'b';",
      "import { type C } from 'c';",
      "import { type D, e } from 'd';",
      "export * from 'f';",
      "const g = await import('g');",
      "const h = require('h');",
      "let i: import('i').I;",
    ].join('\n'));
    expect(edges.map((e) => [e.specifier, e.typeOnly])).toEqual([
      ['a', false], ['b', true], ['c', true], ['d', false], ['f', false], ['g', false], ['h', false], ['i', true],
    ]);
  });
});

describe('the repository keeps its layers', () => {
  it('has no wrong-way import in src/', () => {
    const violations: string[] = [];
    for (const path of sourceFiles(join(root, 'src'))) {
      const repoPath = relative(root, path).split(sep).join('/');
      for (const imported of listImports(path, readFileSync(path, 'utf8'))) {
        const why = layerViolation(repoPath, imported);
        if (why) violations.push(`${repoPath}:${imported.line}: ${why}`);
      }
    }
    expect(violations).toEqual([]);
  });
});
