import { TroupeError } from '../errors.ts'
import type { ByteWriter } from './byte-writer.ts'
import type { JournalRecord } from './storage.ts'

/**
 * How journal values (records and snapshots, with their patch, result and state) become
 * bytes. Values may be anything structured clone supports: nested objects, arrays, Map, Set,
 * Date, undefined, bigint. The byte form is a platform choice (see `v8-codec.ts` for Node).
 */
export interface JournalCodec {
  /** Bytes for `value`; throws when the value cannot be encoded. */
  encode(value: unknown): Uint8Array
  /**
   * Optional, for speed: writes the bytes `encode(value)` returns at `out.pos` (throwing what
   * it throws), so a backend that gathers many values into one buffer allocates none per value.
   * `own`: `value` is a plain object with data properties that the journal just made itself
   * (a copy of a record or snapshot), which the codec may trust without checking.
   */
  encodeInto?(value: unknown, out: ByteWriter, own?: boolean): void
  /** Optional, for speed: `encodeInto` of the plain object `{ seq, epoch, requestId, patch, result }` of `record`'s values. */
  encodeRecordInto?(record: JournalRecord, out: ByteWriter): void
  /** The value `bytes` encode; throws when they are not a valid encoding. */
  decode(bytes: Uint8Array): unknown
}

/** Encodes `value` or throws `Unjournalable` naming the actor key. */
export function encodeValue(codec: JournalCodec, value: unknown, key: string): Uint8Array {
  try {
    return codec.encode(value)
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error)
    throw new TroupeError('Unjournalable', `cannot journal a value of ${key}: ${why}`, { actor: key })
  }
}

/** Decodes `bytes` or throws `CorruptRecord`: a record that passed its checksum but does not decode. */
export function decodeValue(codec: JournalCodec, bytes: Uint8Array, key: string): unknown {
  try {
    return codec.decode(bytes)
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error)
    throw new TroupeError('CorruptRecord', `a journal value of ${key} does not decode: ${why}`, { actor: key })
  }
}

/** Deep-copies a value the way structured clone does, refusing what it cannot copy with `Unjournalable`. */
export function cloneValue<T>(value: T, key: string): T {
  try {
    return structuredClone(value)
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error)
    throw new TroupeError('Unjournalable', `cannot journal a value of ${key}: ${why}`, { actor: key })
  }
}
