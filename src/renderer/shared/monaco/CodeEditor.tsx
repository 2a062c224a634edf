import Editor, { type OnMount } from '@monaco-editor/react';
import { useEffect, useRef } from 'react';
import type * as Monaco from 'monaco-editor';
import { setupMonaco } from './setupMonaco';

setupMonaco();

export type EditorMarker = { line: number; message: string };

/** `path` names the editor model (a file URI): YAML schemas are matched against it (see configModelPath). */
type Props = { value: string; onChange(value: string): void; language: string; path?: string; height?: number; markers?: EditorMarker[]; readOnly?: boolean; testId?: string };

/** A Monaco editor whose validation errors show inline as markers. */
export function CodeEditor({ value, onChange, language, path, height = 360, markers = [], readOnly, testId }: Props) {
  const editorRef = useRef<Monaco.editor.IStandaloneCodeEditor | null>(null);
  const monacoRef = useRef<typeof Monaco | null>(null);
  const onMount: OnMount = (editor, monaco) => {
    editorRef.current = editor;
    monacoRef.current = monaco;
    applyMarkers();
  };
  function applyMarkers() {
    const model = editorRef.current?.getModel();
    const monaco = monacoRef.current;
    if (!model || !monaco) return;
    monaco.editor.setModelMarkers(model, 'stageb', markers.map((m) => ({
      startLineNumber: m.line, endLineNumber: m.line, startColumn: 1, endColumn: model.getLineMaxColumn(Math.min(m.line, model.getLineCount())),
      message: m.message, severity: monaco.MarkerSeverity.Error,
    })));
  }
  useEffect(applyMarkers, [markers]);
  return (
    <div className="monaco-frame" style={{ height }} data-testid={testId}>
      <Editor value={value} language={language} path={path} theme="vs" onChange={(v) => onChange(v ?? '')} onMount={onMount}
        options={{ readOnly, wordWrap: 'on', minimap: { enabled: false }, scrollBeyondLastLine: false, automaticLayout: true, tabSize: 2, unicodeHighlight: { ambiguousCharacters: false, invisibleCharacters: false } }} />
    </div>
  );
}
