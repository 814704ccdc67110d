import { TroupeError } from '../errors.ts'
import type { KeyHead } from './seq-tracker.ts'

/**
 * A durable snapshot: its encoded body (`length` bytes at `at` in `bytes`, the frame it was
 * written in or a copy read on recovery) and the segment that holds it.
 */
export interface IndexedBody {
  seq: number
  epoch: number
  bytes: Uint8Array
  at: number
  length: number
  segment: number
}

/** Damage found while indexing frames that passed their checksum. */
function corrupt(key: string, why: string): TroupeError {
  return new TroupeError('CorruptRecord', `journal of ${key} ${why}`, { actor: key })
}

function emptyLog(): KeyLog {
  return { first: 1, bytes: [], at: [], length: [], segment: [] }
}

/** The encoded body of `b`. */
export function bodyOf(b: IndexedBody): Uint8Array {
  return b.bytes.subarray(b.at, b.at + b.length)
}

/**
 * A key's kept records, as parallel arrays (no object per record): record `i` has seq
 * `first + i`, its body is `length[i]` bytes at `at[i]` in `bytes[i]`, in segment `segment[i]`.
 */
interface KeyLog {
  first: number
  bytes: Uint8Array[]
  at: number[]
  length: number[]
  segment: number[]
}

interface KeyEntry {
  records: KeyLog
  snapshot: IndexedBody | undefined
  /** Highest seq the key ever reached, including compacted records. */
  headSeq: number
  headEpoch: number
}

/**
 * The file journal's in-memory view of what its segments hold: per key the kept records and
 * the latest snapshot (encoded, decoded only on read), and per segment how many of them are
 * still live. A segment whose count is 0 holds nothing a reader needs; the oldest such
 * segments can be deleted (see `FileJournalStorage.compact`). Compact markers never count as
 * live: a marker only drops records in its own or older segments, which are deleted first.
 * An install entry is a snapshot (live while it is the key's latest) and a marker at once.
 */
export class FileIndex {
  private readonly byKey = new Map<string, KeyEntry>()
  private readonly live = new Map<number, number>()

  private entry(key: string): KeyEntry {
    let entry = this.byKey.get(key)
    if (entry === undefined) {
      entry = { records: emptyLog(), snapshot: undefined, headSeq: 0, headEpoch: 0 }
      this.byKey.set(key, entry)
    }
    return entry
  }

  private count(segment: number, delta: number): void {
    this.live.set(segment, (this.live.get(segment) ?? 0) + delta)
  }

  /**
   * Adds a durable record (body: `length` bytes at `at` in `bytes`); it must follow the key's
   * last kept record. `counted`: the caller adds it to its segment's live count itself
   * (`countLive`, once for a whole batch).
   */
  addRecord(key: string, seq: number, epoch: number, bytes: Uint8Array, at: number, length: number, segment: number, counted = false): void {
    const entry = this.entry(key)
    const log = entry.records, n = log.at.length
    if (n === 0) log.first = seq
    else if (seq !== log.first + n) throw corrupt(key, `jumps from seq ${log.first + n - 1} to ${seq}`)
    // A record's epoch is at least every earlier record's and snapshot's (SeqTracker refuses less on write).
    if (epoch < entry.headEpoch) throw corrupt(key, `record ${seq} has epoch ${epoch} below ${entry.headEpoch}`)
    log.bytes.push(bytes)
    log.at.push(at)
    log.length.push(length)
    log.segment.push(segment)
    if (seq > entry.headSeq) entry.headSeq = seq
    if (epoch > entry.headEpoch) entry.headEpoch = epoch
    if (!counted) this.count(segment, 1)
  }

  /** Adds `n` records to the live count of `segment` (see `addRecord`). */
  countLive(segment: number, n: number): void {
    if (n > 0) this.count(segment, n)
  }

