import { assert } from '../assert.ts'
import { cloneValue } from './codec.ts'
import { SeqTracker } from './seq-tracker.ts'
import { fromSeqSlice, type JournalRecord, type JournalSnapshot, type JournalStorage } from './storage.ts'
import { checkRead, ownRecords, ownSnapshot } from './validate.ts'

/**
 * Journal storage in memory: for tests and the `memory` consistency level. An append applies
 * at once (nothing to wait for) and survives only as long as the object. Values are deep-copied
 * with `structuredClone` in and out, so callers never share objects with the journal and a
 * value that could not be journaled elsewhere (a function, a symbol) is refused here too.
 */
export class MemoryJournalStorage implements JournalStorage {
  private readonly tracker = new SeqTracker()
  private readonly logs = new Map<string, JournalRecord[]>()
  private readonly snapshots = new Map<string, JournalSnapshot>()
  private closed = false

  /** Appends at once; see `JournalStorage.append`. */
  async append(key: string, records: readonly JournalRecord[]): Promise<void> {
    this.checkOpen()
    const copies = cloneValue(ownRecords(records), key)
    this.tracker.reserveRecords(key, copies)
    this.tracker.commitRecords(key, copies)
    const log = this.logs.get(key)
    if (log === undefined) this.logs.set(key, copies)
    else log.push(...copies)
  }

  /** See `JournalStorage.read`. */
  async read(key: string, fromSeq = 0): Promise<JournalRecord[]> {
    this.checkOpen()
    checkRead(key, fromSeq)
    return structuredClone(fromSeqSlice(this.logs.get(key) ?? [], fromSeq))
  }

  /** See `JournalStorage.writeSnapshot`. */
  async writeSnapshot(key: string, snapshot: JournalSnapshot): Promise<void> {
    this.checkOpen()
    const copy = cloneValue(ownSnapshot(snapshot), key)
    this.tracker.reserveSnapshot(key, copy)
    this.tracker.commitSnapshot(key, copy)
    this.snapshots.set(key, copy)
  }

  /** See `JournalStorage.installSnapshot`. */
  async installSnapshot(key: string, snapshot: JournalSnapshot): Promise<void> {
    this.checkOpen()
    const copy = cloneValue(ownSnapshot(snapshot), key)
    this.tracker.reserveInstall(key, copy)
    this.tracker.commitInstall(key, copy)
    this.snapshots.set(key, copy)
    this.logs.delete(key)
  }

  /** See `JournalStorage.readSnapshot`. */
  async readSnapshot(key: string): Promise<JournalSnapshot | undefined> {
    this.checkOpen()
    checkRead(key)
    const snapshot = this.snapshots.get(key)
    return snapshot === undefined ? undefined : structuredClone(snapshot)
  }

  /** See `JournalStorage.compact`. */
  async compact(key: string, uptoSeq: number): Promise<void> {
    this.checkOpen()
    this.tracker.checkCompact(key, uptoSeq)
    const log = this.logs.get(key)
    if (log !== undefined) this.logs.set(key, fromSeqSlice(log, uptoSeq + 1))
  }

  /** See `JournalStorage.keys`. */
  async keys(): Promise<string[]> {
    this.checkOpen()
    return this.tracker.keys()
  }

  /** See `JournalStorage.close`. */
  async close(): Promise<void> {
    this.closed = true
  }

  private checkOpen(): void {
    assert(!this.closed, 'journal storage used after close')
  }
}
