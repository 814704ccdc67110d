/**
 * What the gateway measures beside the hosts' own counters: calls per second (from successive
 * samples of the hosts' `callsReceived`) and call latency percentiles (of the calls the gateway
 * itself forwards, by the host that owned the actor when the call left).
 */
import type { HostId } from '../view.ts'

/** Latencies of recent calls per host: a fixed ring of samples each, read for percentiles. */
export class LatencyWindow {
  private readonly size: number
  private readonly windowMs: number
  private readonly byHost = new Map<HostId, { at: Float64Array; ms: Float64Array; next: number; count: number }>()

  constructor(options: { size?: number; windowMs?: number } = {}) {
    this.size = options.size ?? 1024
    this.windowMs = options.windowMs ?? 60_000
  }

  record(host: HostId, ms: number, now = performance.now()): void {
    let ring = this.byHost.get(host)
    if (!ring) this.byHost.set(host, ring = { at: new Float64Array(this.size), ms: new Float64Array(this.size), next: 0, count: 0 })
    ring.at[ring.next] = now
    ring.ms[ring.next] = ms
    ring.next = (ring.next + 1) % this.size
    ring.count = Math.min(ring.count + 1, this.size)
  }

  /** The `p`-th percentile (0..1) of the host's calls in the window, or null without any. */
  percentile(host: HostId, p: number, now = performance.now()): number | null {
    const ring = this.byHost.get(host)
    if (!ring) return null
    const recent: number[] = []
    for (let i = 0; i < ring.count; i++) if (now - ring.at[i]! <= this.windowMs) recent.push(ring.ms[i]!)
    return percentileOf(recent, p)
  }
}

/** Nearest-rank percentile of `values` (0..1), or null when empty. */
export function percentileOf(values: number[], p: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

interface Sample { at: number; calls: Map<HostId, number> }

/** Keeps recent samples of each host's call counter, and turns them into a rate. */
export class RateTracker {
  private samples: Sample[] = []
  private readonly keepMs: number

  constructor(options: { keepMs?: number } = {}) {
    this.keepMs = options.keepMs ?? 10_000
  }

  add(calls: Map<HostId, number>, at = performance.now()): void {
    this.samples.push({ at, calls })
    while (this.samples.length > 2 && at - this.samples[0]!.at > this.keepMs) this.samples.shift()
  }

  /**
   * Calls per second of each host between `current` and the newest kept sample at least
   * `minSpanMs` older (or the oldest one); null for a host without an earlier sample.
   */
  rates(current: Map<HostId, number>, at = performance.now(), minSpanMs = 900): Map<HostId, number | null> {
    let base: Sample | undefined
    for (const sample of this.samples) {
      if (at - sample.at >= minSpanMs) base = sample
    }
    base ??= this.samples.find((s) => at - s.at > 50)
    const out = new Map<HostId, number | null>()
    for (const [host, calls] of current) {
      const before = base?.calls.get(host)
      out.set(host, base === undefined || before === undefined ? null : Math.max(0, calls - before) / ((at - base.at) / 1000))
    }
    return out
  }
}
