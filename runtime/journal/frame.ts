import { createCRC32 } from 'hash-wasm'

/**
 * Frames in a segment file: `[length u32 LE][checksum u32 LE][payload]`, where `checksum` is
 * CRC-32C over the length bytes and the payload, so a flipped length is caught too. One frame
 * holds one group-commit batch, so the checksum is computed once per write, not per record.
 *
 * Damage on recovery (see `scanFrames`): a frame that fails (short header, length past the end
 * of the file, checksum mismatch) is *torn* when no valid frame follows it: it is a write a
 * crash interrupted, never acknowledged, and recovery truncates it. When a valid frame follows,
 * the damage is in the middle of the log: `corrupt`, and the journal refuses to open.
 * So a bit flip in the tail frame is treated as torn; in any earlier frame, as corrupt.
 * Zeros after the last valid frame are the clean end of a segment written into preallocated
 * space (see `JournalFile.preallocate`), not damage.
 */

/** Bytes before a frame's payload. */
export const frameHeaderBytes = 8

/** CRC-32C of a sealed frame (length bytes and payload; the checksum field itself skipped). */
export type FrameChecksum = (frame: Uint8Array) => number

let loaded: Promise<FrameChecksum> | undefined

/** Loads hash-wasm's CRC-32C once per realm; the returned function is synchronous. */
export function loadFrameChecksum(): Promise<FrameChecksum> {
  loaded ??= createCRC32(0x82f63b78).then((hasher) => (frame: Uint8Array) => {
    const digest = hasher.init().update(frame.subarray(0, 4)).update(frame.subarray(frameHeaderBytes)).digest('binary')
    return ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0
  })
  return loaded
}

/** Writes the length and checksum into a frame whose payload is already in place after the header. */
export function sealFrame(frame: Uint8Array, checksum: FrameChecksum): void {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  view.setUint32(0, frame.byteLength - frameHeaderBytes, true)
  view.setUint32(4, checksum(frame), true)
}

/** What a scan of one segment found. */
export interface FrameScan {
  /** Payloads of the valid frames, in order (views into the scanned bytes). */
  payloads: Uint8Array[]
  /** Byte length of the valid prefix. */
  validBytes: number
  /** Whether bytes after the valid prefix are a torn tail or corruption; undefined if none. */
  damage: 'torn' | 'corrupt' | undefined
}

/** The payload of a valid frame at `offset`, or undefined when there is none. */
function frameAt(bytes: Uint8Array, view: DataView, offset: number, checksum: FrameChecksum): Uint8Array | undefined {
  if (bytes.byteLength - offset < frameHeaderBytes) return undefined
  const length = view.getUint32(offset, true)
  const end = offset + frameHeaderBytes + length
  if (length === 0 || end > bytes.byteLength) return undefined
  const frame = bytes.subarray(offset, end)
  if (checksum(frame) !== view.getUint32(offset + 4, true)) return undefined
  return frame.subarray(frameHeaderBytes)
}

/** Splits a segment's bytes into frames and classifies what follows the valid prefix. */
export function scanFrames(bytes: Uint8Array, checksum: FrameChecksum): FrameScan {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const payloads: Uint8Array[] = []
  let offset = 0
  while (offset < bytes.byteLength) {
    const payload = frameAt(bytes, view, offset, checksum)
    if (payload === undefined) break
    payloads.push(payload)
    offset += frameHeaderBytes + payload.byteLength
  }
  if (offset === bytes.byteLength || zerosFrom(bytes, offset)) return { payloads, validBytes: offset, damage: undefined }
  // Damage at `offset`: corrupt if any valid frame starts later, else a torn tail.
  for (let probe = offset + 1; probe + frameHeaderBytes < bytes.byteLength; probe++) {
    if (frameAt(bytes, view, probe, checksum) !== undefined) return { payloads, validBytes: offset, damage: 'corrupt' }
  }
  return { payloads, validBytes: offset, damage: 'torn' }
}

/** True when every byte from `offset` on is zero (unwritten preallocated space). */
function zerosFrom(bytes: Uint8Array, offset: number): boolean {
  for (let i = offset; i < bytes.byteLength; i++) if (bytes[i] !== 0) return false
  return true
}
