import { loader } from '@monaco-editor/react';
// The editor API without any language: monaco-editor's main entry registers about
// eighty languages and the css/html/typescript services (and their workers), which
// no screen here uses. Only what the screens need is imported below.
import * as monaco from 'monaco-editor/editor/editor.api';
// Editor features the config and guidance editors and the diffs use.
import 'monaco-editor/features/codicon/register';
import 'monaco-editor/features/bracketMatching/register';
import 'monaco-editor/features/clipboard/register';
import 'monaco-editor/features/comment/register';
import 'monaco-editor/features/contextmenu/register';
import 'monaco-editor/features/cursorUndo/register';
import 'monaco-editor/features/diffEditor/register';
import 'monaco-editor/features/find/register';
import 'monaco-editor/features/folding/register';
import 'monaco-editor/features/format/register';
import 'monaco-editor/features/gotoError/register';
import 'monaco-editor/features/hover/register';
import 'monaco-editor/features/indentation/register';
import 'monaco-editor/features/linesOperations/register';
import 'monaco-editor/features/multicursor/register';
import 'monaco-editor/features/readOnlyMessage/register';
import 'monaco-editor/features/snippet/register';
import 'monaco-editor/features/suggest/register';
import 'monaco-editor/features/wordHighlighter/register';
import 'monaco-editor/features/wordOperations/register';
import 'monaco-editor/editor/contrib/suggest/browser/suggestController';
import 'monaco-editor/editor/browser/coreCommands';
// Languages: YAML (tokens here, schema services from monaco-yaml) and JSON (tokens and its language service).
import 'monaco-editor/languages/definitions/yaml/register';
import 'monaco-editor/languages/features/json/register';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import JsonWorker from 'monaco-editor/language/json/json.worker?worker';
import { createWebWorker as createLabelledWebWorker } from 'monaco-editor/internal/common/workers';
import { configureMonacoYaml, type JSONSchema } from 'monaco-yaml';
import YamlWorker from './yaml.worker?worker';
import runConfigSchema from '../../../../schema/run-config.schema.json';
import fusionConfigSchema from '../../../../schema/fusion-config.schema.json';
import sftConfigSchema from '../../../../schema/sft-config.schema.json';

/**
 * Editor models of config files live under this virtual folder, and the published
 * schemas under file:///schema/, mirroring the repository: a config's own
 * `# yaml-language-server: $schema=../schema/...` line then resolves to the schema
 * registered here, as it does in an editor on the repository. Configs without
 * such a line get the run config schema.
 */
const CONFIG_ROOT = '/configs/';
const SCHEMAS: { file: string; schema: unknown; fileMatch: string[] }[] = [
  { file: 'run-config.schema.json', schema: runConfigSchema, fileMatch: [`file://${CONFIG_ROOT}**/*.yaml`, `file://${CONFIG_ROOT}**/*.yml`] },
  { file: 'fusion-config.schema.json', schema: fusionConfigSchema, fileMatch: [] },
  { file: 'sft-config.schema.json', schema: sftConfigSchema, fileMatch: [] },
];

/** The editor model path of a config, given its path relative to the configs folder. */
export function configModelPath(relativePath: string): string {
  return monaco.Uri.file(`${CONFIG_ROOT}${relativePath.replace(/^\/+/, '')}`).toString();
}

/**
 * Monaco from the local package, never a CDN: the CSP forbids remote scripts and
 * the machine may be offline. Workers are bundled by Vite (`?worker`): the editor
 * worker, and one each for the JSON and YAML language services.
 */
let done = false;
export function setupMonaco(): void {
  if (done) return;
  done = true;
  (self as unknown as { MonacoEnvironment: unknown }).MonacoEnvironment = {
    getWorker(_workerId: string, label: string) {
      if (label === 'json') return new JsonWorker();
      if (label === 'yaml') return new YamlWorker();
      return new EditorWorker();
    },
  };
  // monaco-yaml 5 (through monaco-worker-manager) creates its worker with the pre-0.55
  // editor.createWebWorker({ label, moduleId, createData }); monaco-editor 0.57 takes a Worker
  // there instead. Its internal helper still takes the old options: hand monaco-yaml that.
  const monacoForYaml = { ...monaco, editor: { ...monaco.editor, createWebWorker: createLabelledWebWorker } } as typeof monaco;
  configureMonacoYaml(monacoForYaml, {
    enableSchemaRequest: false,
    completion: true,
    hover: true,
    validate: true,
    format: { enable: true },
    schemas: SCHEMAS.map(({ file, schema, fileMatch }) => ({ uri: `file:///schema/${file}`, fileMatch, schema: schema as JSONSchema })),
  });
  loader.config({ monaco });
}