  /** Replaces the key's snapshot. */
  setSnapshot(key: string, snapshot: IndexedBody): void {
    const entry = this.entry(key)
    // A snapshot may be older than the last record (its epoch too), but never than the last snapshot.
    const floor = entry.snapshot?.epoch ?? 0
    if (snapshot.epoch < floor) throw corrupt(key, `snapshot ${snapshot.seq} has epoch ${snapshot.epoch} below ${floor}`)
    if (entry.snapshot !== undefined) this.count(entry.snapshot.segment, -1)
    entry.snapshot = snapshot
    entry.headSeq = Math.max(entry.headSeq, snapshot.seq)
    entry.headEpoch = Math.max(entry.headEpoch, snapshot.epoch)
    this.count(snapshot.segment, 1)
  }

  /** Installs the key's snapshot: drops every kept record and moves the head to the snapshot. */
  install(key: string, snapshot: IndexedBody): void {
    const entry = this.entry(key)
    if (snapshot.epoch < entry.headEpoch) throw corrupt(key, `installed snapshot ${snapshot.seq} has epoch ${snapshot.epoch} below ${entry.headEpoch}`)
    for (const segment of entry.records.segment) this.count(segment, -1)
    entry.records = emptyLog()
    this.setSnapshot(key, snapshot)
    entry.headSeq = snapshot.seq
    entry.headEpoch = snapshot.epoch
  }

  /** Drops the key's records with seq <= `uptoSeq`. */
  compact(key: string, uptoSeq: number): void {
    const entry = this.entry(key)
    const log = entry.records
    const n = Math.max(0, Math.min(log.at.length, uptoSeq - log.first + 1))
    for (let i = 0; i < n; i++) this.count(log.segment[i]!, -1)
    log.bytes.splice(0, n)
    log.at.splice(0, n)
    log.length.splice(0, n)
    log.segment.splice(0, n)
    log.first += n
    entry.headSeq = Math.max(entry.headSeq, uptoSeq)
  }

  /** The bodies of the key's kept records with seq >= `fromSeq`, in seq order, with the first one's seq. */
  records(key: string, fromSeq: number): { first: number; bodies: Uint8Array[] } {
    const log = this.byKey.get(key)?.records
    if (log === undefined) return { first: fromSeq, bodies: [] }
    const bodies: Uint8Array[] = []
    const from = Math.max(0, fromSeq - log.first)
    for (let i = from; i < log.at.length; i++) {
      bodies.push(log.bytes[i]!.subarray(log.at[i]!, log.at[i]! + log.length[i]!))
    }
    return { first: log.first + from, bodies }
  }

  /** The key's latest snapshot. */
  snapshot(key: string): IndexedBody | undefined {
    return this.byKey.get(key)?.snapshot
  }

  /** Every key the index knows. */
  keys(): string[] {
    return [...this.byKey.keys()]
  }

  /** The head of every key, for the sequence tracker after recovery. */
  heads(): Map<string, KeyHead> {
    const heads = new Map<string, KeyHead>()
    for (const [key, e] of this.byKey) {
      heads.set(key, { seq: e.headSeq, epoch: e.headEpoch, snapshotSeq: e.snapshot?.seq ?? -1, snapshotEpoch: e.snapshot?.epoch ?? 0 })
    }
    return heads
  }

  /** Up to `max` keys with a live record or their snapshot in `segment`, the oldest one on disk. */
  keysIn(segment: number, max: number): string[] {
    const keys: string[] = []
    for (const [key, entry] of this.byKey) {
      if (keys.length >= max) break
      // Records are kept in seq order, so in segment order: the first is in the oldest segment if any is.
      if (entry.snapshot?.segment === segment || entry.records.segment[0] === segment) keys.push(key)
    }
    return keys
  }

  /** Live records and snapshots in `segment`. */
  liveIn(segment: number): number {
    return this.live.get(segment) ?? 0
  }

  /** Forgets a deleted segment's (zero) count. */
  forget(segment: number): void {
    this.live.delete(segment)
  }
}
