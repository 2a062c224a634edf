import { DiffEditor, type DiffOnMount } from '@monaco-editor/react';
import { useEffect, useRef } from 'react';
import type * as Monaco from 'monaco-editor';
import { setupMonaco } from './setupMonaco';

setupMonaco();

/**
 * A read-only Monaco diff of two texts. The models are disposed here after the
 * widget (the wrapper would dispose them first, which Monaco reports as an error).
 */
export function TextDiff({ original, modified, height = 260, language = 'plaintext' }: { original: string; modified: string; height?: number; language?: string }) {
  const editorRef = useRef<Monaco.editor.IStandaloneDiffEditor | null>(null);
  const onMount: DiffOnMount = (editor) => {
    editorRef.current = editor;
  };
  useEffect(() => () => {
    const models = editorRef.current?.getModel();
    // Not at once: a diff the worker is still computing for these models must find them
    // there, or Monaco throws "no diff result available" out of its diff provider.
    setTimeout(() => {
      models?.original.dispose();
      models?.modified.dispose();
    }, 2000);
  }, []);
  return (
    <div className="monaco-frame" style={{ height }} data-testid="monaco-diff">
      <DiffEditor original={original} modified={modified} language={language} theme="vs" onMount={onMount}
        keepCurrentOriginalModel keepCurrentModifiedModel
        options={{
          readOnly: true, renderSideBySide: true, useInlineViewWhenSpaceIsLimited: false, wordWrap: 'on', minimap: { enabled: false },
          scrollBeyondLastLine: false, automaticLayout: true, originalEditable: false,
          unicodeHighlight: { ambiguousCharacters: false, invisibleCharacters: false },
        }} />
    </div>
  );
}
