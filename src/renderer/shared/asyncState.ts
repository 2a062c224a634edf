import type { SerializedError } from '../../shared/errors';
import { isApiCallError } from '../../shared/api/transport';

export type AsyncState<T> =
  | { status: 'idle' }
  | { status: 'loading'; data?: T }
  | { status: 'ready'; data: T }
  | { status: 'error'; error: SerializedError; data?: T };

export const idle = { status: 'idle' } as const;

/** Whatever was thrown, as the SerializedError the UI shows verbatim. */
export function toSerializedError(value: unknown): SerializedError {
  if (isApiCallError(value)) return value.error;
  if (value && typeof value === 'object' && 'code' in value && 'message' in value) {
    const v = value as { code: SerializedError['code']; message: string; location?: SerializedError['location'] };
    return { code: v.code, message: v.message, location: v.location ?? {} };
  }
  return { code: 'INTERNAL', message: value instanceof Error ? value.message : String(value), location: {} };
}
