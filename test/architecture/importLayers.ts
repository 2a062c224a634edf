import ts from 'typescript';
import { posix } from 'node:path';

/** One import found in a source file: where it points and whether it survives compilation. */
export type ImportEdge = { specifier: string; typeOnly: boolean; line: number };

/** Static imports, re-exports, `import()` and `require()` of one file, with type-only ones marked. */
export function listImports(fileName: string, source: string): ImportEdge[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const edges: ImportEdge[] = [];
  const lineOf = (node: ts.Node) => file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const allNamedTypeOnly =
        !!clause && !clause.name && !!clause.namedBindings && ts.isNamedImports(clause.namedBindings) &&
        clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly);
      edges.push({ specifier: node.moduleSpecifier.text, typeOnly: !!clause?.isTypeOnly || allNamedTypeOnly, line: lineOf(node) });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      edges.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly, line: lineOf(node) });
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteralLike(node.arguments[0]!)) {
      const isDynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isDynamicImport || isRequire) edges.push({ specifier: (node.arguments[0] as ts.StringLiteral).text, typeOnly: false, line: lineOf(node) });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      edges.push({ specifier: node.argument.literal.text, typeOnly: true, line: lineOf(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return edges;
}

const NODE_BUILTINS = new Set(
  ['assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises', 'http', 'http2',
    'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers', 'tls', 'url', 'util', 'v8', 'vm',
    'worker_threads', 'zlib'],
);

/** Packages that do IO or need a host (Node, Electron, a DOM, a model). */
const HOST_PACKAGES = ['electron', 'node-llama-cpp', 'react', 'react-dom', 'monaco-editor', '@monaco-editor/react', 'hyparquet', 'hyparquet-writer', 'playwright-core'];

function isNodeBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || NODE_BUILTINS.has(specifier);
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The layer a repository path belongs to, or null when no rule covers it. */
export function layerOf(repoPath: string): 'shared' | 'engine' | 'renderer' | 'llm' | 'cli' | 'main' | 'preload' | null {
  if (repoPath.startsWith('src/shared/')) return 'shared';
  if (repoPath.startsWith('src/main/engine/')) return 'engine';
  if (repoPath.startsWith('src/renderer/')) return 'renderer';
  if (repoPath.startsWith('src/preload/')) return 'preload';
  if (repoPath.startsWith('src/main/llm/')) return 'llm';
  if (repoPath === 'src/main/cli.ts' || repoPath.startsWith('src/main/cli/')) return 'cli';
  if (repoPath.startsWith('src/main/')) return 'main';
  return null;
}

/** Why an import from `fromPath` (repository-relative, posix) breaks the layering, or null when it is allowed. */
export function layerViolation(fromPath: string, edge: ImportEdge): string | null {
  const from = layerOf(fromPath);
  if (!from) return null;
  const relative = edge.specifier.startsWith('.');
  const target = relative ? posix.normalize(posix.join(posix.dirname(fromPath), edge.specifier)) : null;
  const to = target ? layerOf(target.endsWith('.ts') || target.endsWith('.tsx') ? target : `${target}.ts`) : null;
  switch (from) {
    case 'shared':
      if (isNodeBuiltin(edge.specifier)) return `src/shared imports no Node: '${edge.specifier}'`;
      if (!relative && HOST_PACKAGES.includes(packageName(edge.specifier))) return `src/shared imports no host package: '${edge.specifier}'`;
      if (to && to !== 'shared') return `src/shared imports only src/shared, not ${target}`;
      return null;
    case 'engine':
      if (isNodeBuiltin(edge.specifier)) return `the engine does no IO: '${edge.specifier}'`;
      if (!relative && HOST_PACKAGES.includes(packageName(edge.specifier))) return `the engine does no IO: '${edge.specifier}'`;
      if (to && to !== 'shared' && to !== 'engine') {
        // Port interfaces may live beside their adapters; a type-only import costs no IO at run time.
        if (edge.typeOnly) return null;
        return `the engine imports only src/shared and src/main/engine at run time, not ${target}`;
      }
      return null;
    case 'renderer':
      if (isNodeBuiltin(edge.specifier)) return `the renderer imports no Node: '${edge.specifier}'`;
      if (!relative && packageName(edge.specifier) === 'electron') return `the renderer imports no Electron: '${edge.specifier}'`;
      if (to === 'main' || to === 'engine' || to === 'llm' || to === 'cli' || to === 'preload') return `the renderer imports nothing from ${target}`;
      return null;
    case 'llm':
      if (to === 'cli') return `llm/ does not import the CLI: ${target}`;
      return null;
    default:
      return null;
  }
}
