import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { isTroupeError } from '../../runtime/errors.ts'
import { FileJournalStorage } from '../../runtime/journal/file-storage.ts'
import { entryHeaderBytes, frameHeaderBytes, loadCrc32c, sealEntry, sealFrame, segmentHeader, type Crc32c } from '../../runtime/journal/frame.ts'
import { segmentFile } from '../../runtime/journal/segment-log.ts'
import { v8Codec } from '../../runtime/journal/v8-codec.ts'
import { rec } from './conformance.ts'

/**
 * Damage behind valid checksums: frames and entries sealed with the journal's own `sealFrame`
 * and `sealEntry`, so they pass their checksums, holding entries the writer never makes.
 * Recovery must refuse each with `CorruptRecord` (never a crash, never a silent drop), also when
 * the frame is the last one: only a frame that fails a checksum (its own or an entry's) is a torn
 * tail, and that one is still truncated. Segments must start with this troupe's header.
 */

const kinds = { record: 1, snapshot: 2, compact: 3, install: 4 } as const
const key = 'Counter/alice'
const crc: Crc32c = await loadCrc32c()

interface EntrySpec {
  kind?: number
  key?: string | Uint8Array
  seq: number
  epoch?: number
  /** Default: the codec's bytes of the record (or snapshot) the seq and epoch describe; none for a compaction. */
  body?: Uint8Array
  /** Keep only this many bytes of the content, then seal it (a valid checksum over a short entry). */
  contentBytes?: number
  /** Overwrite the entry's length after sealing (so it no longer passes its checksum). */
  length?: number
}

/** One entry in the file format: `[checksum u32][length u32]` then `[kind u8][key length u16][key][seq f64][epoch f64][body]`. */
function entry(spec: EntrySpec): Uint8Array {
  const kind = spec.kind ?? kinds.record
  const keyBytes = typeof spec.key === 'object' ? spec.key : new TextEncoder().encode(spec.key ?? key)
  const epoch = spec.epoch ?? 1
  const value = kind === kinds.record ? rec(spec.seq, epoch) : { seq: spec.seq, epoch, state: `at ${spec.seq}` }
  const body = spec.body ?? (kind === kinds.compact ? new Uint8Array(0) : v8Codec.encode(value))
  let bytes = new Uint8Array(entryHeaderBytes + 3 + keyBytes.byteLength + 16 + body.byteLength)
  const view = new DataView(bytes.buffer)
  let at = entryHeaderBytes
  view.setUint8(at, kind)
  view.setUint16(at + 1, keyBytes.byteLength, true)
  bytes.set(keyBytes, at + 3)
  at += 3 + keyBytes.byteLength
  view.setFloat64(at, spec.seq, true)
  view.setFloat64(at + 8, kind === kinds.compact ? 0 : epoch, true)
  bytes.set(body, at + 16)
  if (spec.contentBytes !== undefined) bytes = bytes.slice(0, entryHeaderBytes + spec.contentBytes)
  sealEntry(bytes, 0, bytes.byteLength, crc)
  if (spec.length !== undefined) new DataView(bytes.buffer).setUint32(4, spec.length, true)
  return bytes
}

/** A frame holding `payload`, sealed as the journal seals its own. */
function frame(...payload: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(frameHeaderBytes + payload.reduce((n, p) => n + p.byteLength, 0))
  let at = frameHeaderBytes
  for (const p of payload) { bytes.set(p, at); at += p.byteLength }
  sealFrame(bytes, crc)
  return bytes
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const p of parts) { bytes.set(p, at); at += p.byteLength }
  return bytes
}

/** Two good frames: records 1 and 2 of `key`. */
const goodFrames = (): Uint8Array => concat(frame(entry({ seq: 1 })), frame(entry({ seq: 2 })))

/** A segment file holding `frames`, after the segment header. */
const segmentOf = (frames: Uint8Array): Uint8Array => concat(segmentHeader, frames)

