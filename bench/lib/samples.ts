/** Percentiles of latency samples (for benchmarks that time single events rather than a loop). */

/** The q-quantile of ascending `sorted` (nearest rank, rounding down); NaN when empty. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

export interface Summary {
  count: number
  p50: number
  p99: number
  min: number
  max: number
}

/** p50, p99, min and max of `values` (any unit; the order of `values` is left alone). */
export function summarize(values: readonly number[]): Summary {
  const sorted = Float64Array.from(values).sort()
  return { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), min: sorted[0] ?? Number.NaN, max: sorted[sorted.length - 1] ?? Number.NaN }
}
