import type { GuidanceState } from '../schemas/guidance';
import { canonicalJson } from './canonicalJson';
import { sha256Hex } from './sha256Hex';

/**
 * A stable hash of what guidance says (experiences + metadata), independent of key
 * order and of step/updated_at. Two writers compare it to notice a hand edit that
 * changed the text without bumping the step.
 */
export function guidanceContentHash(state: Pick<GuidanceState, 'experiences' | 'metadata'>): string {
  return sha256Hex(canonicalJson({ experiences: state.experiences, metadata: state.metadata ?? {} }));
}