describe('file journal recovery: damage behind a valid checksum', () => {
  let dir: string
  let segment: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-recovery-'))
    segment = join(dir, segmentFile(1))
  })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  /** The error opening a journal whose one segment holds `frames` (or is `file`, when given); asserts the segment was left as it was. */
  const openError = async (frames: Uint8Array, file = segmentOf(frames)): Promise<unknown> => {
    await writeFile(segment, file)
    let error: unknown
    try { await (await FileJournalStorage.open({ dir })).close() } catch (e) { error = e }
    expect(new Uint8Array(await readFile(segment))).toEqual(file)
    return error
  }
  const opened = async (frames: Uint8Array): Promise<FileJournalStorage> => {
    await writeFile(segment, segmentOf(frames))
    return FileJournalStorage.open({ dir })
  }
  const expectCorrupt = async (bytes: Uint8Array, what: string): Promise<void> => {
    const error = await openError(bytes)
    expect(isTroupeError(error, 'CorruptRecord'), `${what}: ${String(error)}`).toBe(true)
  }

  /** Opens segment 1 holding records 1 and 2 (`good`) then `tail`: the tail is cut, and the journal appends record 3 after them. */
  const expectTornTailCut = async (good: Uint8Array, tail: Uint8Array): Promise<void> => {
    const storage = await opened(concat(good, tail))
    expect((await storage.read(key)).map((r) => r.seq)).toEqual([1, 2])
    expect((await readFile(segment)).byteLength).toBe(segmentHeader.byteLength + good.byteLength)
    await storage.append(key, [rec(3)])
    await storage.close()
    const reopened = await FileJournalStorage.open({ dir })
    expect((await reopened.read(key)).map((r) => r.seq)).toEqual([1, 2, 3])
    await reopened.close()
  }

  test('the hand-built frames are what the journal writes: they open and read back', async () => {
    const storage = await opened(concat(goodFrames(),
      frame(entry({ seq: 3, epoch: 2 }), entry({ kind: kinds.snapshot, seq: 2, epoch: 1 }), entry({ kind: kinds.compact, seq: 2 }))))
    expect(await storage.read(key)).toEqual([rec(3, 2)])
    expect(await storage.readSnapshot(key)).toEqual({ seq: 2, epoch: 1, state: 'at 2' })
    await storage.append(key, [rec(4, 2)])
    await storage.close()
  })

  const damaged: [string, Uint8Array][] = [
    ['an unknown entry kind', entry({ kind: 9, seq: 3 })],
    ['entry kind 0', entry({ kind: 0, seq: 3 })],
    ['a key that is not UTF-8', entry({ key: Uint8Array.of(0x4b, 0xff, 0xfe), seq: 3 })],
    ['a key holding an encoded lone surrogate', entry({ key: Uint8Array.of(0x4b, 0xed, 0xa0, 0x80), seq: 3 })],
    ['an empty key', entry({ key: '', seq: 3 })],
    ['seq NaN', entry({ seq: Number.NaN })],
    ['seq 1.5', entry({ seq: 1.5 })],
    ['seq -1', entry({ kind: kinds.snapshot, seq: -1 })],
    ['seq 2^53', entry({ seq: 2 ** 53 })],
    ['a record at seq 0', entry({ key: 'Other/1', seq: 0 })],
    ['epoch NaN', entry({ seq: 3, epoch: Number.NaN })],
    ['epoch -1', entry({ seq: 3, epoch: -1 })],
    ['epoch Infinity', entry({ kind: kinds.install, seq: 9, epoch: Number.POSITIVE_INFINITY })],
    ['compact up to NaN', entry({ kind: kinds.compact, seq: Number.NaN })],
    ['an entry cut inside its kind and key length', entry({ seq: 3, contentBytes: 2 })],
    ['a key running past its entry', entry({ seq: 3, contentBytes: 3 + key.length - 2 })],
    ['seq and epoch running past their entry', entry({ seq: 3, contentBytes: 3 + key.length + 12 })],
    ['a compaction with a body', entry({ kind: kinds.compact, seq: 2, body: Uint8Array.of(1) })],
    ['a seq jump', entry({ seq: 4 })],
    ['a repeated seq', entry({ seq: 2 })],
    ['a falling epoch', entry({ seq: 3, epoch: 0 })],
  ]

  test.each(damaged)('%s, in the last frame, is CorruptRecord (not a torn tail)', async (what, bad) => {
    await expectCorrupt(concat(goodFrames(), frame(bad)), what)
  })

  test.each(damaged)('%s, in a middle frame, is CorruptRecord', async (what, bad) => {
    await expectCorrupt(concat(goodFrames(), frame(bad), frame(entry({ key: 'Other/1', seq: 1 }))), what)
  })

  test.each(damaged)('%s, after a good entry in the same frame, is CorruptRecord', async (what, bad) => {
    await expectCorrupt(concat(frame(entry({ seq: 1 })), frame(entry({ seq: 2 }), bad)), what)
  })

  test('epochs that fall are CorruptRecord: a record below a snapshot, a snapshot below the last one, an install below the head', async () => {
    const records = concat(frame(entry({ seq: 1, epoch: 2 })), frame(entry({ seq: 2, epoch: 3 })))
    await expectCorrupt(concat(records, frame(entry({ seq: 3, epoch: 2 }))), 'a record below the one before it')
    await expectCorrupt(concat(frame(entry({ kind: kinds.snapshot, seq: 0, epoch: 3 })), frame(entry({ seq: 1, epoch: 2 }))),
      'a record below the snapshot')
    await expectCorrupt(concat(records, frame(entry({ kind: kinds.install, seq: 2, epoch: 4 })), frame(entry({ seq: 3, epoch: 3 }))),
      'a record below the installed snapshot')
    await expectCorrupt(concat(records, frame(entry({ kind: kinds.snapshot, seq: 2, epoch: 3 })), frame(entry({ kind: kinds.snapshot, seq: 2, epoch: 2 }))),
      'a snapshot below the last snapshot')
    await expectCorrupt(concat(records, frame(entry({ kind: kinds.install, seq: 9, epoch: 2 }))), 'an install below the head')
    // A snapshot below the last record's epoch is fine (it is the state as of an older record), and so is an equal epoch.
    const storage = await opened(concat(records, frame(entry({ kind: kinds.snapshot, seq: 1, epoch: 2 }), entry({ seq: 3, epoch: 3 }))))
    expect((await storage.read(key)).map((r) => r.seq)).toEqual([1, 2, 3])
    await storage.close()
  })

  test('a seq jump across segments is CorruptRecord naming the segment that holds it', async () => {
    await writeFile(join(dir, segmentFile(2)), segmentOf(frame(entry({ seq: 5 }))))
    const error = await openError(goodFrames())
    expect(isTroupeError(error, 'CorruptRecord'), String(error)).toBe(true)
    expect(String(error)).toContain(`journal of ${key} jumps from seq 2 to 5, in journal segment ${join(dir, segmentFile(2))}`)
    expect((error as { actor?: unknown }).actor).toBe(key)
  })

  test('a segment that cannot be read (a directory in its place) is StorageFailed naming its path', async () => {
    await mkdir(join(dir, segmentFile(2)))
    const error = await openError(goodFrames())
    expect(isTroupeError(error, 'StorageFailed'), String(error)).toBe(true)
    expect(String(error)).toContain(`journal read of ${join(dir, segmentFile(2))} failed: EISDIR`)
  })

  test('a missing segment between two others is CorruptRecord naming it: compaction deletes only the oldest', async () => {
    // Segment 2 held other keys' records only: every key's seqs stay contiguous without it.
    await writeFile(join(dir, segmentFile(3)), segmentOf(frame(entry({ key: 'Counter/bob', seq: 1 }))))
    const error = await openError(goodFrames())
    expect(isTroupeError(error, 'CorruptRecord'), String(error)).toBe(true)
    expect(String(error)).toContain(`segment ${segmentFile(2)} is missing`)
  })

  test('a body that does not decode, or decodes to something else, is CorruptRecord when read', async () => {
    const garbage = Uint8Array.of(0xff, 0x0f, 0x99, 0x99, 0x99)
    const cases: [string, Uint8Array][] = [
      ['not the codec\'s bytes', garbage],
      ['an empty body', new Uint8Array(0)],
      ['a number', v8Codec.encode(42)],
      ['null', v8Codec.encode(null)],
      ['a record of another seq', v8Codec.encode(rec(7))],
      ['a record without requestId', v8Codec.encode({ seq: 3, epoch: 1, patch: 0, result: 0 })],
    ]
    for (const [what, body] of cases) {
      const storage = await opened(concat(goodFrames(), frame(entry({ seq: 3, body }))))
      await expect(storage.read(key), what).rejects.toSatisfy((e: unknown) => isTroupeError(e, 'CorruptRecord'))
      await expect(storage.read(key, 3), what).rejects.toSatisfy((e: unknown) => isTroupeError(e, 'CorruptRecord'))
      expect(await storage.read(key, 4)).toEqual([]) // reads that do not reach it are served
      await storage.close()
    }
    // An epoch is checked against the records read with it (the index keeps no epoch per record).
    const falling = await opened(concat(goodFrames(), frame(entry({ seq: 3, body: v8Codec.encode(rec(3, 0)) }))))
    await expect(falling.read(key)).rejects.toSatisfy((e: unknown) => isTroupeError(e, 'CorruptRecord'))
    await falling.close()
    for (const [what, body] of [...cases.slice(0, 4), ['a snapshot of another seq', v8Codec.encode({ seq: 1, epoch: 1, state: 0 })] as const]) {
      const storage = await opened(concat(goodFrames(), frame(entry({ kind: kinds.snapshot, seq: 2, body }))))
      await expect(storage.readSnapshot(key), what).rejects.toSatisfy((e: unknown) => isTroupeError(e, 'CorruptRecord'))
      expect(await storage.read(key)).toEqual([rec(1), rec(2)])
      await storage.close()
    }
  })

  test('the same damage behind a bad checksum, or in an incomplete last frame, is a torn tail: truncated, the journal goes on', async () => {
    const good = goodFrames()
    const broken = (f: Uint8Array, at: number): Uint8Array => { f[at]! ^= 0x01; return f }
    const entryBytes = entry({ seq: 3 }).byteLength
    const tails = [
      ...damaged.map(([, bad]) => broken(frame(bad), 4)), // the frame's length: its checksum fails
      ...damaged.map(([, bad]) => broken(frame(bad), frameHeaderBytes)), // the entry's checksum
      ...damaged.map(([, bad]) => broken(frame(bad), frameHeaderBytes + 9)), // the entry's content
      broken(frame(entry({ seq: 3 }), entry({ seq: 4 })), frameHeaderBytes + entryBytes + 12), // the second entry's content
      frame(entry({ seq: 3, length: entryBytes - entryHeaderBytes + 1 })), // an entry running past its frame
      frame(entry({ seq: 3, length: 0xffffffff })), // an entry of 4 GiB
      frame(entry({ seq: 3, length: 0 })), // an entry of no bytes
      frame(entry({ seq: 3 })).subarray(0, 20), // cut inside the frame
      frame(entry({ seq: 3 })).subarray(0, 5), // cut inside the header
    ]
    for (const tail of tails) await expectTornTailCut(good, tail)
  })

  test('an entry failing its checksum with a valid frame after it is CorruptRecord, and the error says where', async () => {
    const good = goodFrames()
    const bad = frame(entry({ seq: 3 }), entry({ seq: 4 }))
    const second = frameHeaderBytes + entry({ seq: 3 }).byteLength
    bad[second + 20]! ^= 0x10
    const error = await openError(concat(good, bad, frame(entry({ seq: 5 }))))
    expect(isTroupeError(error, 'CorruptRecord')).toBe(true)
    expect(String(error)).toContain(`byte ${segmentHeader.byteLength + good.byteLength + second}`)
  })

  test('a torn tail followed only by empty segments (a header, zeros) is truncated; followed by frames, it is CorruptRecord', async () => {
    const good = goodFrames()
    const torn = frame(entry({ seq: 3 })).subarray(0, 20)
    for (const empty of [segmentHeader, concat(segmentHeader, new Uint8Array(4096))]) {
      await writeFile(join(dir, segmentFile(2)), empty)
      await expectTornTailCut(good, torn)
      await rm(join(dir, segmentFile(2)))
    }
    await writeFile(join(dir, segmentFile(2)), segmentHeader)
    await writeFile(join(dir, segmentFile(3)), segmentOf(frame(entry({ seq: 3 }))))
    const error = await openError(concat(good, torn))
    expect(isTroupeError(error, 'CorruptRecord')).toBe(true)
    expect(String(error)).toContain(`segment ${segmentFile(3)} holds frames after it`)
  })

  test('a segment of another format is refused: no header, another version, or garbage where the header goes', async () => {
    const frames = goodFrames()
    const v2 = Uint8Array.from(segmentHeader)
    v2[4] = 2
    const cases: [string, Uint8Array, string][] = [
      ['frames without a header', frames, 'does not start with a troupe journal header'],
      ['version 2', concat(v2, frames), 'format version 2'],
      ['a short file that is not a header', Uint8Array.of(0x54, 0x52, 0x50, 0x4b), 'does not start'],
    ]
    for (const [what, file, message] of cases) {
      const error = await openError(frames, file)
      expect(isTroupeError(error, 'CorruptRecord'), what).toBe(true)
      expect(String(error), what).toContain(message)
    }
  })

  test('a newest segment whose header a crash cut (empty, a prefix of it, zeros, or some of its bytes never written) gets its header and takes appends', async () => {
    const holes = Uint8Array.from(segmentHeader)
    holes.fill(0, 1, 6) // written: its first and last bytes; the file grew over the rest
    for (const torn of [new Uint8Array(0), segmentHeader.subarray(0, 3), new Uint8Array(4096), holes, concat(segmentHeader.subarray(0, 4), new Uint8Array(4))]) {
      await writeFile(segment, segmentOf(goodFrames()))
      await writeFile(join(dir, segmentFile(2)), torn)
      const storage = await FileJournalStorage.open({ dir })
      expect((await storage.read(key)).map((r) => r.seq)).toEqual([1, 2])
      await storage.append(key, [rec(3)])
      await storage.close()
      expect(new Uint8Array(await readFile(join(dir, segmentFile(2)))).subarray(0, segmentHeader.byteLength)).toEqual(segmentHeader)
      const reopened = await FileJournalStorage.open({ dir })
      expect((await reopened.read(key)).map((r) => r.seq)).toEqual([1, 2, 3])
      await reopened.close()
      await rm(join(dir, segmentFile(2)))
    }
    // The same in a segment that is not the newest is damage in the middle of the log.
    await writeFile(join(dir, segmentFile(2)), new Uint8Array(0))
    await writeFile(join(dir, segmentFile(3)), segmentOf(frame(entry({ seq: 3 }))))
    expect(isTroupeError(await openError(goodFrames()), 'CorruptRecord')).toBe(true)
  })
})
