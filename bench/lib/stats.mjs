// Order statistics of the benches' samples.

const ascending = (values) => [...values].sort((a, b) => a - b);

/** The nearest-rank `p`th percentile of `values`. */
export function percentile(values, p) {
  const sorted = ascending(values);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The median of `values`: the middle one, or the mean of the two middle ones when even. */
export function median(values) {
  const sorted = ascending(values);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The middle one of `values`, the upper of the two middle ones when even: always a sample that
 * was measured. bench/opamp-deflate and bench/rate-limit report this one, so their figures stay
 * comparable with earlier runs; it differs from median() only for an even count.
 */
export function upperMedian(values) {
  return ascending(values)[Math.floor(values.length / 2)];
}
