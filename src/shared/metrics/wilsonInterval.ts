export type ProportionInterval = {
  /** successes / n; null when n is 0. */
  estimate: number | null;
  lower: number;
  upper: number;
};

/**
 * Wilson score interval for a binomial proportion (default z = 1.96, i.e. 95 %).
 * Unlike the normal approximation it stays inside [0, 1] and behaves at 0 and n
 * successes, which matters for the small holdouts and batches of this product.
 * With n = 0 nothing is known: the interval is [0, 1] and the estimate null.
 */
export function wilsonInterval(successes: number, n: number, z = 1.96): ProportionInterval {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new RangeError(`successes must be an integer in [0, ${n}], got ${successes}`);
  }
  if (n === 0) return { estimate: null, lower: 0, upper: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const halfWidth = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  return {
    estimate: p,
    lower: Math.max(0, centre - halfWidth),
    upper: Math.min(1, centre + halfWidth),
  };
}
