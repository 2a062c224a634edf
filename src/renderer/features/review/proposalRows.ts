import type { ReviewQueueItem } from '../../../shared/api/contract';

/** One protected rule a queued operation would change: then (when proposed), now, and what is proposed. */
export type ProposalRow = {
  rule_id: string | null;
  /** The key when reflection proposed the change (guidance_step), and where the rule is now. */
  keyThen: string;
  keyNow: string | null;
  textThen: string | null;
  textNow: string | null;
  /** What the rule would say after the operation; null: it would be removed. */
  proposed: string | null;
  /** 'merged into G1' etc., for rules that would disappear. */
  effect: 'modify' | 'remove' | 'merge_into' | 'merge_from' | 'add';
  reason: string | null;
};

/**
 * The rows a reviewer compares: every key the operation names, matched to the rule now
 * by rule_id (the dense keys may have been renumbered since reflection proposed it).
 */
export function proposalRows(item: ReviewQueueItem): ProposalRow[] {
  const op = item.operation;
  const nowById = new Map(item.now.map((n) => [n.rule_id, n]));
  const targetByKey = new Map(item.targets.map((t) => [t.key, t]));
  const row = (key: string, effect: ProposalRow['effect'], proposed: string | null): ProposalRow => {
    const rule_id = item.rule_ids[key] ?? targetByKey.get(key)?.rule_id ?? null;
    const now = rule_id ? nowById.get(rule_id) : undefined;
    const target = targetByKey.get(key);
    return { rule_id, keyThen: key, keyNow: now?.key ?? null, textThen: target?.text ?? null, textNow: now?.text ?? null, proposed, effect, reason: target?.reason ?? null };
  };
  switch (op.op) {
    case 'modify':
      return [row(op.key, 'modify', op.text ?? null)];
    case 'remove':
      return [row(op.key, 'remove', null)];
    case 'merge':
      return [row(op.key, 'merge_into', op.text ?? null), ...(op.merge_from ?? []).filter((k) => k !== op.key).map((k) => row(k, 'merge_from', null))];
    case 'add':
      return [row(op.key, 'add', op.text ?? null)];
  }
}

/** A rule named by the item that no longer exists: accepting then fails, so the panel says so first. */
export function missingRules(item: ReviewQueueItem): string[] {
  return proposalRows(item).filter((r) => r.effect !== 'add' && r.rule_id !== null && r.keyNow === null).map((r) => r.keyThen);
}
