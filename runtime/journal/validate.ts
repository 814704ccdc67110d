import { assert } from '../assert.ts'
import { TroupeError } from '../errors.ts'
import type { KeyHead } from './seq-tracker.ts'
import type { JournalRecord, JournalSnapshot } from './storage.ts'

/**
 * Checks every backend shares, in two kinds:
 * - input from the caller (keys, records, snapshots, seqs): bad input is a programmer error,
 *   `AssertionError`, as for the journal's other invariants (see storage.ts), refused before
 *   anything is written;
 * - values read back from storage: a wrong shape is `CorruptRecord`, never returned.
 * The append path only pays for cheap type checks: a key is checked once per key (see `SeqTracker`).
 */

/** Most UTF-8 bytes in a journal key: the file format stores a key's length in a u16. */
export const keyBytesMax = 0xffff

/** A safe integer >= 0: a seq, an epoch, an `uptoSeq`. */
export function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}

/** Matches an unpaired surrogate: UTF-8 cannot hold one, so the file journal would read back another key. */
const loneSurrogate = /\p{Cs}/u

/** UTF-8 bytes of a string without lone surrogates. */
function utf8Bytes(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff) { n += 4; i++ } // a pair: 4 bytes for 2 units
    else n += 3
  }
  return n
}

/** Asserts `key` is a journal key: a non-empty, well-formed string of at most `keyBytesMax` UTF-8 bytes. */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) assert(false, 'journal key must be a non-empty string')
  if (loneSurrogate.test(key)) assert(false, 'journal key must be well-formed UTF-16 (no lone surrogate)')
  // A UTF-16 unit is at most 3 UTF-8 bytes: only a long key needs counting.
  if (key.length > keyBytesMax / 3 && utf8Bytes(key) > keyBytesMax) assert(false, `journal key must be 1..${keyBytesMax} UTF-8 bytes`)
}

/** Asserts the arguments of `read(key, fromSeq)` / `readSnapshot(key)`: a string key, a seq >= 0. */
export function checkRead(key: unknown, fromSeq = 0): void {
  if (typeof key !== 'string') assert(false, 'journal key must be a string')
  if (!isCount(fromSeq)) assert(false, `read of ${key} needs an integer fromSeq >= 0`)
}

/** The journal's own shallow copies of `records` (their five fields); asserts an array of objects. */
export function ownRecords(records: readonly JournalRecord[]): JournalRecord[] {
  if (!Array.isArray(records)) assert(false, 'append needs an array of records')
  const copies: JournalRecord[] = new Array(records.length)
  for (let i = 0; i < records.length; i++) {
    const r = records[i]
    if (typeof r !== 'object' || r === null) assert(false, `record ${i} of an append is not an object`)
    copies[i] = { seq: r.seq, epoch: r.epoch, requestId: r.requestId, patch: r.patch, result: r.result }
  }
  return copies
}

/** The journal's own shallow copy of `snapshot`; asserts an object. */
export function ownSnapshot(snapshot: JournalSnapshot): JournalSnapshot {
  if (typeof snapshot !== 'object' || snapshot === null) assert(false, 'a snapshot must be an object')
  return { seq: snapshot.seq, epoch: snapshot.epoch, state: snapshot.state }
}

function corrupt(key: string, why: string): TroupeError {
  return new TroupeError('CorruptRecord', `journal of ${key}: stored ${why}`, { actor: key })
}

/**
 * Checks records read back for `read(key, fromSeq)`: plain records, contiguous (from `first`
 * when the backend knows where they start, else from anywhere >= `fromSeq`), epochs never falling.
 */
export function checkStoredRecords(key: string, records: readonly unknown[], fromSeq: number, first?: number): JournalRecord[] {
  let seq = first === undefined ? -1 : first - 1, epoch = 0
  for (const value of records) {
    const r = value as Partial<JournalRecord> | null
    if (typeof r !== 'object' || r === null || !isCount(r.seq) || !isCount(r.epoch) || typeof r.requestId !== 'string') {
      throw corrupt(key, 'record is not a record')
    }
    if (seq === -1 ? r.seq < fromSeq : r.seq !== seq + 1) throw corrupt(key, `record ${r.seq} does not follow ${seq}`)
    if (r.epoch < epoch) throw corrupt(key, `record ${r.seq} has epoch ${r.epoch} below ${epoch}`)
    seq = r.seq
    epoch = r.epoch
  }
  return records as JournalRecord[]
}

/** Checks a snapshot read back (and, when the backend knows them, its seq and epoch). */
export function checkStoredSnapshot(key: string, value: unknown, expected?: { seq: number; epoch: number }): JournalSnapshot {
  const s = value as Partial<JournalSnapshot> | null
  if (typeof s !== 'object' || s === null || !isCount(s.seq) || !isCount(s.epoch)) {
    throw corrupt(key, 'snapshot is not a snapshot')
  }
  if (expected !== undefined && (s.seq !== expected.seq || s.epoch !== expected.epoch)) {
    throw corrupt(key, `snapshot ${s.seq}/${s.epoch} does not match its entry ${expected.seq}/${expected.epoch}`)
  }
  return s as JournalSnapshot
}

/** Checks a key's head read back: counts, `snapshotSeq` -1 (none) up to `seq`. */
export function checkStoredHead(key: string, value: unknown): KeyHead {
  const h = value as Partial<KeyHead> | null
  if (typeof h !== 'object' || h === null || !isCount(h.seq) || !isCount(h.epoch) || !isCount(h.snapshotEpoch) ||
    !Number.isSafeInteger(h.snapshotSeq) || h.snapshotSeq! < -1 || h.snapshotSeq! > h.seq) {
    throw corrupt(key, 'head is not a head')
  }
  return h as KeyHead
}
