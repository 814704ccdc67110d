/**
 * A closed-loop load generator: `inFlight` lanes, each issuing its next call as soon as the
 * previous one settles, for a fixed time. Measures calls per second over the whole window and
 * the latency of every call (taken inside the loop, `performance.now()` around each await).
 */

/** One measured configuration. */
export interface Measurement {
  inFlight: number
  calls: number
  seconds: number
  callsPerSecond: number
  p50Us: number
  p99Us: number
}

export interface ClosedLoopOptions {
  /** Calls kept in flight at once (lanes). */
  inFlight: number
  /** Length of the measured window, in ms. */
  durationMs: number
  /** Calls one `issue()` stands for (an actor method that makes K inner calls). Default 1. */
  callsPerIssue?: number
  /**
   * Latencies of the inner calls, in µs, taken from what `issue()` resolved with; when given,
   * they replace the outer round-trip times in the percentiles.
   */
  innerLatenciesUs?: (result: unknown) => ArrayLike<number>
}

/** Most latency samples kept per measurement (later calls are still counted). */
const samplesMax = 1 << 22
const samples = new Float64Array(samplesMax)

/** Runs the loop once for `durationMs`; call it first with a short window to warm up. */
export async function closedLoop(issue: () => Promise<unknown>, options: ClosedLoopOptions): Promise<Measurement> {
  const { inFlight, durationMs, callsPerIssue = 1, innerLatenciesUs } = options
  let issues = 0
  let recorded = 0
  let stopped = false
  const start = performance.now()
  const deadline = start + durationMs
  const lane = async (): Promise<void> => {
    while (!stopped) {
      const t0 = performance.now()
      const result = await issue()
      const t1 = performance.now()
      issues++
      if (innerLatenciesUs) {
        const inner = innerLatenciesUs(result)
        for (let i = 0; i < inner.length && recorded < samplesMax; i++) samples[recorded++] = inner[i]!
      } else if (recorded < samplesMax) samples[recorded++] = (t1 - t0) * 1000
      if (t1 >= deadline) stopped = true
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane))
  const seconds = (performance.now() - start) / 1000
  const sorted = samples.slice(0, recorded).sort()
  const calls = issues * callsPerIssue
  return {
    inFlight,
    calls,
    seconds,
    callsPerSecond: calls / seconds,
    p50Us: percentile(sorted, 0.5),
    p99Us: percentile(sorted, 0.99),
  }
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

/**
 * Measures every contender in turn, `rounds` times interleaved (A B C, A B C), after a warm-up
 * of each, and keeps each contender's best round: on a shared, noisy machine the best round is
 * the one least disturbed, and interleaving keeps a burst of noise from hitting one alone.
 */
export async function bestOfRounds<K extends string>(
  contenders: ReadonlyArray<{ key: K; issue: () => Promise<unknown>; options: ClosedLoopOptions }>,
  rounds: number,
  warmupMs: number,
): Promise<Map<K, Measurement>> {
  for (const c of contenders) await closedLoop(c.issue, { ...c.options, durationMs: warmupMs })
  const best = new Map<K, Measurement>()
  for (let r = 0; r < rounds; r++) {
    for (const c of contenders) {
      const m = await closedLoop(c.issue, c.options)
      const previous = best.get(c.key)
      if (!previous || m.callsPerSecond > previous.callsPerSecond) best.set(c.key, m)
    }
  }
  return best
}
