import { assert } from '../assert.ts'
import type { JournalRecord, JournalSnapshot } from './storage.ts'

/** Where a key's log stands: its last record and its latest snapshot (`snapshotSeq` -1: none). */
export interface KeyHead {
  seq: number
  epoch: number
  snapshotSeq: number
  snapshotEpoch: number
}

const emptyHead: Readonly<KeyHead> = Object.freeze({ seq: 0, epoch: 0, snapshotSeq: -1, snapshotEpoch: 0 })

function installedHead(snapshot: JournalSnapshot): KeyHead {
  return { seq: snapshot.seq, epoch: snapshot.epoch, snapshotSeq: snapshot.seq, snapshotEpoch: snapshot.epoch }
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}

/**
 * The journal's invariants, checked once for every backend. Two heads per key: `pending`
 * (what accepted but not yet durable writes will make it) checks new writes, so concurrent
 * appends to one key queue up in order; `durable` is what a failed batch rolls back to.
 */
export class SeqTracker {
  private readonly durable = new Map<string, KeyHead>()
  private readonly pending = new Map<string, KeyHead>()

  /** The key's head including accepted, not yet durable writes. */
  head(key: string): Readonly<KeyHead> {
    return this.pending.get(key) ?? this.durable.get(key) ?? emptyHead
  }

  /** The key's durable head. */
  durableHead(key: string): Readonly<KeyHead> {
    return this.durable.get(key) ?? emptyHead
  }

  /** Keys with a durable head. */
  keys(): string[] {
    return [...this.durable.keys()]
  }

  /** Asserts `records` continue the key's log and moves the pending head past them. */
  reserveRecords(key: string, records: readonly JournalRecord[]): void {
    assert(typeof key === 'string' && key.length > 0, 'journal key must be a non-empty string')
    assert(records.length > 0, `append to ${key} needs at least one record`)
    const head = { ...this.head(key) }
    for (const record of records) {
      assert(isCount(record.seq) && isCount(record.epoch), `record of ${key} needs integer seq and epoch >= 0`)
      assert(typeof record.requestId === 'string', `record ${key}#${record.seq} needs a string requestId`)
      assert(record.seq === head.seq + 1, `record ${key}#${record.seq} breaks contiguity: expected seq ${head.seq + 1}`)
      const floor = Math.max(head.epoch, head.snapshotEpoch)
      assert(record.epoch >= floor, `record ${key}#${record.seq} has epoch ${record.epoch} < ${floor}`)
      head.seq = record.seq
      head.epoch = record.epoch
    }
    this.pending.set(key, head)
  }

  /** Asserts `snapshot` may replace the key's snapshot and records it in the pending head. */
  reserveSnapshot(key: string, snapshot: JournalSnapshot): void {
    assert(typeof key === 'string' && key.length > 0, 'journal key must be a non-empty string')
    assert(isCount(snapshot.seq) && isCount(snapshot.epoch), `snapshot of ${key} needs integer seq and epoch >= 0`)
    const head = { ...this.head(key) }
    assert(snapshot.seq <= head.seq, `snapshot of ${key} at seq ${snapshot.seq} is ahead of the log (seq ${head.seq})`)
    assert(snapshot.seq >= head.snapshotSeq, `snapshot of ${key} at seq ${snapshot.seq} goes back from ${head.snapshotSeq}`)
    assert(snapshot.epoch >= head.snapshotEpoch, `snapshot of ${key} has epoch ${snapshot.epoch} < ${head.snapshotEpoch}`)
    assert(snapshot.epoch <= head.epoch || head.seq === 0, `snapshot of ${key} has epoch ${snapshot.epoch} > the log's ${head.epoch}`)
    head.snapshotSeq = snapshot.seq
    head.snapshotEpoch = snapshot.epoch
    this.pending.set(key, head)
  }

  /**
   * Asserts `snapshot` may be installed (see `JournalStorage.installSnapshot`) and moves the
   * pending head to it: log and snapshot both at `snapshot.seq`, so the next record is seq + 1.
   */
  reserveInstall(key: string, snapshot: JournalSnapshot): void {
    assert(typeof key === 'string' && key.length > 0, 'journal key must be a non-empty string')
    assert(isCount(snapshot.seq) && isCount(snapshot.epoch), `snapshot of ${key} needs integer seq and epoch >= 0`)
    const head = this.head(key)
    const floor = Math.max(head.epoch, head.snapshotEpoch)
    assert(snapshot.epoch >= floor, `installed snapshot of ${key} has epoch ${snapshot.epoch} < ${floor}`)
    assert(snapshot.seq >= head.seq || snapshot.epoch > floor,
      `installed snapshot of ${key} at seq ${snapshot.seq} goes back from the log (seq ${head.seq}) in the same epoch ${snapshot.epoch}`)
    this.pending.set(key, installedHead(snapshot))
  }

  /** Asserts a snapshot (durable or pending) covers every record `compact(key, uptoSeq)` drops. */
  checkCompact(key: string, uptoSeq: number): void {
    assert(isCount(uptoSeq), `compact of ${key} needs an integer uptoSeq >= 0`)
    const head = this.head(key)
    assert(uptoSeq <= head.snapshotSeq, `compact of ${key} up to ${uptoSeq} is not covered by a snapshot (seq ${head.snapshotSeq})`)
  }

  /** Marks records durable. */
  commitRecords(key: string, records: readonly JournalRecord[]): void {
    const last = records[records.length - 1]!
    const head = { ...(this.durable.get(key) ?? emptyHead) }
    head.seq = last.seq
    head.epoch = last.epoch
    this.durable.set(key, head)
  }

  /** Marks a snapshot durable. */
  commitSnapshot(key: string, snapshot: JournalSnapshot): void {
    const head = { ...(this.durable.get(key) ?? emptyHead) }
    head.snapshotSeq = snapshot.seq
    head.snapshotEpoch = snapshot.epoch
    this.durable.set(key, head)
  }

  /** Marks an installed snapshot durable. */
  commitInstall(key: string, snapshot: JournalSnapshot): void {
    this.durable.set(key, installedHead(snapshot))
  }

  /** Sets a key's head as recovered from storage. */
  restore(key: string, head: KeyHead): void {
    this.durable.set(key, { ...head })
    this.pending.delete(key)
  }

  /** Forgets every accepted, not yet durable write: after a failed batch. */
  rollback(): void {
    this.pending.clear()
  }

  /** Drops pending heads that equal the durable ones, so `head()` stays cheap; call when idle. */
  settle(): void {
    this.pending.clear()
  }
}
