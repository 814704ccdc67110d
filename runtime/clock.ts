/**
 * Time, injected. The runtime never reads a clock or sets a timer except through a `Clock`,
 * so a whole cluster can run on simulated time. `systemClock` is the only place that touches
 * the real ones.
 */
export interface TimerHandle { readonly __timer: unique symbol }

export interface Clock {
  /** Monotonic milliseconds (not wall time). */
  now(): number
  /** Wall-clock milliseconds since the epoch, for what outlives a process (reminders). Default: `now()`. */
  wallNow?(): number
  /** Runs `fn` after `ms` milliseconds; the runtime must not keep a process alive for it. */
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

type RealTimer = { unref?: () => void }

/** The real monotonic clock and timers of the platform. Timers are unref'd where the platform allows. */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout(fn, ms) {
    const timer = globalThis.setTimeout(fn, ms) as unknown as RealTimer
    if (typeof timer === 'object' && timer !== null && typeof timer.unref === 'function') timer.unref()
    return timer as unknown as TimerHandle
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as unknown as Parameters<typeof globalThis.clearTimeout>[0])
  },
}
