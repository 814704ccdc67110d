import { assert } from '../assert.ts'

/** Bounds on one group-commit batch. */
export interface BatchLimits {
  /** Operations coalesced into one write + one sync at most. */
  batchOpsMax: number
  /** Bytes (as `sizeOf` counts them) coalesced into one batch at most; one larger op still goes alone. */
  batchBytesMax: number
}

/** Ops that go out together, and the one promise all their submitters share. */
interface Batch<Op> {
  ops: Op[]
  bytes: number
  promise: Promise<void>
  resolve: () => void
  reject: (error: unknown) => void
}

function newBatch<Op>(): Batch<Op> {
  let resolve!: () => void, reject!: (error: unknown) => void
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
  return { ops: [], bytes: 0, promise, resolve, reject }
}

/**
 * Group commit: operations submitted while a batch is being made durable wait in a queue and
 * all go out together in the next batch (one write, one sync), which starts as soon as the
 * previous one ends. So throughput grows with concurrency while a lone caller pays one sync.
 * When a batch fails, it and every queued operation reject with the same error (queued ones
 * may depend on it, e.g. the next seq of the same key), then `onAbort` rolls state back.
 * Queued operations are cut into batches as they arrive (the same greedy cut as at commit
 * time), so every operation of a batch gets the batch's one promise: no promise per operation.
 */
export class GroupCommit<Op> {
  /** Batches waiting to be committed; the last one takes new operations until it is full. */
  private queue: Batch<Op>[] = []
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
    const bytes = this.sizeOf(op)
    let batch = this.queue[this.queue.length - 1]
    if (batch === undefined || batch.ops.length >= this.limits.batchOpsMax ||
      (batch.ops.length > 0 && batch.bytes + bytes > this.limits.batchBytesMax)) {
      batch = newBatch<Op>()
      this.queue.push(batch)
    }
    batch.ops.push(op)
    batch.bytes += bytes
    if (!this.running) {
      this.running = true
      // A microtask, so every submit of the current tick joins the first batch.
      queueMicrotask(() => void this.loop())
    }
    return batch.promise
  }

  /** Resolves when nothing is queued or being committed. */
  drain(): Promise<void> {
    if (!this.running) return Promise.resolve()
    return new Promise<void>((resolve) => this.idle.push(resolve))
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.shift()!
      try {
        await this.commit(batch.ops)
      } catch (error) {
        const doomed = [batch, ...this.queue.splice(0)]
        this.onAbort(error)
        for (const b of doomed) b.reject(error)
        continue
      }
      batch.resolve()
    }
    this.running = false
    this.onIdle()
    for (const resolve of this.idle.splice(0)) resolve()
  }
}
