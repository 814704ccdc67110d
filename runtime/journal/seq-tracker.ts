import { assert } from '../assert.ts'
import type { JournalRecord, JournalSnapshot } from './storage.ts'
import { checkKey, isCount } from './validate.ts'

/** Where a key's log stands: its last record and its latest snapshot (`snapshotSeq` -1: none). */
export interface KeyHead {
  seq: number
  epoch: number
  snapshotSeq: number
  snapshotEpoch: number
}

const emptyHead: Readonly<KeyHead> = Object.freeze({ seq: 0, epoch: 0, snapshotSeq: -1, snapshotEpoch: 0 })

function installHead(head: KeyHead, snapshot: JournalSnapshot): void {
  head.seq = head.snapshotSeq = snapshot.seq
  head.epoch = head.snapshotEpoch = snapshot.epoch
}

/** A key's durable head and, while `gen` is the tracker's current generation, its pending head. */
interface KeyHeads {
  durable: KeyHead
  pending: KeyHead
  gen: number
  /** Whether the key has a durable head (a key whose only writes failed has none). */
  known: boolean
}

function copyHead(to: KeyHead, from: Readonly<KeyHead>): void {
  to.seq = from.seq
  to.epoch = from.epoch
  to.snapshotSeq = from.snapshotSeq
  to.snapshotEpoch = from.snapshotEpoch
}

/**
 * The journal's invariants, checked once for every backend. Two heads per key: `pending`
 * (what accepted but not yet durable writes will make it) checks new writes, so concurrent
 * appends to one key queue up in order; `durable` is what a failed batch rolls back to.
 * Heads are updated in place (no allocation per write); a pending head is current only in the
 * generation it was made in, so `rollback` and `settle` forget every pending head at once.
 */
export class SeqTracker {
  private readonly heads = new Map<string, KeyHeads>()
  private gen = 1

  /**
   * The key's heads, made on first use: the one place a new key is checked (once, not per write).
   * `recovered`: the key comes from storage, which vouches for it (a key stored by an older version stays usable).
   */
  private entry(key: string, recovered = false): KeyHeads {
    let e = this.heads.get(key)
    if (e === undefined) {
      if (!recovered) checkKey(key)
      e = { durable: { ...emptyHead }, pending: { ...emptyHead }, gen: 0, known: false }
      this.heads.set(key, e)
    }
    return e
  }

  /** The key's head including accepted, not yet durable writes. */
  head(key: string): Readonly<KeyHead> {
    const e = this.heads.get(key)
    if (e === undefined) return emptyHead
    return e.gen === this.gen ? e.pending : e.durable
  }

  /** The key's durable head. */
  durableHead(key: string): Readonly<KeyHead> {
    return this.heads.get(key)?.durable ?? emptyHead
  }

  /** Keys with a durable head. */
  keys(): string[] {
    const keys: string[] = []
    for (const [key, e] of this.heads) if (e.known) keys.push(key)
    return keys
  }

  /** The key's pending head, to be changed in place (made current from the durable one if stale). */
  private pendingOf(key: string, e = this.entry(key)): KeyHead {
    if (e.gen !== this.gen) {
      copyHead(e.pending, e.durable)
      e.gen = this.gen
    }
    return e.pending
  }

  /** Asserts `records` continue the key's log and moves the pending head past them. */
  reserveRecords(key: string, records: readonly JournalRecord[]): void {
    const e = this.entry(key)
    if (records.length === 0) assert(false, `append to ${key} needs at least one record`)
    const head = e.gen === this.gen ? e.pending : e.durable
    let seq = head.seq, epoch = head.epoch
    const snapshotEpoch = head.snapshotEpoch
    // The hot path: messages are built only on failure.
    for (const record of records) {
      if (!isCount(record.seq) || !isCount(record.epoch)) assert(false, `record of ${key} needs integer seq and epoch >= 0`)
      if (typeof record.requestId !== 'string') assert(false, `record ${key}#${record.seq} needs a string requestId`)
      if (record.seq !== seq + 1) assert(false, `record ${key}#${record.seq} breaks contiguity: expected seq ${seq + 1}`)
      const floor = Math.max(epoch, snapshotEpoch)
      if (record.epoch < floor) assert(false, `record ${key}#${record.seq} has epoch ${record.epoch} < ${floor}`)
      seq = record.seq
      epoch = record.epoch
    }
    const pending = this.pendingOf(key, e)
    pending.seq = seq
    pending.epoch = epoch
  }

