import { z } from 'zod';
import type { SelectionRecord } from '../schemas/records';
import { IRRELEVANT_IMAGE, type StageASummary } from '../stageASummary';
import { GroupLabelSchema } from '../verdict';
import { ComparisonRowSchema, compareRows, finalSelections } from './compareRuns';

/**
 * What the workbench shows beside `stageb compare`'s rates: which groups changed their
 * verdict between two sets of selections, and the same rates per slice (Stage-A category,
 * label). Every rate goes through compareRows, the math `stageb compare` prints.
 */

/** fixed: B matches the label where A did not; broken: the reverse; changed: neither side matches, or no label. */
export const VerdictChangeSchema = z.enum(['broken', 'fixed', 'changed']);
export type VerdictChange = z.infer<typeof VerdictChangeSchema>;

const SideVerdictSchema = z.object({
  verdict: GroupLabelSchema.nullable(),
  epoch: z.number().int().nonnegative(),
  guidance_step: z.number().int().nonnegative(),
  confidence: z.number().nullable(),
});

export const ChangedGroupSchema = z.object({
  mission: z.string(),
  group_id: z.string(),
  ticket_key: z.string(),
  label: GroupLabelSchema.nullable(),
  a: SideVerdictSchema,
  b: SideVerdictSchema,
  change: VerdictChangeSchema,
  /** A label = fail ticket that B releases (judges pass) and A did not. */
  new_false_release: z.boolean(),
  /** The Stage-A categories of the ticket's photos; empty when the Stage-A input was not readable. */
  categories: z.array(z.string()),
});
export type ChangedGroup = z.infer<typeof ChangedGroupSchema>;

export const SliceKindSchema = z.enum(['category', 'label']);
export const SliceRowSchema = z.object({
  kind: SliceKindSchema,
  /** A Stage-A category (无关图片 for a photo marked irrelevant), or a label: pass, fail, unlabelled. */
  slice: z.string(),
  /** Groups of the slice that both sides judged, and how many of them changed their verdict. */
  common: z.number().int().nonnegative(),
  changed: z.number().int().nonnegative(),
  row: ComparisonRowSchema,
});
export type SliceRow = z.infer<typeof SliceRowSchema>;

/** ticket_key → its Stage-A categories. */
export type CategoriesOf = (ticketKey: string) => readonly string[];

/** The categories a ticket's photos show, in first-seen order; an irrelevant photo counts as 无关图片. */
export function stageACategories(summaries: readonly StageASummary[]): string[] {
  const seen = new Set<string>();
  for (const summary of summaries) {
    if (summary.format === 'irrelevant') seen.add(IRRELEVANT_IMAGE);
    for (const entry of summary.entries) if (entry.category.trim()) seen.add(entry.category.trim());
  }
  return [...seen];
}

const groupKey = (row: SelectionRecord) => `${row.mission}\u0000${row.ticket_key}`;

function changeOf(label: SelectionRecord['label'], a: SelectionRecord['verdict'], b: SelectionRecord['verdict']): VerdictChange {
  if (label === null) return 'changed';
  if (a === label) return 'broken';
  if (b === label) return 'fixed';
  return 'changed';
}

const CHANGE_ORDER: Record<VerdictChange, number> = { broken: 0, fixed: 1, changed: 2 };

/** The final selection (last epoch) of each group that both sides judged, paired by mission and ticket_key. */
export function pairFinalSelections(a: readonly SelectionRecord[], b: readonly SelectionRecord[]): Array<{ a: SelectionRecord; b: SelectionRecord }> {
  const finalB = new Map(finalSelections(b).map((row) => [groupKey(row), row]));
  const pairs: Array<{ a: SelectionRecord; b: SelectionRecord }> = [];
  for (const row of finalSelections(a)) {
    const other = finalB.get(groupKey(row));
    if (other) pairs.push({ a: row, b: other });
  }
  return pairs;
}

/**
 * Groups judged by both sides whose final verdict differs (a malformed verdict is null and
 * differs from either), new false releases first, then lost matches, gained ones, the rest.
 */
export function changedGroups(a: readonly SelectionRecord[], b: readonly SelectionRecord[], categoriesOf: CategoriesOf = () => []): ChangedGroup[] {
  const side = (row: SelectionRecord) => ({ verdict: row.verdict, epoch: row.epoch, guidance_step: row.guidance_step, confidence: row.confidence });
  return pairFinalSelections(a, b)
    .filter((pair) => pair.a.verdict !== pair.b.verdict)
    .map(({ a: ra, b: rb }) => ({
      mission: ra.mission,
      group_id: ra.group_id,
      ticket_key: ra.ticket_key,
      label: ra.label,
      a: side(ra),
      b: side(rb),
      change: changeOf(ra.label, ra.verdict, rb.verdict),
      new_false_release: ra.label === 'fail' && rb.verdict === 'pass' && ra.verdict !== 'pass',
      categories: [...categoriesOf(ra.ticket_key)],
    }))
    .sort(
      (x, y) =>
        Number(y.new_false_release) - Number(x.new_false_release) ||
        CHANGE_ORDER[x.change] - CHANGE_ORDER[y.change] ||
        x.mission.localeCompare(y.mission) ||
        x.group_id.localeCompare(y.group_id),
    );
}

export const LABEL_SLICES = ['fail', 'pass', 'unlabelled'] as const;
const labelSlice = (row: SelectionRecord) => row.label ?? 'unlabelled';

/**
 * label_match and false-release per slice, each side over its own groups of the slice (as
 * `stageb compare` does per mission): one row per label, then one per Stage-A category,
 * the most common first. A ticket with photos of several categories counts in each.
 */
export function sliceBreakdown(a: readonly SelectionRecord[], b: readonly SelectionRecord[], categoriesOf: CategoriesOf | null): SliceRow[] {
  const finalA = finalSelections(a);
  const finalB = finalSelections(b);
  const changed = changedGroups(a, b, categoriesOf ?? undefined);
  const pairs = pairFinalSelections(a, b);
  const rows: SliceRow[] = [];
  const slice = (kind: SliceRow['kind'], name: string, member: (row: SelectionRecord) => boolean, changedMember: (row: ChangedGroup) => boolean) => {
    const sideA = finalA.filter(member);
    const sideB = finalB.filter(member);
    if (sideA.length === 0 && sideB.length === 0) return;
    rows.push({
      kind,
      slice: name,
      common: pairs.filter((pair) => member(pair.a)).length,
      changed: changed.filter(changedMember).length,
      row: compareRows(sideA, sideB),
    });
  };
  for (const label of LABEL_SLICES) slice('label', label, (row) => labelSlice(row) === label, (row) => (row.label ?? 'unlabelled') === label);
  if (categoriesOf) {
    const counts = new Map<string, number>();
    for (const row of [...finalA, ...finalB]) for (const category of categoriesOf(row.ticket_key)) counts.set(category, (counts.get(category) ?? 0) + 1);
    const categories = [...counts.entries()].sort(([x, nx], [y, ny]) => ny - nx || x.localeCompare(y)).map(([category]) => category);
    for (const category of categories) {
      slice('category', category, (row) => categoriesOf(row.ticket_key).includes(category), (row) => row.categories.includes(category));
    }
  }
  return rows;
}
