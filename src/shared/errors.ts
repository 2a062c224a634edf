/**
 * Every failure a user can see is a StageBError: a stable machine code, a human
 * message, and where it happened (file, line, field). The UI and the CLI print
 * `format()` verbatim, so the message must stand on its own.
 */
export type ErrorLocation = {
  file?: string;
  line?: number;
  field?: string;
};

export const ERROR_CODES = [
  'CONFIG_INVALID',
  'CONFIG_NOT_FOUND',
  'INPUT_NOT_FOUND',
  'INPUT_MALFORMED_JSON',
  'INPUT_INVALID_FIELD',
  'INPUT_MISSION_MISMATCH',
  'INPUT_EMPTY',
  'INPUT_INVALID_UTF8',
  'GUIDANCE_NOT_FOUND',
  'GUIDANCE_INVALID',
  'GUIDANCE_EMPTY_EXPERIENCES',
  'GUIDANCE_OVER_BUDGET',
  'GUIDANCE_STEP_CONFLICT',
  'GUIDANCE_LOCKED',
  'GUIDANCE_REJECTED_OPERATION',
  'MODEL_NOT_FOUND',
  'MODEL_INVALID_GGUF',
  'MODEL_LOAD_FAILED',
  'MODEL_CONTEXT_OVERFLOW',
  'MODEL_OUT_OF_MEMORY',
  'PROMPT_OVER_BUDGET',
  'BACKEND_HTTP',
  'BACKEND_TIMEOUT',
  'BACKEND_MALFORMED_RESPONSE',
  'CANCELLED',
  'RUN_DIR_CONFLICT',
  /** A write that would replace an existing file the caller did not ask to replace (config save-as, distill split). */
  'FILE_EXISTS',
  'IO_WRITE_FAILED',
  'IO_READ_FAILED',
  'EXPORT_MISSING_METADATA',
  'EXPORT_INCOMPLETE',
  'REFLECTION_INVALID_JSON',
  'DISTILL_NOT_CONVERGED',
  'API_INVALID_REQUEST',
  'API_FORBIDDEN',
  'API_NOT_FOUND',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class StageBError extends Error {
  readonly code: ErrorCode;
  readonly location: ErrorLocation;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, location: ErrorLocation = {}, details?: unknown) {
    super(message);
    this.name = 'StageBError';
    this.code = code;
    this.location = location;
    this.details = details;
  }

  /** `CODE file:line field: message` — the one way errors are shown to people. */
  format(): string {
    return formatError({ code: this.code, message: this.message, location: this.location });
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message, location: this.location };
  }
}

export type SerializedError = { code: ErrorCode; message: string; location: ErrorLocation };

export function formatLocation(location: ErrorLocation): string {
  const parts: string[] = [];
  if (location.file) parts.push(location.line !== undefined ? `${location.file}:${location.line}` : location.file);
  else if (location.line !== undefined) parts.push(`line ${location.line}`);
  if (location.field) parts.push(`field ${location.field}`);
  return parts.join(' ');
}

export function formatError(error: SerializedError): string {
  const where = formatLocation(error.location);
  return where ? `${error.code} ${where}: ${error.message}` : `${error.code}: ${error.message}`;
}

export function isStageBError(value: unknown): value is StageBError {
  return value instanceof StageBError;
}

/** Wraps anything thrown into a StageBError so callers handle one type. */
export function toStageBError(value: unknown, fallback: ErrorCode = 'INTERNAL', location: ErrorLocation = {}): StageBError {
  if (value instanceof StageBError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new StageBError(fallback, message, location);
}
