import { canonicalJson } from './canonicalJson';
import { sha256Hex } from './sha256Hex';

/**
 * A hash of the experiences alone (what the rollout prompt shows), independent of key
 * order: a measured holdout effect stays valid while this is unchanged, whatever
 * happens to metadata (authors, sources) or the step number.
 */
export function experiencesHash(experiences: Readonly<Record<string, string>>): string {
  return sha256Hex(canonicalJson(experiences));
}
