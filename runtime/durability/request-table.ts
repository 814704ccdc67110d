import { assert } from '../assert.ts'
import { keyHash } from '../hash.ts'

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
 *
 * Every call looks its id up on arrival, and almost every id is new. With a thousand actors each
 * holding a thousand ids, a `Map` lookup of a fresh id string missed the cache on its buckets,
 * its chain and the stored key strings it compared against: 11-14% of a host's time per call
 * (bench/probes/hostonly.ts). So the index is an open-addressing table of `[hash, slot + 1]`
 * pairs in one typed array: a lookup of a new id reads one or two adjacent cells and touches no
 * stored string unless the 30-bit hashes match.
 */
export class RequestTable {
  /**
   * By slot, four cells each, side by side (one cache line for the entry a call writes):
   * `id, seq, result, hash` (`idHash`), in insertion order
   * as a ring: the oldest is evicted in place.
   */
  private readonly entries: unknown[] = []
  private count = 0
  /** Cells of `[hash, slot + 1]` (0: empty), linear probing; at most half full. */
  private index = new Int32Array(2 * 16)
  private mask = 15
  private readonly cellsMax: number
  private oldest = 0
  private readonly sizeMax: number
  /** Ids whose entry is an intent (an unfinished turn): few, so finding them scans nothing. */
  private readonly open = new Set<string>()
  /**
   * The id the last `get` did not find (and its hash), while it is still not here: a call looks
   * its id up when it arrives and records it when its turn ends, and the second lookup would
   * hash it and probe again.
   */
  private absent: string | undefined
  private absentHash = 0

  constructor(sizeMax: number, initial: RequestEntries = []) {
    assert(Number.isInteger(sizeMax) && sizeMax > 0, 'request table size must be a positive integer')
    this.sizeMax = sizeMax
    let cells = 16
    while (cells < 2 * sizeMax) cells *= 2
    this.cellsMax = cells
    for (const [id, seq, result] of initial) this.set(id, seq, result)
  }

  get(requestId: string): RequestEntry | undefined {
    const hash = idHash(requestId)
    const slot = this.find(requestId, hash)
    if (slot < 0) {
      this.absent = requestId
      this.absentHash = hash
      return undefined
    }
    return { seq: this.entries[4 * slot + 1] as number, result: this.entries[4 * slot + 2] }
  }

  set(requestId: string, seq: number, result: unknown): void {
    // No hashing or probing on the usual path (a new id the last get missed). A repeat keeps its
    // place in the eviction order and takes the newer record.
    if (isTurnIntent(result)) this.open.add(requestId)
    else if (this.open.size > 0) this.open.delete(requestId)
    const missed = requestId === this.absent
    const hash = missed ? this.absentHash : idHash(requestId)
    const known = missed ? -1 : this.find(requestId, hash)
    if (known >= 0) {
      this.entries[4 * known + 1] = seq
      this.entries[4 * known + 2] = result
      return
    }
    let slot: number
    if (this.count < this.sizeMax) {
      slot = this.count
      if (2 * (slot + 1) > this.mask + 1 && this.mask + 1 < this.cellsMax) this.rebuild(2 * (this.mask + 1))
      this.count++
      this.entries.push(requestId, seq, result, hash)
    } else {
      slot = this.oldest
      this.unindex(slot)
      const at = 4 * slot
      if (this.open.size > 0) this.open.delete(this.entries[at] as string)
      this.entries[at] = requestId
      this.entries[at + 1] = seq
      this.entries[at + 2] = result
      this.entries[at + 3] = hash
      this.oldest = (slot + 1) % this.sizeMax
    }
    this.insert(hash, slot)
    if (missed) this.absent = undefined
  }

  get size(): number {
    return this.count
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
      const slot = this.find(requestId, idHash(requestId))
      assert(slot >= 0, `unfinished request ${requestId} is not in its table`)
      out.push({ requestId, seq: this.entries[4 * slot + 1] as number, intent: this.entries[4 * slot + 2] as TurnIntent })
    }
    return out.sort((a, b) => a.seq - b.seq)
  }

  /** Oldest first. */
  toEntries(): RequestEntries {
    const out: RequestEntries = []
    const n = this.count
    for (let i = 0; i < n; i++) {
      const at = 4 * ((this.oldest + i) % n)
      out.push([this.entries[at] as string, this.entries[at + 1] as number, this.entries[at + 2]])
    }
    return out
  }

  /** The slot holding `requestId`, or -1. */
  private find(requestId: string, hash: number): number {
    const index = this.index, mask = this.mask
    for (let cell = hash & mask; ; cell = (cell + 1) & mask) {
      const slot = index[2 * cell + 1]! - 1
      if (slot < 0) return -1
      if (index[2 * cell] === hash && this.entries[4 * slot] === requestId) return slot
    }
  }

  private insert(hash: number, slot: number): void {
    const index = this.index, mask = this.mask
    let cell = hash & mask
    while (index[2 * cell + 1] !== 0) cell = (cell + 1) & mask
    index[2 * cell] = hash
    index[2 * cell + 1] = slot + 1
  }

  /** Takes `slot` out of the index, shifting back the cells probed past it (no tombstones). */
  private unindex(slot: number): void {
    const index = this.index, mask = this.mask
    let hole = (this.entries[4 * slot + 3] as number) & mask
    while (index[2 * hole + 1] !== slot + 1) {
      assert(index[2 * hole + 1] !== 0, 'request table index lost a slot')
      hole = (hole + 1) & mask
    }
    for (let cell = (hole + 1) & mask; index[2 * cell + 1] !== 0; cell = (cell + 1) & mask) {
      // The entry at `cell` may fill the hole if the hole lies on its probe path (home .. cell).
      const home = index[2 * cell]! & mask
      if (((cell - home) & mask) >= ((cell - hole) & mask)) {
        index[2 * hole] = index[2 * cell]!
        index[2 * hole + 1] = index[2 * cell + 1]!
        hole = cell
      }
    }
    index[2 * hole] = 0
    index[2 * hole + 1] = 0
  }

  private rebuild(cells: number): void {
    this.index = new Int32Array(2 * cells)
    this.mask = cells - 1
    for (let slot = 0; slot < this.count; slot++) this.insert(this.entries[4 * slot + 3] as number, slot)
  }
}

/**
 * A request id's hash: 30 bits, a small integer in V8 (an entry keeps it without a heap number,
 * and a table that grows re-indexes from it without touching the ids).
 */
function idHash(requestId: string): number {
  return keyHash(requestId) & 0x3fffffff
}
