import ts from 'typescript';
import { RUN_FILES } from '../../src/shared/runFiles';

/** A run-file name spelled as a string literal (test/architecture/runFileNames.test.ts). */
export type RunFileLiteral = { line: number; name: string; text: string };

const NAMES: readonly string[] = Object.values(RUN_FILES);

/**
 * A name with a dot or an underscore (`run.json`, `reflection_cache`) means the run file
 * wherever it is spelled; a plain word (`export`, `preview`, `snapshots`, `attribution`) is
 * also a job kind, a CLI command or a screen id, so it counts only where a path is made.
 */
function isDistinctive(name: string): boolean {
  return /[._]/.test(name);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const ANYWHERE = NAMES.filter(isDistinctive).map((name) => ({ name, pattern: new RegExp(`(?<![\\w.-])${escape(name)}(?!\\w)`) }));
/** A plain folder name followed by a slash is a path anywhere (`snapshots/${name}`, 'export/verdicts.jsonl'). */
const AS_FOLDER = NAMES.filter((name) => !isDistinctive(name)).map((name) => ({ name, pattern: new RegExp(`(?<![\\w.-])${escape(name)}/`) }));
const PLAIN = new Set(NAMES.filter((name) => !isDistinctive(name)));

const PATH_CALLS = new Set(['join', 'resolve', 'relative', 'default']);
const PATH_NAME = /(dir|file|path|folder)s?$/i;

/** Whether a literal sits where a path or a file location is made: a path.join/resolve argument, a zod default, a `file:`/`*Dir` value. */
function inPathContext(node: ts.Node): boolean {
  const parent = node.parent;
  if (ts.isCallExpression(parent) && parent.arguments.includes(node as ts.Expression)) {
    const callee = parent.expression;
    const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : '';
    return PATH_CALLS.has(name);
  }
  if (ts.isPropertyAssignment(parent) && parent.initializer === node) {
    return (ts.isIdentifier(parent.name) || ts.isStringLiteral(parent.name)) && PATH_NAME.test(parent.name.text);
  }
  if (ts.isVariableDeclaration(parent) && parent.initializer === node) return ts.isIdentifier(parent.name) && PATH_NAME.test(parent.name.text);
  if (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken && parent.right === node) return inPathContext(parent);
  return false;
}

/** Every string or template literal of `source` that spells a run file's name. */
export function findRunFileLiterals(fileName: string, source: string): RunFileLiteral[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, fileName.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: RunFileLiteral[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node) || ts.isJsxText(node)) {
      // Module specifiers name source files, not run files.
      const parent = node.parent;
      const isSpecifier =
        ts.isImportDeclaration(parent) || ts.isExportDeclaration(parent) || ts.isExternalModuleReference(parent) || ts.isLiteralTypeNode(parent) && ts.isImportTypeNode(parent.parent) ||
        (ts.isCallExpression(parent) && (parent.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(parent.expression) && parent.expression.text === 'require')));
      const text = node.text;
      const line = file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
      if (!isSpecifier) {
        for (const { name, pattern } of [...ANYWHERE, ...AS_FOLDER]) if (pattern.test(text)) found.push({ line, name, text });
        if (PLAIN.has(text) && ts.isStringLiteral(node) && inPathContext(node)) found.push({ line, name: text, text });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}
