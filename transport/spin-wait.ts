/**
 * Busy-polling for a reply instead of sleeping (a platform that can receive synchronously from
 * a port: Node's `receiveMessageOnPort`).
 *
 * Why: on a VM, a thread that sleeps until a message wakes it pays for its virtual CPU to be
 * woken (about 25 µs here, each way), which is most of a round trip to a worker. A caller that
 * polls for a few more microseconds after sending keeps its CPU awake and gets the reply at once.
 * It is the spin-then-block of adaptive mutexes: it pays only when replies come back within the
 * budget, so a spin that keeps missing (slow calls: a disk sync, a busy cluster) backs off
 * exponentially and costs next to nothing.
 */
export interface SpinWaitOptions {
  /** Longest one spin lasts, in µs. */
  budgetUs: number
  /** Whether a reply is awaited and latency is what matters (few calls in flight). */
  awaiting(): boolean
  /** A monotonic clock in ms (`performance.now`). */
  now(): number
}

/** Decides whether to spin at each wait, backing off after misses (pure; the transport polls). */
export class SpinPolicy {
  private skip = 0
  private backoff = 1
  private misses = 0

  constructor(readonly budgetUs: number, private readonly backoffMax = 1024) {
    if (!(Number.isFinite(budgetUs) && budgetUs > 0)) throw new RangeError(`spin budget must be a positive number of µs, got ${budgetUs}`)
  }

  /** Whether to spin at this wait. */
  spinNow(): boolean {
    if (this.skip === 0) return true
    this.skip--
    return false
  }

  /** The spin got a reply: spin again next time. */
  caught(): void {
    this.misses = 0
    this.backoff = 1
  }

  /** The spin ran out: after two misses in a row, skip the next 1, 2, 4, ... waits. */
  missed(): void {
    if (++this.misses < 2) return
    this.misses = 0
    this.skip = this.backoff
    this.backoff = Math.min(this.backoff * 2, this.backoffMax)
  }
}
