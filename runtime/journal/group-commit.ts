import { assert } from '../assert.ts'

/** Bounds on one group-commit batch. */
export interface BatchLimits {
  /** Operations coalesced into one write + one sync at most. */
  batchOpsMax: number
  /** Bytes (as `sizeOf` counts them) coalesced into one batch at most; one larger op still goes alone. */
  batchBytesMax: number
}

interface Waiting<Op> {
  op: Op
  bytes: number
  resolve: () => void
  reject: (error: unknown) => void
}

/**
 * Group commit: operations submitted while a batch is being made durable wait in a queue and
 * all go out together in the next batch (one write, one sync), which starts as soon as the
 * previous one ends. So throughput grows with concurrency while a lone caller pays one sync.
 * When a batch fails, it and every queued operation reject with the same error (queued ones
 * may depend on it, e.g. the next seq of the same key), then `onAbort` rolls state back.
 */
export class GroupCommit<Op> {
  private queue: Waiting<Op>[] = []
  private running = false
  private idle: (() => void)[] = []

  constructor(
    private readonly commit: (ops: Op[]) => Promise<void>,
    private readonly limits: BatchLimits,
    private readonly sizeOf: (op: Op) => number,
    private readonly onAbort: (error: unknown) => void,
    private readonly onIdle: () => void = () => {},
  ) {
    assert(limits.batchOpsMax > 0 && limits.batchBytesMax > 0, 'batch limits must be positive')
  }

  /** Queues `op`; resolves once the batch holding it is durable. */
  submit(op: Op): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ op, bytes: this.sizeOf(op), resolve, reject })
      if (!this.running) {
        this.running = true
        // A microtask, so every submit of the current tick joins the first batch.
        queueMicrotask(() => void this.loop())
      }
    })
  }

  /** Resolves when nothing is queued or being committed. */
  drain(): Promise<void> {
    if (!this.running) return Promise.resolve()
    return new Promise<void>((resolve) => this.idle.push(resolve))
  }

  private take(): Waiting<Op>[] {
    let bytes = 0, n = 0
    while (n < this.queue.length && n < this.limits.batchOpsMax) {
      const next = this.queue[n]!.bytes
      if (n > 0 && bytes + next > this.limits.batchBytesMax) break
      bytes += next
      n++
    }
    return this.queue.splice(0, n)
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.take()
      try {
        await this.commit(batch.map((w) => w.op))
      } catch (error) {
        const doomed = batch.concat(this.queue.splice(0))
        this.onAbort(error)
        for (const w of doomed) w.reject(error)
        continue
      }
      for (const w of batch) w.resolve()
    }
    this.running = false
    this.onIdle()
    for (const resolve of this.idle.splice(0)) resolve()
  }
}
