import { assert } from '../assert.ts'

/** What the journal remembers of one request: the record that answered it and its result. */
export interface RequestEntry {
  seq: number
  result: unknown
}

/** The wire and snapshot form of a request table: `[requestId, seq, result]` oldest first. */
export type RequestEntries = Array<[string, number, unknown]>

/**
 * The recent-request table of one actor: request id -> the record that answered it, bounded to
 * the newest `sizeMax` entries. A retried request id found here is answered from the table
 * instead of running its turn again (exactly-once effect). Replicated with the journal.
 */
export class RequestTable {
  private readonly entries = new Map<string, RequestEntry>()
  /** Ids in insertion order, as a ring: the oldest is evicted without a Map iterator per insert. */
  private readonly order: string[] = []
  private oldest = 0
  private readonly sizeMax: number

  constructor(sizeMax: number, initial: RequestEntries = []) {
    assert(Number.isInteger(sizeMax) && sizeMax > 0, 'request table size must be a positive integer')
    this.sizeMax = sizeMax
    for (const [id, seq, result] of initial) this.set(id, seq, result)
  }

  get(requestId: string): RequestEntry | undefined {
    return this.entries.get(requestId)
  }

  set(requestId: string, seq: number, result: unknown): void {
    // One hash lookup on the usual path (a new id): a repeat shows as an unchanged size, and keeps
    // its place in the eviction order (it is answered, not run again).
    const size = this.entries.size
    this.entries.set(requestId, { seq, result })
    if (this.entries.size === size) return
    if (this.order.length < this.sizeMax) {
      this.order.push(requestId)
      return
    }
    this.entries.delete(this.order[this.oldest]!)
    this.order[this.oldest] = requestId
    this.oldest = (this.oldest + 1) % this.sizeMax
  }

  get size(): number {
    return this.entries.size
  }

  /** Oldest first. */
  toEntries(): RequestEntries {
    const ids = [...this.order.slice(this.oldest), ...this.order.slice(0, this.oldest)]
    return ids.map((id) => {
      const e = this.entries.get(id)!
      return [id, e.seq, e.result]
    })
  }
}
