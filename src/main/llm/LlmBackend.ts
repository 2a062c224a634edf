import type { BackendName } from '../../shared/schemas/backends';
import type { DecodeParams } from '../../shared/schemas/decode';
import type { Compute, DecodeBatching } from '../../shared/schemas/telemetry';

/**
 * One interface for every backend (node-llama-cpp embedded, OpenAI-compatible
 * servers). A request is a prompt split into ordered segments so a backend can
 * evaluate a shared prefix once: segments[0] is the most widely shared part
 * (system prompt + experiences block + mission), the last segment is per-group.
 * Segments are concatenated with no separator to form the user turn.
 */
export type PromptSegments = {
  /** System message text. */
  system: string;
  /** User message, in parts; parts[i] is shared by at least as many requests as parts[i+1]. */
  userParts: string[];
};

export type OutputConstraint =
  | { kind: 'none' }
  | { kind: 'gbnf'; grammar: string }
  | { kind: 'json_schema'; schema: Record<string, unknown> };

export type GenerateRequest = {
  prompt: PromptSegments;
  /** One entry per candidate; candidates of one request share the whole prompt. */
  candidates: DecodeParams[];
  constraint: OutputConstraint;
  stop?: string[];
};

export type FinishReason = 'stop' | 'length' | 'abort' | 'error';

export type Completion = {
  text: string;
  finishReason: FinishReason;
  /** Prompt tokens in the full prompt (what a naive engine would evaluate). */
  promptTokens: number;
  generatedTokens: number;
};

/** Counts prompt tokens the backend actually evaluated versus the unique prompt tokens it saw. */
export type TokenMeterSnapshot = {
  promptEvaluated: number;
  promptUnique: number;
  promptTotal: number;
  generated: number;
};

export type BackendInfo = {
  backend: BackendName;
  modelName: string;
  modelPath: string | null;
  contextSize: number;
  gpu: string | false;
  /** How candidates share decode steps (the llama-cpp backend; a server decides that itself). */
  decodeBatching?: DecodeBatching;
  /** The llama.cpp runtime that loaded the model (the llama-cpp backend; run.json's versions and compute). */
  runtime?: LlamaRuntimeInfo;
};

export type LlamaRuntimeInfo = { llamaCppRelease: string; compute: Compute };

export interface LlmBackend {
  readonly info: BackendInfo;
  /**
   * Generates one completion per candidate. Many requests may be in flight at once;
   * the backend schedules them over its sequences / connections.
   */
  generate(request: GenerateRequest, signal?: AbortSignal): Promise<Completion[]>;
  /** Token count of a full prompt as the backend would see it (chat template applied). */
  countPromptTokens(prompt: PromptSegments): Promise<number>;
  /** Token count of plain text (used for budgets such as the experiences block). */
  countTextTokens(text: string): Promise<number>;
  tokenMeter(): TokenMeterSnapshot;
  close(): Promise<void>;
}
