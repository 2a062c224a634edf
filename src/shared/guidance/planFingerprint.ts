import type { ReflectionOperation } from '../schemas/records';
import { canonicalJson } from './canonicalJson';
import { sha256Hex } from './sha256Hex';

/**
 * A stable id for a plan, so that applying the same plan twice (a retried apply after a
 * crash, a replayed reflection) is recognised and becomes a no-op. Operation order
 * matters; key order inside an operation does not. `scope` (the reflection_id) keeps
 * two different reflections that happen to propose the same edits apart.
 */
export function planFingerprint(operations: readonly ReflectionOperation[], scope = ''): string {
  return `plan-${sha256Hex(canonicalJson({ scope, operations })).slice(0, 32)}`;
}
