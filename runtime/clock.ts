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

/** The longest delay a platform timer keeps: Node, Deno and browsers hold it in 32 bits, and fire a longer one at once. */
export const platformDelayMsMax = 2 ** 31 - 1

/** A timer longer than `platformDelayMsMax`: a chain of platform timers, the current one here. */
class LongTimer {
  timer: RealTimer | undefined
}

function platformTimer(fn: () => void, ms: number): RealTimer {
  const timer = globalThis.setTimeout(fn, ms) as unknown as RealTimer
  if (typeof timer === 'object' && timer !== null && typeof timer.unref === 'function') timer.unref()
  return timer
}

/**
 * The real monotonic clock and timers of the platform. Timers are unref'd where the platform
 * allows; one longer than the platform keeps (a reminder due in a month) waits in steps.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout(fn, ms) {
    if (!(ms > platformDelayMsMax)) return platformTimer(fn, ms) as unknown as TimerHandle
    const long = new LongTimer()
    const dueAt = performance.now() + ms
    const step = (): void => {
      const left = dueAt - performance.now()
      long.timer = left > platformDelayMsMax ? platformTimer(step, platformDelayMsMax) : platformTimer(fn, Math.max(0, left))
    }
    step()
    return long as unknown as TimerHandle
  },
  clearTimeout(handle) {
    const timer = handle instanceof LongTimer ? handle.timer : handle
    globalThis.clearTimeout(timer as unknown as Parameters<typeof globalThis.clearTimeout>[0])
  },
}
