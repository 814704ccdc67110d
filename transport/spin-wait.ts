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
  /** Whether to spin now: the owner expects a message soon (a client: a reply, with few calls in flight; a host: more work after a burst). */
  awaiting(): boolean
  /** A monotonic clock in ms (`performance.now`). */
  now(): number
}

/**
 * Decides whether to spin at each wait (pure; the transport polls). A hit saves a wake-up (tens of
 * µs); a miss burns the whole budget on a CPU and holds the event loop that long. So it keeps a
 * running rate of hits (each spin weighs 1/8) and spins while that rate stays at or above 3/4.
 * Below it, it skips the next 1, 2, 4 … waits (capped), then tries again; only a rate back at 9/10
 * (a run of hits) resets the skips, so hits and misses that alternate still back off.
 */
export class SpinPolicy {
  private rate = 1
  private skip = 0
  private backoff = 1

  constructor(readonly budgetUs: number, private readonly backoffMax = 1024) {
    if (!(Number.isFinite(budgetUs) && budgetUs > 0)) throw new RangeError(`spin budget must be a positive number of µs, got ${budgetUs}`)
  }

  /** Whether to spin at this wait. */
  spinNow(): boolean {
    if (this.skip === 0) return true
    this.skip--
    return false
  }

  /** The spin got a message. */
  caught(): void {
    this.rate += (1 - this.rate) / 8
    if (this.rate >= spinRateReset) this.backoff = 1
  }

  /** The spin ran out of budget. */
  missed(): void {
    this.rate -= this.rate / 8
    if (this.rate >= spinRateMin) return
    this.skip = this.backoff
    this.backoff = Math.min(this.backoff * 2, this.backoffMax)
    // The spin after the skips decides again: a miss backs off further, a hit resumes.
    this.rate = spinRateMin
  }
}

/** Spinning pays while at least this share of spins get a message. */
const spinRateMin = 0.75
/** A rate back at this share (a run of hits) ends the backoff. */
const spinRateReset = 0.9
