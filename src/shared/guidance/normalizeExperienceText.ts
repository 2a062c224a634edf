/**
 * Trims and collapses whitespace inside each line and drops blank lines; line breaks
 * survive because G0 checklists are often written one item per line.
 */
export function normalizeExperienceText(text: string): string {
  return text
    .split(/\r?\n|\r/)
    .map((line) => line.replace(/[\s\u3000]+/gu, ' ').trim())
    .filter((line) => line !== '')
    .join('\n');
}
