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
  /** Request id -> its slot in the ring below: no object per entry (a call path allocates less). */
  private readonly slots = new Map<string, number>()
  /** Ids, seqs and results by slot, in insertion order as a ring: the oldest is evicted in place. */
  private readonly ids: string[] = []
  private readonly seqs: number[] = []
  private readonly results: unknown[] = []
  private oldest = 0
  private readonly sizeMax: number

  constructor(sizeMax: number, initial: RequestEntries = []) {
    assert(Number.isInteger(sizeMax) && sizeMax > 0, 'request table size must be a positive integer')
    this.sizeMax = sizeMax
    for (const [id, seq, result] of initial) this.set(id, seq, result)
  }

  get(requestId: string): RequestEntry | undefined {
    const slot = this.slots.get(requestId)
    return slot === undefined ? undefined : { seq: this.seqs[slot]!, result: this.results[slot] }
  }

  set(requestId: string, seq: number, result: unknown): void {
    // One hash lookup on the usual path (a new id). A repeat is answered, not run again: it keeps
    // its place in the eviction order and takes the newer record.
    const known = this.slots.get(requestId)
    if (known !== undefined) {
      this.seqs[known] = seq
      this.results[known] = result
      return
    }
    let slot: number
    if (this.ids.length < this.sizeMax) {
      slot = this.ids.length
      this.ids.push(requestId)
      this.seqs.push(seq)
      this.results.push(result)
    } else {
      slot = this.oldest
      this.slots.delete(this.ids[slot]!)
      this.ids[slot] = requestId
      this.seqs[slot] = seq
      this.results[slot] = result
      this.oldest = (slot + 1) % this.sizeMax
    }
    this.slots.set(requestId, slot)
  }

  get size(): number {
    return this.slots.size
  }

  /** Oldest first. */
  toEntries(): RequestEntries {
    const out: RequestEntries = []
    const n = this.ids.length
    for (let i = 0; i < n; i++) {
      const slot = (this.oldest + i) % n
      out.push([this.ids[slot]!, this.seqs[slot]!, this.results[slot]])
    }
    return out
  }
}
