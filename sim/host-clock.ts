import type { Clock, TimerHandle } from '../runtime/clock.ts'
import type { SimulatedClock } from '../runtime/simulated-clock.ts'

/**
 * One host incarnation's view of the world's simulated clock. It lets the simulation freeze a
 * host (`pause`: its timers wait until `resume`, as in a hung process) and kill it (`kill`: its
 * timers never fire again, so a crashed host's idle sweep cannot save state after its death).
 */
export class HostClock implements Clock {
  private readonly base: SimulatedClock
  private readonly timers = new Set<TimerHandle>()
  private deferred: Array<() => void> = []
  private alive = true
  private paused = false

  constructor(base: SimulatedClock) {
    this.base = base
  }

  /** The world's time (a paused host's clock still moves, as a wall clock would). */
  now(): number {
    return this.base.now()
  }

  /** Sets a timer on the world clock; a dead clock's timers never fire, a paused one's wait. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle: TimerHandle = this.base.setTimeout(() => {
      this.timers.delete(handle)
      this.fire(fn)
    }, ms)
    if (this.alive) this.timers.add(handle)
    else this.base.clearTimeout(handle)
    return handle
  }

  /** Cancels a timer. */
  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle)
    this.base.clearTimeout(handle)
  }

  /** Freezes the host: timers due meanwhile run at `resume`, in the order they came due. */
  pause(): void {
    this.paused = true
  }

  /** Thaws the host: its overdue timers run now (each on its own timer, in order). */
  resume(): void {
    this.paused = false
    const overdue = this.deferred
    this.deferred = []
    for (const fn of overdue) this.setTimeout(fn, 0)
  }

  /** Kills the host: no timer of this incarnation fires again. */
  kill(): void {
    this.alive = false
    for (const handle of this.timers) this.base.clearTimeout(handle)
    this.timers.clear()
    this.deferred = []
  }

  /** Timers this incarnation has pending (deferred ones included). */
  pendingTimers(): number {
    return this.timers.size + this.deferred.length
  }

  private fire(fn: () => void): void {
    if (!this.alive) return
    if (this.paused) this.deferred.push(fn)
    else fn()
  }
}