  /** Asserts `snapshot` may replace the key's snapshot and records it in the pending head. */
  reserveSnapshot(key: string, snapshot: JournalSnapshot): void {
    this.entry(key)
    assert(isCount(snapshot.seq) && isCount(snapshot.epoch), `snapshot of ${key} needs integer seq and epoch >= 0`)
    const head = this.head(key)
    assert(snapshot.seq <= head.seq, `snapshot of ${key} at seq ${snapshot.seq} is ahead of the log (seq ${head.seq})`)
    assert(snapshot.seq >= head.snapshotSeq, `snapshot of ${key} at seq ${snapshot.seq} goes back from ${head.snapshotSeq}`)
    assert(snapshot.epoch >= head.snapshotEpoch, `snapshot of ${key} has epoch ${snapshot.epoch} < ${head.snapshotEpoch}`)
    assert(snapshot.epoch <= head.epoch || head.seq === 0, `snapshot of ${key} has epoch ${snapshot.epoch} > the log's ${head.epoch}`)
    const pending = this.pendingOf(key)
    pending.snapshotSeq = snapshot.seq
    pending.snapshotEpoch = snapshot.epoch
  }

  /**
   * Asserts `snapshot` may be installed (see `JournalStorage.installSnapshot`) and moves the
   * pending head to it: log and snapshot both at `snapshot.seq`, so the next record is seq + 1.
   */
  reserveInstall(key: string, snapshot: JournalSnapshot): void {
    this.entry(key)
    assert(isCount(snapshot.seq) && isCount(snapshot.epoch), `snapshot of ${key} needs integer seq and epoch >= 0`)
    const head = this.head(key)
    const floor = Math.max(head.epoch, head.snapshotEpoch)
    assert(snapshot.epoch >= floor, `installed snapshot of ${key} has epoch ${snapshot.epoch} < ${floor}`)
    assert(snapshot.seq >= head.seq || snapshot.epoch > floor,
      `installed snapshot of ${key} at seq ${snapshot.seq} goes back from the log (seq ${head.seq}) in the same epoch ${snapshot.epoch}`)
    installHead(this.pendingOf(key), snapshot)
  }

  /** Asserts a snapshot (durable or pending) covers every record `compact(key, uptoSeq)` drops. */
  checkCompact(key: string, uptoSeq: number): void {
    if (!this.heads.has(key)) checkKey(key)
    assert(isCount(uptoSeq), `compact of ${key} needs an integer uptoSeq >= 0`)
    const head = this.head(key)
    assert(uptoSeq <= head.snapshotSeq, `compact of ${key} up to ${uptoSeq} is not covered by a snapshot (seq ${head.snapshotSeq})`)
  }

  private durableOf(key: string): KeyHead {
    const e = this.entry(key)
    e.known = true
    return e.durable
  }

  /** Marks records durable. */
  commitRecords(key: string, records: readonly JournalRecord[]): void {
    const last = records[records.length - 1]!
    const head = this.durableOf(key)
    head.seq = last.seq
    head.epoch = last.epoch
  }

  /** Marks a snapshot durable. */
  commitSnapshot(key: string, snapshot: JournalSnapshot): void {
    const head = this.durableOf(key)
    head.snapshotSeq = snapshot.seq
    head.snapshotEpoch = snapshot.epoch
  }

  /** Marks an installed snapshot durable. */
  commitInstall(key: string, snapshot: JournalSnapshot): void {
    installHead(this.durableOf(key), snapshot)
  }

  /** Sets a key's head as recovered from storage. */
  restore(key: string, head: KeyHead): void {
    const e = this.entry(key, true)
    copyHead(e.durable, head)
    e.known = true
    e.gen = 0
  }

  /** Forgets every accepted, not yet durable write: after a failed batch. */
  rollback(): void {
    this.gen++
  }

  /** Drops pending heads (they equal the durable ones once idle), so `head()` stays cheap; call when idle. */
  settle(): void {
    this.gen++
  }
}
