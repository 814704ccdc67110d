import { createCRC32 } from 'hash-wasm'

/**
 * The file journal's on-disk framing, in three layers:
 *
 * - A segment file starts with `segmentHeader` (magic `TRPJ`, format version u32 LE), so a file
 *   of another format or version is refused, never read as a torn tail and truncated.
 * - Then frames: `[checksum u32 LE][length u32 LE][payload]`, the checksum a CRC-32C of the
 *   length bytes. One frame holds one group-commit batch: it is what one write and one
 *   fdatasync make durable, so it is the unit recovery keeps or drops.
 * - A payload is entries, back to back: `[checksum u32 LE][length u32 LE][content]`, the checksum
 *   a CRC-32C of the length bytes and the content. So every record (every entry: records,
 *   snapshots, compactions) carries a checksum of its own, computed when it is encoded.
 *
 * A frame is valid when its header passes its checksum, it fits in the file, and its entries
 * tile its payload exactly, each passing its own checksum. Damage on recovery (`scanFrames`):
 * a frame that is not valid is *torn* when no valid frame follows it: it is a write a crash
 * interrupted, never acknowledged, and recovery truncates it. When a valid frame follows, the
 * damage is in the middle of the log: `corrupt`, and the journal refuses to open. So a bit
 * flip in the tail frame is treated as torn; in any earlier frame, as corrupt. Zeros after the
 * last valid frame are the clean end of a segment written into preallocated space (see
 * `JournalFile.preallocate`), not damage.
 */

/** The first bytes of every segment: `TRPJ`, then the format version (1) as u32 LE. */
export const segmentHeader: Uint8Array = Uint8Array.of(0x54, 0x52, 0x50, 0x4a, 1, 0, 0, 0)

/** Bytes before a frame's payload, and before an entry's content. */
export const frameHeaderBytes = 8
export const entryHeaderBytes = 8

/** CRC-32C (Castagnoli) of some bytes. */
export type Crc32c = (bytes: Uint8Array) => number

let loaded: Promise<Crc32c> | undefined

/** Loads hash-wasm's CRC-32C once per realm; the returned function is synchronous. */
export function loadCrc32c(): Promise<Crc32c> {
  loaded ??= createCRC32(0x82f63b78).then((hasher) => (bytes: Uint8Array) => {
    const digest = hasher.init().update(bytes).digest('binary')
    return ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0
  })
  return loaded
}

/**
 * Writes the length and checksum into the header of a frame or an entry (`bytes[at..end)`,
 * its payload or content already in place after the 8 header bytes). `view` spans `bytes`.
 */
function seal(bytes: Uint8Array, view: DataView, at: number, end: number, crc: Crc32c, whole: boolean): void {
  view.setUint32(at + 4, end - at - 8, true)
  view.setUint32(at, crc(bytes.subarray(at + 4, whole ? end : at + 8)), true)
}

/** Seals a frame: its checksum covers the length bytes (its entries carry their own). */
export function sealFrame(frame: Uint8Array, crc: Crc32c): void {
  seal(frame, new DataView(frame.buffer, frame.byteOffset, frame.byteLength), 0, frame.byteLength, crc, false)
}

/**
 * Seals the entry at `bytes[at..end)`: its checksum covers its length bytes and its content.
 * `view` (a DataView over exactly `bytes`) saves making one per entry.
 */
export function sealEntry(bytes: Uint8Array, at: number, end: number, crc: Crc32c,
  view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)): void {
  seal(bytes, view, at, end, crc, true)
}

/** What a scan of one segment's frames found. */
export interface FrameScan {
  /** Payloads of the valid frames, in order (views into the scanned bytes). */
  payloads: Uint8Array[]
  /** Byte length of the valid prefix. */
  validBytes: number
  /** Whether bytes after the valid prefix are a torn tail or corruption; undefined if none. */
  damage: 'torn' | 'corrupt' | undefined
  /** Where the damage is: the first entry that fails its checksum, or the frame that does. */
  damageAt: number
}

/** `bytes[at..)` as an entry or frame header: its length, or -1 when it does not fit before `end` or fails its checksum. */
function checkedLength(bytes: Uint8Array, view: DataView, at: number, end: number, crc: Crc32c, whole: boolean): number {
  if (end - at < 8) return -1
  const length = view.getUint32(at + 4, true)
  if (length === 0 || length > end - at - 8) return -1
  if (crc(bytes.subarray(at + 4, whole ? at + 8 + length : at + 8)) !== view.getUint32(at, true)) return -1
  return length
}

/**
 * The frame at `offset`: its payload when valid, else (in `bad`) where it fails: the frame
 * header, or the first entry that fails its checksum or does not fit.
 */
function frameAt(bytes: Uint8Array, view: DataView, offset: number, crc: Crc32c, bad?: { at: number }): Uint8Array | undefined {
  const length = checkedLength(bytes, view, offset, bytes.byteLength, crc, false)
  if (bad) bad.at = offset
  if (length < 0) return undefined
  const end = offset + frameHeaderBytes + length
  for (let at = offset + frameHeaderBytes; at < end;) {
    const n = checkedLength(bytes, view, at, end, crc, true)
    if (n < 0) {
      if (bad) bad.at = at
      return undefined
    }
    at += entryHeaderBytes + n
  }
  return bytes.subarray(offset + frameHeaderBytes, end)
}

/** Splits a segment's frames (`bytes`, after the segment header) and classifies what follows the valid prefix. */
export function scanFrames(bytes: Uint8Array, crc: Crc32c): FrameScan {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const payloads: Uint8Array[] = []
  const bad = { at: 0 }
  let offset = 0
  while (offset < bytes.byteLength) {
    const payload = frameAt(bytes, view, offset, crc, bad)
    if (payload === undefined) break
    payloads.push(payload)
    offset += frameHeaderBytes + payload.byteLength
  }
  if (offset === bytes.byteLength || zerosFrom(bytes, offset)) return { payloads, validBytes: offset, damage: undefined, damageAt: offset }
  // Damage at `offset`: corrupt if any valid frame starts later, else a torn tail.
  for (let probe = offset + 1; probe + frameHeaderBytes < bytes.byteLength; probe++) {
    if (frameAt(bytes, view, probe, crc) !== undefined) return { payloads, validBytes: offset, damage: 'corrupt', damageAt: bad.at }
  }
  return { payloads, validBytes: offset, damage: 'torn', damageAt: bad.at }
}

/** True when every byte from `offset` on is zero (unwritten preallocated space). */
function zerosFrom(bytes: Uint8Array, offset: number): boolean {
  for (let i = offset; i < bytes.byteLength; i++) if (bytes[i] !== 0) return false
  return true
}
