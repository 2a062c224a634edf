// monaco-editor ships no types for its worker helper; this is the part setupMonaco.ts uses.
declare module 'monaco-editor/internal/common/workers' {
  import type { editor } from 'monaco-editor/editor/editor.api';
  export function createWebWorker<T extends object>(opts: { label?: string; moduleId?: string; createData?: unknown; host?: Record<string, Function>; keepIdleModels?: boolean }): editor.MonacoWebWorker<T>;
}
