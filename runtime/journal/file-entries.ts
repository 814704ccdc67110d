import { assert } from '../assert.ts'
import { TroupeError } from '../errors.ts'
import { ByteWriter } from './byte-writer.ts'
import type { JournalCodec } from './codec.ts'
import { entryHeaderBytes, sealEntry, type Crc32c } from './frame.ts'
import type { JournalRecord, JournalSnapshot } from './storage.ts'
import { keyBytesMax } from './validate.ts'

/**
 * The entries inside one frame's payload, one after another, each with its own checksum and
 * length (`[checksum u32][length u32]`, see frame.ts) before its content:
 * `[kind u8][key length u16][key UTF-8][seq f64][epoch f64]` then, for a record or a snapshot,
 * the body (the codec's bytes) up to the entry's end. Kinds: 1 record, 2 snapshot, 3 compact
 * (`seq` is then the `uptoSeq`, `epoch` 0, no body), 4 install (a snapshot that also drops every
 * record of the key written before it, in this or older segments: `installSnapshot`). Seq and
 * epoch sit outside the body so recovery can index records without decoding them.
 */

/** Where a write's entries sit, encoded: `[start, end)` of `chunk` (set by `EntryWriter.write`). */
export interface EncodedEntries {
  chunk: Uint8Array
  start: number
  end: number
}

/** A write waiting for group commit, with its entries already encoded (so a bad value fails alone). */
export type FileOp = EncodedEntries & (
  | { kind: 'records'; key: string; records: readonly JournalRecord[] }
  | { kind: 'snapshot'; key: string; snapshot: JournalSnapshot }
  | { kind: 'install'; key: string; snapshot: JournalSnapshot }
  | { kind: 'compact'; key: string; uptoSeq: number })

/** One entry read back from a payload. */
export interface FileEntry {
  kind: 'record' | 'snapshot' | 'compact' | 'install'
  key: string
  seq: number
  epoch: number
  body: Uint8Array
}

const kindCode = { record: 1, snapshot: 2, compact: 3, install: 4 } as const
const empty = new Uint8Array(0)
const decoder = new TextDecoder('utf-8', { fatal: true })

/** Content bytes before the body, for a key of `keyLength` bytes. */
function headBytes(keyLength: number): number {
  return 3 + keyLength + 16
}

/**
 * Encodes entries straight into a shared `ByteWriter`, one write (an append's records, a
 * snapshot, a compaction) at a time: no buffer per record. Group commit later copies the
 * entries of a batch into its frame, in one piece when they are contiguous (the usual case).
 */
export class EntryWriter {
  private readonly out = new ByteWriter()

  constructor(private readonly codec: JournalCodec, private readonly crc: Crc32c) {}

