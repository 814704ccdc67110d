import type { TroupeError } from '../errors.ts'
/**
 * The journal storage interface: one per-actor append-only log of turn records plus the
 * latest snapshot, behind which every backend (memory, file, IndexedDB) sits. Every backend
 * runs the same conformance suite (test/journal/conformance.ts).
 *
 * Invariants, asserted on every write (a violation is a programmer error, `AssertionError`):
 * - `seq` is contiguous per key: the first record of a key is 1 (or the snapshot seq + 1),
 *   each next record is the previous + 1; a gap or a repeat is refused.
 * - epochs never decrease within a key (records and snapshots).
 * - a snapshot never runs ahead of the key's last appended record, and never goes back.
 * - `compact(key, uptoSeq)` only drops records a durable-or-pending snapshot covers.
 * - `installSnapshot` is the one way to move a key's head without records (a replica catching
 *   up with a compacted primary): its snapshot may run ahead of the log, it drops every record
 *   of the key, and the next record must be `snapshot.seq + 1`. It never lowers an epoch, and
 *   it goes back from the log's head only with a newer epoch (see `installSnapshot`).
 *
 * Bad input is refused the same way, by every backend, before anything is written (see
 * validate.ts): a key that is not 1..65,535 UTF-8 bytes of well-formed text, a seq, epoch,
 * `fromSeq` or `uptoSeq` that is not an integer >= 0, a `requestId` that is not a string, a
 * record or snapshot that is not an object.
 *
 * Operating errors are `TroupeError`s: `Unjournalable` (a value the codec cannot encode),
 * `StorageFull`, `StorageFailed`, `CorruptRecord` (also a stored value that is not what the
 * journal wrote: a wrong shape, a seq jump, a falling epoch). A rejected write acknowledges nothing.
 */

/** One turn of one actor, as journaled. */
export interface JournalRecord {
  /** Position in the key's log, starting at 1, contiguous. */
  seq: number
  /** The view epoch the turn ran in; never decreases within a key. */
  epoch: number
  /** The caller's request id, for exactly-once retries. */
  requestId: string
  /** The turn's state change (any structured-clone value). */
  patch: unknown
  /** The turn's result (any structured-clone value). */
  result: unknown
}

/** An actor's whole state as of record `seq` (seq 0: before any record). */
export interface JournalSnapshot {
  seq: number
  epoch: number
  state: unknown
}

/** Pluggable durable storage for actor journals. */
export interface JournalStorage {
  /** Appends records to `key`'s log; durable when the promise resolves, nothing appended when it rejects. */
  append(key: string, records: readonly JournalRecord[]): Promise<void>
  /** The key's durable records with `seq >= fromSeq` (default: all kept), in order. */
  read(key: string, fromSeq?: number): Promise<JournalRecord[]>
  /** Stores `snapshot` as the key's latest snapshot; durable when the promise resolves. */
  writeSnapshot(key: string, snapshot: JournalSnapshot): Promise<void>
  /**
   * Makes `snapshot` the key's latest snapshot even when it is ahead of the key's log, and drops
   * every record of the key: they are all covered by it or superseded. The next append must be
   * `snapshot.seq + 1` with an epoch >= `snapshot.epoch`. Durable when the promise resolves, and
   * the dropped records stay dropped across a reopen. Asserts (`AssertionError`) that the
   * snapshot's epoch does not decrease (from the log's or the current snapshot's epoch), and that
   * it does not go back from the log's head (`seq` < the last record's) unless its epoch is
   * newer than every epoch of the key: the records past it then belong to a superseded history.
   */
  installSnapshot(key: string, snapshot: JournalSnapshot): Promise<void>
  /** The key's latest durable snapshot, if any. */
  readSnapshot(key: string): Promise<JournalSnapshot | undefined>
  /** Drops the key's records with `seq <= uptoSeq`; a snapshot must already cover them. */
  compact(key: string, uptoSeq: number): Promise<void>
  /** Every key that has records, a snapshot, or a history. */
  keys(): Promise<string[]>
  /** The newest view epoch of any record or snapshot held (0: none); a durable backend that outlives its process has it. */
  epochMax?(): number
  /**
   * A failure every later write repeats until the storage is closed and opened again (a failed
   * fdatasync: what the page cache holds can no longer be trusted), or undefined while writes may
   * succeed (a full disk may drain). A backend that cannot break this way need not have it.
   */
  broken?(): TroupeError | undefined
  /**
   * Up to `max` keys whose live records or snapshot keep the storage's oldest space from being
   * reclaimed (file segments behind the newest ones), or [] when nothing needs it. Written again
   * whole (`installSnapshot` of their copy), they let it go: a key written once long ago would
   * otherwise keep every segment after it on disk. A backend that reclaims space by itself need
   * not have it.
   */
  keysHoldingOldest?(max: number): string[]
  /** Waits for pending writes to settle, then releases the backend; the storage is unusable after. */
  close(): Promise<void>
}

/** Keeps records with `seq >= fromSeq`; records are sorted, so this is a binary search and a slice. */
export function fromSeqSlice<T extends { seq: number }>(records: readonly T[], fromSeq: number): T[] {
  let lo = 0, hi = records.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (records[mid]!.seq < fromSeq) lo = mid + 1
    else hi = mid
  }
  return records.slice(lo)
}
