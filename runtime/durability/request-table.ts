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
    this.entries.delete(requestId)
    this.entries.set(requestId, { seq, result })
    if (this.entries.size > this.sizeMax) this.entries.delete(this.entries.keys().next().value!)
  }

  get size(): number {
    return this.entries.size
  }

  toEntries(): RequestEntries {
    return [...this.entries].map(([id, e]) => [id, e.seq, e.result])
  }
}