  /**
   * Encodes `op`'s entries, each sealed with its checksum, and sets its `chunk`, `start`, `end`. Throws
   * `Unjournalable` (a value the codec refuses) or `AssertionError` (a bad key), writing nothing.
   */
  write(op: FileOp): void {
    const key = op.key
    assert(typeof key === 'string' && key.length > 0, 'journal key must be a non-empty string')
    const w = this.out
    w.begin()
    if (op.kind === 'records') {
      const records = op.records
      let keyAt = 0, keyLength = 0 // keyAt: offset from the mark (which a chunk change moves)
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!
        const at = this.open(kindCode.record)
        if (i === 0) {
          keyLength = this.key(key)
          keyAt = w.pos - w.mark - keyLength
        } else {
          w.u16(keyLength)
          w.repeat(w.mark + keyAt, keyLength)
        }
        this.body(key, r.seq, r.epoch, r, true)
        this.close(at)
      }
    } else if (op.kind === 'compact') {
      const at = this.open(kindCode.compact)
      this.key(key)
      w.f64(op.uptoSeq)
      w.f64(0)
      this.close(at)
    } else {
      const at = this.open(kindCode[op.kind])
      this.key(key)
      this.body(key, op.snapshot.seq, op.snapshot.epoch, op.snapshot)
      this.close(at)
    }
    op.chunk = w.bytes
    op.start = w.mark
    op.end = w.pos
  }

  /** Starts an entry: room for its header, then its kind. Returns its offset from the mark. */
  private open(kind: number): number {
    const w = this.out
    w.ensure(entryHeaderBytes + 1)
    const at = w.pos - w.mark
    w.pos += entryHeaderBytes
    w.bytes[w.pos++] = kind
    return at
  }

  /** Ends the entry that `open` started: its length and checksum. */
  private close(at: number): void {
    const w = this.out
    sealEntry(w.bytes, w.mark + at, w.pos, this.crc, w.view)
  }

  /** Forgets the last op's entries (it was refused after encoding). */
  discard(op: FileOp): void {
    if (op.chunk === this.out.bytes && op.end === this.out.pos) this.out.pos = op.start
  }

  /** `[key length u16][key]`; returns the length. */
  private key(key: string): number {
    const w = this.out
    const at = w.pos - w.mark
    w.u16(0)
    const length = w.utf8(key)
    if (length > keyBytesMax) {
      w.pos = w.mark
      assert(false, `journal key must be 1..${keyBytesMax} UTF-8 bytes`)
    }
    w.view.setUint16(w.mark + at, length, true)
    return length
  }

  /** `[seq f64][epoch f64][body]`; `value` is the caller's own copy (see `encodeInto`). */
  private body(key: string, seq: number, epoch: number, value: object, record = false): void {
    const w = this.out
    w.f64(seq)
    w.f64(epoch)
    try {
      const codec = this.codec
      if (record && codec.encodeRecordInto !== undefined) codec.encodeRecordInto(value as JournalRecord, w)
      else if (codec.encodeInto !== undefined) codec.encodeInto(value, w, true)
      else w.raw(codec.encode(value))
    } catch (error) {
      w.pos = w.mark
      const why = error instanceof Error ? error.message : String(error)
      throw new TroupeError('Unjournalable', `cannot journal a value of ${key}: ${why}`, { actor: key })
    }
  }
}

function corrupt(why: string): TroupeError {
  return new TroupeError('CorruptRecord', `journal entry passed its checksum but ${why}`)
}

/**
 * Reads every entry of a frame payload (whose entries passed their checksums: `scanFrames`);
 * `CorruptRecord` when an entry's content is malformed.
 */
export function readEntries(payload: Uint8Array): FileEntry[] {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  const entries: FileEntry[] = []
  for (let at = 0; at < payload.byteLength;) {
    const length = view.getUint32(at + 4, true), start = at + entryHeaderBytes, end = start + length
    at = end
    if (end > payload.byteLength) throw corrupt('runs past its frame')
    const need = (n: number): void => {
      if (start + n > end) throw corrupt(`is ${length} bytes, too short for its content`)
    }
    need(3)
    const code = view.getUint8(start), keyLength = view.getUint16(start + 1, true)
    const kind = code === 1 ? 'record' : code === 2 ? 'snapshot' : code === 3 ? 'compact' : code === 4 ? 'install' : undefined
    if (kind === undefined) throw corrupt(`is of unknown kind ${code}`)
    if (keyLength === 0) throw corrupt('has an empty key')
    const head = headBytes(keyLength)
    need(head)
    let key: string
    try { key = decoder.decode(payload.subarray(start + 3, start + 3 + keyLength)) } catch { throw corrupt('has a key that is not UTF-8') }
    const seq = view.getFloat64(start + 3 + keyLength, true), epoch = view.getFloat64(start + 11 + keyLength, true)
    if (!Number.isSafeInteger(seq) || seq < (kind === 'record' ? 1 : 0)) throw corrupt(`has an invalid seq ${seq}`)
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw corrupt(`has an invalid epoch ${epoch}`)
    if (kind === 'compact' && length !== head) throw corrupt('is a compaction with a body')
    const body = kind === 'compact' ? empty : payload.slice(start + head, end)
    entries.push({ kind, key, seq, epoch, body })
  }
  return entries
}

/** Where each record's and snapshot's body sits in `frame` (whose payload holds encoded entries), in order: `[at, length, ...]`. */
export function bodiesIn(frame: Uint8Array, from: number): number[] {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const bodies: number[] = []
  for (let at = from; at < frame.byteLength;) {
    const length = view.getUint32(at + 4, true), start = at + entryHeaderBytes
    at = start + length
    if (frame[start] === kindCode.compact) continue
    const head = headBytes(view.getUint16(start + 1, true))
    bodies.push(start + head, length - head)
  }
  return bodies
}
