import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { isTroupeError } from '../../runtime/errors.ts'
import { FileJournalStorage } from '../../runtime/journal/file-storage.ts'
import { segmentHeader } from '../../runtime/journal/frame.ts'
import { rec } from './conformance.ts'
import { faultyFs } from './faulty-fs.ts'

/**
 * Crash and corruption: what recovery makes of a damaged segment. Policy under test (frame.ts):
 * damage with no valid frame after it is a torn tail and is truncated (it was never
 * acknowledged); damage followed by a valid frame is `CorruptRecord`, and no record is returned.
 */
describe('file journal recovery after crashes and corruption', () => {
  let dir: string
  let segment: string
  let original: Uint8Array
  /** Byte offsets where each of the 5 frames starts, plus the end. */
  let bounds: number[]

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-crash-'))
    const storage = await FileJournalStorage.open({ dir })
    for (let seq = 1; seq <= 5; seq++) await storage.append('Counter/alice', [rec(seq, 1, { add: seq })])
    await storage.close()
    segment = join(dir, (await readdir(dir))[0]!)
    // The data, without the zeros preallocated after it (see SegmentLog).
    const file = await readFile(segment)
    bounds = [segmentHeader.byteLength]
    const view = new DataView(file.buffer, file.byteOffset, file.byteLength)
    const lengthAt = (at: number): number => view.getUint32(at + 4, true) // [checksum u32][length u32]
    while (bounds[bounds.length - 1]! < file.byteLength && lengthAt(bounds[bounds.length - 1]!) > 0) bounds.push(bounds[bounds.length - 1]! + 8 + lengthAt(bounds[bounds.length - 1]!))
    expect(bounds).toHaveLength(6)
    original = file.subarray(0, bounds[5])
  })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  const recoveredSeqs = async (bytes: Uint8Array): Promise<number[]> => {
    await writeFile(segment, bytes)
    const storage = await FileJournalStorage.open({ dir })
    try { return (await storage.read('Counter/alice')).map((r) => r.seq) } finally { await storage.close() }
  }
  const openError = async (bytes: Uint8Array): Promise<unknown> => {
    await writeFile(segment, bytes)
    try { await (await FileJournalStorage.open({ dir })).close() } catch (error) { return error }
    return undefined
  }
  const flipped = (at: number, bit: number): Uint8Array => {
    const copy = Uint8Array.from(original)
    copy[at]! ^= 1 << bit
    return copy
  }

  test('a cut at every byte boundary of the last record recovers exactly the synced prefix', async () => {
    for (let cut = bounds[4]!; cut <= bounds[5]!; cut++) {
      const expected = cut === bounds[5] ? [1, 2, 3, 4, 5] : [1, 2, 3, 4]
      expect(await recoveredSeqs(original.subarray(0, cut))).toEqual(expected)
      expect((await readFile(segment)).byteLength).toBe(cut === bounds[5] ? cut : bounds[4])
    }
  })

  test('a cut at every byte of an install entry recovers either the old log or the installed snapshot alone', async () => {
    const storage = await FileJournalStorage.open({ dir })
    await storage.installSnapshot('Counter/alice', { seq: 50, epoch: 2, state: 'caught up' })
    await storage.close()
    const file = await readFile(segment)
    const installed = file.subarray(0, bounds[5]! + 8 + new DataView(file.buffer, file.byteOffset).getUint32(bounds[5]! + 4, true)) // without the zeros after it
    for (let cut = bounds[5]!; cut <= installed.byteLength; cut++) {
      await writeFile(segment, installed.subarray(0, cut))
      const reopened = await FileJournalStorage.open({ dir })
      const whole = cut === installed.byteLength
      expect((await reopened.read('Counter/alice')).map((r) => r.seq)).toEqual(whole ? [] : [1, 2, 3, 4, 5])
      expect((await reopened.readSnapshot('Counter/alice'))?.seq).toBe(whole ? 50 : undefined)
      await reopened.append('Counter/alice', [rec(whole ? 51 : 6, 2)])
      await reopened.close()
    }
  })

  test('after truncating a torn tail the journal appends where it left off', async () => {
    await writeFile(segment, original.subarray(0, bounds[5]! - 3))
    const storage = await FileJournalStorage.open({ dir })
    await storage.append('Counter/alice', [rec(5, 1, 'again')])
    await storage.append('Counter/alice', [rec(6)])
    await storage.close()
    const reopened = await FileJournalStorage.open({ dir })
    expect((await reopened.read('Counter/alice', 5)).map((r) => r.patch)).toEqual(['again', { n: 6 }])
    await reopened.close()
  })

  test('a bit flip anywhere in a middle record is CorruptRecord', async () => {
    for (let at = bounds[2]!; at < bounds[3]!; at++) {
      const error = await openError(flipped(at, at % 8))
      expect(isTroupeError(error, 'CorruptRecord'), `flip at byte ${at}`).toBe(true)
    }
  })

  test('a bit flip anywhere in the tail record is truncated as torn', async () => {
    for (let at = bounds[4]!; at < bounds[5]!; at++) {
      expect(await recoveredSeqs(flipped(at, (at * 3) % 8)), `flip at byte ${at}`).toEqual([1, 2, 3, 4])
    }
  })

  test('a zero-filled tail (preallocated space never written) is the clean end: nothing is lost and appends go on there', async () => {
    const padded = new Uint8Array(original.byteLength + 4096)
    padded.set(original)
    expect(await recoveredSeqs(padded)).toEqual([1, 2, 3, 4, 5])
    const storage = await FileJournalStorage.open({ dir })
    await storage.append('Counter/alice', [rec(6)])
    await storage.close()
    const file = await readFile(segment)
    expect(file.byteLength).toBeGreaterThanOrEqual(padded.byteLength) // written into the zeros, not after them
    expect(await recoveredSeqs(file)).toEqual([1, 2, 3, 4, 5, 6])
  })

  test('zeros with a valid frame after them are damage in the middle of the log: CorruptRecord', async () => {
    const gapped = new Uint8Array(original.byteLength + 64)
    gapped.set(original.subarray(0, bounds[4]))
    gapped.set(original.subarray(bounds[4]!), bounds[4]! + 64)
    expect(isTroupeError(await openError(gapped), 'CorruptRecord')).toBe(true)
  })

  test('a segment that is not the newest may end in preallocated zeros', async () => {
    const padded = new Uint8Array(original.byteLength + 4096)
    padded.set(original)
    await writeFile(join(dir, '000000000002.seg'), new Uint8Array(0))
    expect(await recoveredSeqs(padded)).toEqual([1, 2, 3, 4, 5])
  })

  test('the active segment keeps synced zeros ahead of its data, within the segment size limit', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'troupe-prealloc-'))
    try {
      const storage = await FileJournalStorage.open({ dir: fresh, segmentBytesMax: 256 * 1024 })
      for (let seq = 1; seq <= 3; seq++) await storage.append('Counter/alice', [rec(seq)])
      await storage.close() // waits for the preallocation under way
      const [name] = await readdir(fresh)
      const bytes = await readFile(join(fresh, name!))
      expect(bytes.byteLength).toBe(256 * 1024)
      const reopened = await FileJournalStorage.open({ dir: fresh, segmentBytesMax: 256 * 1024 })
      expect((await reopened.read('Counter/alice')).map((r) => r.seq)).toEqual([1, 2, 3])
      await reopened.close()
    } finally { await rm(fresh, { recursive: true, force: true }) }
  })

  test('damage at the end of a segment with frames in a newer segment is CorruptRecord; with only an empty one after it, a torn tail', async () => {
    const frames = new Uint8Array(segmentHeader.byteLength + bounds[1]! - bounds[0]!)
    frames.set(segmentHeader)
    frames.set(original.subarray(bounds[0], bounds[1]), segmentHeader.byteLength)
    await writeFile(join(dir, '000000000002.seg'), frames)
    const error = await openError(original.subarray(0, bounds[5]! - 1))
    expect(isTroupeError(error, 'CorruptRecord')).toBe(true)
    await writeFile(join(dir, '000000000002.seg'), new Uint8Array(0)) // created by a roll-over, nothing in it
    expect(await recoveredSeqs(original.subarray(0, bounds[5]! - 1))).toEqual([1, 2, 3, 4])
  })

  test('a full disk (writes to /dev/full) refuses with StorageFull, acknowledges nothing, keeps serving reads', async () => {
    const { fs, plan } = faultyFs()
    const storage = await FileJournalStorage.open({ dir, fs })
    plan.diskFull = true
    const results = await Promise.allSettled([
      storage.append('Counter/alice', [rec(6)]),
      storage.append('Counter/bob', [rec(1)]),
      storage.writeSnapshot('Counter/alice', { seq: 5, epoch: 1, state: 15 }),
    ])
    for (const r of results) expect(r.status === 'rejected' && isTroupeError(r.reason, 'StorageFull')).toBe(true)
    expect((await storage.read('Counter/alice')).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5])
    expect(await storage.read('Counter/bob')).toEqual([])
    expect(await storage.readSnapshot('Counter/alice')).toBeUndefined()
    expect(await readFile(segment)).toEqual(original)
    plan.diskFull = false
    await storage.append('Counter/alice', [rec(6)])
    await storage.close()
    expect(await recoveredSeqs(await readFile(segment))).toEqual([1, 2, 3, 4, 5, 6])
  })
})
