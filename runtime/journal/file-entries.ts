import { assert } from '../assert.ts'
import { TroupeError } from '../errors.ts'
import type { JournalRecord, JournalSnapshot } from './storage.ts'

/**
 * The entries inside one frame's payload, one after another:
 * `[kind u8][key length u16][key UTF-8][seq f64][epoch f64]` then, for a record or a snapshot,
 * `[body length u32][body]` (the codec's bytes). Kinds: 1 record, 2 snapshot, 3 compact
 * (`seq` is then the `uptoSeq`, `epoch` 0), 4 install (a snapshot that also drops every record
 * of the key written before it, in this or older segments: `installSnapshot`). Seq and epoch sit outside the body so recovery can index
 * records without decoding them.
 */

/** A write waiting for group commit, with its values already encoded (so a bad value fails alone). */
export type FileOp =
  | { kind: 'records'; key: string; keyBytes: Uint8Array; records: readonly JournalRecord[]; bodies: Uint8Array[] }
  | { kind: 'snapshot'; key: string; keyBytes: Uint8Array; snapshot: JournalSnapshot; body: Uint8Array }
  | { kind: 'compact'; key: string; keyBytes: Uint8Array; uptoSeq: number }
  | { kind: 'install'; key: string; keyBytes: Uint8Array; snapshot: JournalSnapshot; body: Uint8Array }

/** One entry read back from a payload. */
export interface FileEntry {
  kind: 'record' | 'snapshot' | 'compact' | 'install'
  key: string
  seq: number
  epoch: number
  body: Uint8Array
}

const kindCode = { record: 1, snapshot: 2, compact: 3, install: 4 } as const
const fixedBytes = 1 + 2 + 8 + 8
const keyBytesMax = 0xffff
const empty = new Uint8Array(0)
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** The key's UTF-8 bytes, refusing keys too long for an entry. */
export function keyBytesOf(key: string): Uint8Array {
  const bytes = encoder.encode(key)
  assert(bytes.byteLength > 0 && bytes.byteLength <= keyBytesMax, `journal key must be 1..${keyBytesMax} UTF-8 bytes`)
  return bytes
}

/** Bytes `op` takes in a payload. */
export function opBytes(op: FileOp): number {
  const head = fixedBytes + op.keyBytes.byteLength
  if (op.kind === 'compact') return head
  if (op.kind === 'snapshot' || op.kind === 'install') return head + 4 + op.body.byteLength
  let total = 0
  for (const body of op.bodies) total += head + 4 + body.byteLength
  return total
}

/**
 * Writes the entries of `ops` into `out` from `offset`. Returns views of the bodies as written
 * (records and snapshots, in order), so the index can keep one buffer per batch, not one per record.
 */
export function writeEntries(ops: readonly FileOp[], out: Uint8Array, offset: number): Uint8Array[] {
  const written: Uint8Array[] = []
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  const put = (kind: keyof typeof kindCode, keyBytes: Uint8Array, seq: number, epoch: number, body?: Uint8Array): void => {
    view.setUint8(offset, kindCode[kind])
    view.setUint16(offset + 1, keyBytes.byteLength, true)
    out.set(keyBytes, offset + 3)
    offset += 3 + keyBytes.byteLength
    view.setFloat64(offset, seq, true)
    view.setFloat64(offset + 8, epoch, true)
    offset += 16
    if (body === undefined) return
    view.setUint32(offset, body.byteLength, true)
    out.set(body, offset + 4)
    written.push(out.subarray(offset + 4, offset + 4 + body.byteLength))
    offset += 4 + body.byteLength
  }
  for (const op of ops) {
    if (op.kind === 'compact') put('compact', op.keyBytes, op.uptoSeq, 0)
    else if (op.kind === 'snapshot' || op.kind === 'install') put(op.kind, op.keyBytes, op.snapshot.seq, op.snapshot.epoch, op.body)
    else op.records.forEach((r, i) => put('record', op.keyBytes, r.seq, r.epoch, op.bodies[i]!))
  }
  return written
}

function corrupt(why: string): TroupeError {
  return new TroupeError('CorruptRecord', `journal frame passed its checksum but ${why}`)
}

/** Reads every entry of a frame payload; `CorruptRecord` when the payload is malformed. */
export function readEntries(payload: Uint8Array): FileEntry[] {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  const entries: FileEntry[] = []
  let offset = 0
  const need = (n: number): void => {
    if (offset + n > payload.byteLength) throw corrupt('an entry runs past its end')
  }
  while (offset < payload.byteLength) {
    need(3)
    const code = view.getUint8(offset), keyLength = view.getUint16(offset + 1, true)
    offset += 3
    const kind = code === 1 ? 'record' : code === 2 ? 'snapshot' : code === 3 ? 'compact' : code === 4 ? 'install' : undefined
    if (kind === undefined) throw corrupt(`has an entry of unknown kind ${code}`)
    need(keyLength + 16)
    let key: string
    try { key = decoder.decode(payload.subarray(offset, offset + keyLength)) } catch { throw corrupt('has a key that is not UTF-8') }
    const seq = view.getFloat64(offset + keyLength, true), epoch = view.getFloat64(offset + keyLength + 8, true)
    offset += keyLength + 16
    if (!Number.isSafeInteger(seq) || seq < 0) throw corrupt(`has an invalid seq ${seq}`)
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw corrupt(`has an invalid epoch ${epoch}`)
    let body = empty
    if (kind !== 'compact') {
      need(4)
      const length = view.getUint32(offset, true)
      offset += 4
      need(length)
      body = payload.slice(offset, offset + length)
      offset += length
    }
    entries.push({ kind, key, seq, epoch, body })
  }
  return entries
}
