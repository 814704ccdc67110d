import { assert } from '../assert.ts'

/** What the journal remembers of one request: the record that answered it and its result. */
export interface RequestEntry {
  seq: number
  result: unknown
}

/**
 * How a journal record says a write turn began calling other actors: its "result" until a record
 * with the turn's own outcome follows (same request id). Until then the turn is unfinished: the
 * actor's next activation runs it again first, and its calls, with the same derived ids, are
 * answered from the callees' journals. So a transfer whose host died after the deposit still
 * withdraws, even when its caller gave up.
 */
export const intentTag = '~troupe.intent'

export interface TurnIntent {
  [intentTag]: true
  method: string
  args: unknown[]
  chain?: string[]
}

export function isTurnIntent(result: unknown): result is TurnIntent {
  return typeof result === 'object' && result !== null && (result as Record<string, unknown>)[intentTag] === true
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
  /** Ids whose entry is an intent (an unfinished turn): few, so finding them scans nothing. */
  private readonly open = new Set<string>()
  /**
   * The id the last `get` did not find, while it is still not here: a call looks its id up when
   * it arrives and records it when its turn ends, and the second lookup, on a table of a thousand
   * fresh ids, would miss the cache again.
   */
  private absent: string | undefined

  constructor(sizeMax: number, initial: RequestEntries = []) {
    assert(Number.isInteger(sizeMax) && sizeMax > 0, 'request table size must be a positive integer')
    this.sizeMax = sizeMax
    for (const [id, seq, result] of initial) this.set(id, seq, result)
  }

  get(requestId: string): RequestEntry | undefined {
    const slot = this.slots.get(requestId)
    if (slot === undefined) {
      this.absent = requestId
      return undefined
    }
    return { seq: this.seqs[slot]!, result: this.results[slot] }
  }

  set(requestId: string, seq: number, result: unknown): void {
    // One hash operation on the usual path (a new id the last get missed). A repeat keeps its
    // place in the eviction order and takes the newer record.
    if (isTurnIntent(result)) this.open.add(requestId)
    else if (this.open.size > 0) this.open.delete(requestId)
    const known = requestId === this.absent ? undefined : this.slots.get(requestId)
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
      if (this.open.size > 0) this.open.delete(this.ids[slot]!)
      this.ids[slot] = requestId
      this.seqs[slot] = seq
      this.results[slot] = result
      this.oldest = (slot + 1) % this.sizeMax
    }
    this.slots.set(requestId, slot)
    if (requestId === this.absent) this.absent = undefined
  }

  get size(): number {
    return this.slots.size
  }

  /** True when some entry is an intent: a turn that began calling other actors and never ended. */
  get hasUnfinished(): boolean {
    return this.open.size > 0
  }

  /** True when `requestId`'s entry is an intent (no lookup in the table while none is). */
  isUnfinished(requestId: string): boolean {
    return this.open.size > 0 && this.open.has(requestId)
  }

  /** The unfinished turns, oldest first. */
  unfinished(): Array<{ requestId: string; seq: number; intent: TurnIntent }> {
    const out: ReturnType<RequestTable['unfinished']> = []
    for (const requestId of this.open) {
      const slot = this.slots.get(requestId)!
      out.push({ requestId, seq: this.seqs[slot]!, intent: this.results[slot] as TurnIntent })
    }
    return out.sort((a, b) => a.seq - b.seq)
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
