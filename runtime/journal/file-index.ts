import { TroupeError } from '../errors.ts'
import type { KeyHead } from './seq-tracker.ts'

/** A durable record or snapshot: its encoded body and the segment that holds it. */
export interface IndexedBody {
  seq: number
  epoch: number
  body: Uint8Array
  segment: number
}

interface KeyEntry {
  records: IndexedBody[]
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
      entry = { records: [], snapshot: undefined, headSeq: 0, headEpoch: 0 }
      this.byKey.set(key, entry)
    }
    return entry
  }

  private count(segment: number, delta: number): void {
    this.live.set(segment, (this.live.get(segment) ?? 0) + delta)
  }

  /** Adds a durable record; a record must follow the key's last kept record. */
  addRecord(key: string, record: IndexedBody): void {
    const entry = this.entry(key)
    const last = entry.records[entry.records.length - 1]
    if (last !== undefined && record.seq !== last.seq + 1) {
      throw new TroupeError('CorruptRecord', `journal of ${key} jumps from seq ${last.seq} to ${record.seq}`, { actor: key })
    }
    entry.records.push(record)
    entry.headSeq = Math.max(entry.headSeq, record.seq)
    entry.headEpoch = Math.max(entry.headEpoch, record.epoch)
    this.count(record.segment, 1)
  }

  /** Replaces the key's snapshot. */
  setSnapshot(key: string, snapshot: IndexedBody): void {
    const entry = this.entry(key)
    if (entry.snapshot !== undefined) this.count(entry.snapshot.segment, -1)
    entry.snapshot = snapshot
    entry.headSeq = Math.max(entry.headSeq, snapshot.seq)
    entry.headEpoch = Math.max(entry.headEpoch, snapshot.epoch)
    this.count(snapshot.segment, 1)
  }

  /** Installs the key's snapshot: drops every kept record and moves the head to the snapshot. */
  install(key: string, snapshot: IndexedBody): void {
    const entry = this.entry(key)
    for (const record of entry.records) this.count(record.segment, -1)
    entry.records = []
    this.setSnapshot(key, snapshot)
    entry.headSeq = snapshot.seq
    entry.headEpoch = snapshot.epoch
  }

  /** Drops the key's records with seq <= `uptoSeq`. */
  compact(key: string, uptoSeq: number): void {
    const entry = this.entry(key)
    let n = 0
    while (n < entry.records.length && entry.records[n]!.seq <= uptoSeq) this.count(entry.records[n++]!.segment, -1)
    entry.records.splice(0, n)
    entry.headSeq = Math.max(entry.headSeq, uptoSeq)
  }

  /** The key's kept records, in seq order. */
  records(key: string): readonly IndexedBody[] {
    return this.byKey.get(key)?.records ?? []
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

  /** Live records and snapshots in `segment`. */
  liveIn(segment: number): number {
    return this.live.get(segment) ?? 0
  }

  /** Forgets a deleted segment's (zero) count. */
  forget(segment: number): void {
    this.live.delete(segment)
  }
}
