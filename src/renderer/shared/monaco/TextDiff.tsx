import { DiffEditor } from '@monaco-editor/react';
import { setupMonaco } from './setupMonaco';

setupMonaco();

/** A read-only Monaco diff of two texts. */
export function TextDiff({ original, modified, height = 260, language = 'plaintext' }: { original: string; modified: string; height?: number; language?: string }) {
  return (
    <div className="monaco-frame" style={{ height }} data-testid="monaco-diff">
      <DiffEditor original={original} modified={modified} language={language} theme="vs"
        options={{ readOnly: true, renderSideBySide: true, wordWrap: 'on', minimap: { enabled: false }, scrollBeyondLastLine: false, automaticLayout: true, originalEditable: false }} />
    </div>
  );
}
