/**
 * Splits `total` items over groups of the given sizes in proportion to their sizes,
 * giving every non-empty group at least one item whenever `total` allows it, and never
 * more than `caps[i]` (default: the group's size). Largest remainders break ties, then
 * the smaller index. Pure; used for the holdout split and for runner.max_tickets, so
 * that a label present in the input is never left out by rounding.
 */
export function stratifiedQuotas(sizes: readonly number[], total: number, caps: readonly number[] = sizes): number[] {
  const available = sizes.reduce((sum, size, i) => sum + Math.min(size, caps[i]), 0);
  const target = Math.max(0, Math.min(total, available));
  const population = sizes.reduce((sum, size) => sum + size, 0);
  if (target === 0 || population === 0) return sizes.map(() => 0);
  const exact = sizes.map((size) => (size / population) * target);
  const quotas = exact.map((value, i) => Math.min(Math.floor(value), caps[i], sizes[i]));
  const present = sizes.map((size, i) => size > 0 && Math.min(size, caps[i]) > 0);
  // Every present group first gets one, as far as the target allows.
  let assigned = quotas.reduce((a, b) => a + b, 0);
  // Count the groups that already hold one, so that giving the rest theirs may overshoot the
  // target (taken back below from the largest) but never hands out more ones than the target.
  let holdingOne = quotas.filter((quota) => quota > 0).length;
  for (let i = 0; i < quotas.length && holdingOne < target; i++) {
    if (present[i] && quotas[i] === 0) {
      quotas[i] = 1;
      assigned++;
      holdingOne++;
    }
  }
  // A group given its one item may push the sum over the target: take back from the largest.
  while (assigned > target) {
    let largest = -1;
    for (let i = 0; i < quotas.length; i++) if (quotas[i] > 1 && (largest === -1 || quotas[i] > quotas[largest])) largest = i;
    if (largest === -1) break;
    quotas[largest]--;
    assigned--;
  }
  const order = exact.map((value, i) => ({ i, remainder: value - Math.floor(value) })).sort((a, b) => b.remainder - a.remainder || a.i - b.i);
  while (assigned < target) {
    const next = order.find(({ i }) => quotas[i] < Math.min(caps[i], sizes[i]));
    if (!next) break;
    quotas[next.i]++;
    assigned++;
    order.push(order.splice(order.indexOf(next), 1)[0]);
  }
  return quotas;
}
