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

/**
 * guidanceContentHash without the rules' wall-clock times: what a cache fingerprint may
 * depend on, so that two fresh identical runs name and reuse the same artifacts.
 */
export function guidanceContentHashWithoutTimes(state: Pick<GuidanceState, 'experiences' | 'metadata'>): string {
  const metadata = Object.fromEntries(
    Object.entries(state.metadata ?? {}).map(([key, meta]) => {
      const { updated_at: _time, ...rest } = meta as { updated_at?: string };
      return [key, rest];
    }),
  );
  return sha256Hex(canonicalJson({ experiences: state.experiences, metadata }));
}
