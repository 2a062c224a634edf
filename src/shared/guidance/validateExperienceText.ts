import { looksLikeStageASummary } from '../stageASummary';

/**
 * Why an experience text cannot be stored, or null when it can. Rules, not evidence:
 * a copied Stage-A summary (`类别/属性×2`, `标签/`, `image_3`, summary JSON) would
 * leak one ticket's facts into every prompt.
 */
export function validateExperienceText(key: string, text: string): string | null {
  if (typeof text !== 'string' || text.trim() === '') return `experience ${key} is empty`;
  if (looksLikeStageASummary(text)) {
    return `experience ${key} looks like a Stage-A photo summary (counts such as ×N, 标签/, image_N or summary JSON), not a rule`;
  }
  return null;
}
