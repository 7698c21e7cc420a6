/**
 * Order statistics of measured times.
 */

/** Median, 90th percentile and extremes of a list of numbers. */
export interface Summary {
  count: number;
  min: number;
  median: number;
  p90: number;
  max: number;
}

/**
 * Summarizes `values`. The 90th percentile uses the nearest-rank method, so it is one of the
 * values. The median of an even count is the mean of the two middle values. Throws on an empty
 * list, because no figure would be meaningful.
 */
export function summarize(values: number[]): Summary {
  if (values.length === 0) {
    throw new Error('Cannot summarize an empty list of measurements.');
  }
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return {
    count: sorted.length,
    min: sorted[0]!,
    median,
    p90: nearestRank(sorted, 0.9),
    max: sorted[sorted.length - 1]!,
  };
}

function nearestRank(sorted: number[], fraction: number): number {
  const rank = Math.ceil(fraction * sorted.length);
  return sorted[Math.max(rank, 1) - 1]!;
}
