import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { isTroupeError } from '../../runtime/errors.ts'
import { FileJournalStorage } from '../../runtime/journal/file-storage.ts'
import { entryHeaderBytes, frameHeaderBytes, loadCrc32c, segmentHeader } from '../../runtime/journal/frame.ts'
import { rec } from './conformance.ts'
import { faultyFs, zeroCounts } from './faulty-fs.ts'
import { createdFrom, nodeJournalFs } from '../../runtime/journal/journal-fs.ts'

// Each test runs with small batches written by blocking calls (the default) and with every batch
// written asynchronously (blockingOpsMax 0): failures must look the same either way.
describe.each([
  { io: 'blocking for small batches', blockingOpsMax: 16 },
  { io: 'asynchronous only', blockingOpsMax: 0 },
])('file journal storage: group commit, segments, failures ($io)', ({ blockingOpsMax }) => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'troupe-journal-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  test('coalesces concurrent appends from many keys into few write + fdatasync pairs', async () => {
    const { fs, plan } = faultyFs()
    const storage = await FileJournalStorage.open({ dir, fs, blockingOpsMax, blockingAfterQuietMs: 0 })
    zeroCounts(plan)
    await Promise.all(Array.from({ length: 500 }, (_, i) => storage.append(`K/${i}`, [rec(1)])))
    expect(plan.syncs).toBeLessThanOrEqual(2)
    expect(plan.writes).toBe(plan.syncs)
    await storage.close()
  })

  test('splits a batch at batchOpsMax', async () => {
    const { fs, plan } = faultyFs()
    const storage = await FileJournalStorage.open({ dir, fs, batchOpsMax: 10, blockingOpsMax, blockingAfterQuietMs: 0 })
    zeroCounts(plan)
    await Promise.all(Array.from({ length: 100 }, (_, i) => storage.append(`K/${i}`, [rec(1)])))
    expect(plan.syncs).toBe(10)
    await storage.close()
  })

  test('rolls segments over at segmentBytesMax and deletes the ones compaction emptied', async () => {
    const storage = await FileJournalStorage.open({ dir, segmentBytesMax: 1024, blockingOpsMax, blockingAfterQuietMs: 0 })
    for (let seq = 1; seq <= 60; seq++) await storage.append('K/1', [rec(seq, 1, 'x'.repeat(40))])
    await storage.append('K/2', [rec(1)])
    const before = storage.segments().length
    expect(before).toBeGreaterThan(4)
    await storage.writeSnapshot('K/1', { seq: 50, epoch: 1, state: 'fifty' })
    await storage.compact('K/1', 50)
    expect(storage.segments().length).toBeLessThan(before)
    expect((await readdir(dir)).length).toBe(storage.segments().length)
    await storage.close()
    const reopened = await FileJournalStorage.open({ dir, segmentBytesMax: 1024, blockingOpsMax, blockingAfterQuietMs: 0 })
    expect((await reopened.read('K/1')).map((r) => r.seq)).toEqual([51, 52, 53, 54, 55, 56, 57, 58, 59, 60])
    expect(await reopened.read('K/2')).toEqual([rec(1)])
    expect(await reopened.readSnapshot('K/1')).toEqual({ seq: 50, epoch: 1, state: 'fifty' })
    await reopened.append('K/1', [rec(61)])
    await reopened.close()
  })

  test('a roll-over that fails (a full disk at the new segment\'s header) acknowledges nothing; the next append rolls first, never back into the old segment', async () => {
    const { fs, plan } = faultyFs()
    const storage = await FileJournalStorage.open({ dir, fs, segmentBytesMax: 1024, blockingOpsMax, blockingAfterQuietMs: 0 })
    let seq = 0
    while (storage.segments().length === 1) await storage.append('K/1', [rec(++seq, 1, 'x'.repeat(40))])
    const rolled = storage.segments().length
    const segmentBytes = async (id: number): Promise<Uint8Array> => new Uint8Array(await readFile(join(dir, `${String(id).padStart(12, '0')}.seg`)))
    // Fill the active segment close to its limit, then ask for a frame that does not fit.
    while ((await segmentBytes(rolled)).findLastIndex((b) => b !== 0) < 800) await storage.append('K/1', [rec(++seq, 1, 'x'.repeat(40))])
    const acked = seq
    const before = await segmentBytes(rolled)
    plan.writeError = 'ENOSPC'
    await expect(storage.append('K/1', [rec(acked + 1, 1, 'y'.repeat(400))])).rejects.toSatisfy((e: unknown) => isTroupeError(e, 'StorageFull'))
    plan.writeError = undefined
    expect(await segmentBytes(rolled)).toEqual(before) // nothing of it in the old segment
    // A small frame would still fit in the old segment, but the roll comes first.
    await storage.append('K/1', [rec(acked + 1, 1, 'small')])
    expect(storage.segments()).toHaveLength(rolled + 1)
    expect(await segmentBytes(rolled)).toEqual(before)
    await storage.close()
    const reopened = await FileJournalStorage.open({ dir, segmentBytesMax: 1024 })
    expect((await reopened.read('K/1')).map((r) => r.seq)).toEqual(Array.from({ length: acked + 1 }, (_, i) => i + 1))
    await reopened.close()
  })

  test('an installed snapshot drops records in older segments for good, and frees the segments they filled', async () => {
    const storage = await FileJournalStorage.open({ dir, segmentBytesMax: 1024, blockingOpsMax, blockingAfterQuietMs: 0 })
    for (let seq = 1; seq <= 60; seq++) await storage.append('K/1', [rec(seq, 1, 'x'.repeat(40))])
    await storage.writeSnapshot('K/1', { seq: 30, epoch: 1, state: 'thirty' })
    await storage.append('K/2', [rec(1)])
    const before = storage.segments().length
    expect(before).toBeGreaterThan(4)
    await storage.installSnapshot('K/1', { seq: 500, epoch: 2, state: 'caught up' })
    expect(storage.segments().length).toBeLessThan(before)
    expect((await readdir(dir)).length).toBe(storage.segments().length)
    await storage.append('K/1', [rec(501, 2)])
    await storage.close()
    for (let round = 0; round < 2; round++) {
      const reopened = await FileJournalStorage.open({ dir, segmentBytesMax: 1024, blockingOpsMax, blockingAfterQuietMs: 0 })
      expect(await reopened.read('K/1')).toEqual([rec(501, 2)])
      expect(await reopened.readSnapshot('K/1')).toEqual({ seq: 500, epoch: 2, state: 'caught up' })
      expect(await reopened.read('K/2')).toEqual([rec(1)])
      await expect(reopened.append('K/1', [rec(61, 2)])).rejects.toThrow()
      await reopened.close()
    }
  })

  test('an install that never reached the disk is not acknowledged and the old log stays', async () => {
    const { fs, plan } = faultyFs()
    const storage = await FileJournalStorage.open({ dir, fs, blockingOpsMax, blockingAfterQuietMs: 0 })
    await storage.append('K/1', [rec(1), rec(2)])
    plan.writeError = 'EIO'
    await expect(storage.installSnapshot('K/1', { seq: 9, epoch: 1, state: 9 })).rejects.toSatisfy((e: unknown) => isTroupeError(e, 'StorageFailed'))
    plan.writeError = undefined
    expect((await storage.read('K/1')).map((r) => r.seq)).toEqual([1, 2])
    expect(await storage.readSnapshot('K/1')).toBeUndefined()
    await storage.append('K/1', [rec(3)])
    await storage.close()
    const reopened = await FileJournalStorage.open({ dir })
    expect((await reopened.read('K/1')).map((r) => r.seq)).toEqual([1, 2, 3])
    await reopened.close()
  })

  test('a failed write rejects its whole batch with StorageFailed, then the journal writes again', async () => {
    const { fs, plan } = faultyFs()
    const storage = await FileJournalStorage.open({ dir, fs, blockingOpsMax, blockingAfterQuietMs: 0 })
    await storage.append('K/1', [rec(1)])
    plan.writeError = 'EIO'
    const results = await Promise.allSettled([storage.append('K/1', [rec(2)]), storage.append('K/2', [rec(1)])])
    for (const r of results) expect(r.status === 'rejected' && isTroupeError(r.reason, 'StorageFailed')).toBe(true)
    expect(await storage.read('K/1')).toEqual([rec(1)])
    expect(await storage.read('K/2')).toEqual([])
    plan.writeError = undefined
    await storage.append('K/1', [rec(2)])
    await storage.close()
    const reopened = await FileJournalStorage.open({ dir })
    expect((await reopened.read('K/1')).map((r) => r.seq)).toEqual([1, 2])
    expect(await reopened.keys()).toEqual(['K/1'])
    await reopened.close()
  })

  test('maps an injected ENOSPC to StorageFull', async () => {
    const { fs, plan } = faultyFs()
    const storage = await FileJournalStorage.open({ dir, fs, blockingOpsMax, blockingAfterQuietMs: 0 })
    plan.writeError = 'ENOSPC'
    await expect(storage.append('K/1', [rec(1)])).rejects.toSatisfy((e: unknown) => isTroupeError(e, 'StorageFull'))
    await storage.close()
  })

  test('a failed fdatasync poisons writes but reads go on; reopening recovers', async () => {
    const { fs, plan } = faultyFs()
    const storage = await FileJournalStorage.open({ dir, fs, blockingOpsMax, blockingAfterQuietMs: 0 })
    await storage.append('K/1', [rec(1)])
    plan.syncError = 'EIO'
    await expect(storage.append('K/1', [rec(2)])).rejects.toSatisfy((e: unknown) => isTroupeError(e, 'StorageFailed'))
    plan.syncError = undefined
    await expect(storage.append('K/1', [rec(2)])).rejects.toSatisfy((e: unknown) => isTroupeError(e, 'StorageFailed'))
    expect(await storage.read('K/1')).toEqual([rec(1)])
    await storage.close()
    const reopened = await FileJournalStorage.open({ dir })
    const seqs = (await reopened.read('K/1')).map((r) => r.seq)
    expect(seqs[0]).toBe(1) // record 2 may or may not have reached the disk; it was never acknowledged
    await reopened.close()
  })
})

describe('file journal storage: which I/O a batch uses', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'troupe-journal-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  test('a lone write is written and synced with blocking calls; a batch over blockingOpsMax, or over 64 KiB, asynchronously', async () => {
    const { fs, plan } = faultyFs()
    const storage = await FileJournalStorage.open({ dir, fs, blockingOpsMax: 4 })
    zeroCounts(plan)
    await storage.append('K/1', [rec(1)])
    expect([plan.blockingWrites, plan.blockingSyncs, plan.writes, plan.syncs]).toEqual([1, 1, 1, 1])
    await Promise.all(Array.from({ length: 20 }, (_, i) => storage.append(`K/${i + 2}`, [rec(1)])))
    expect(plan.blockingWrites).toBe(1)
    expect(plan.writes).toBe(2)
    // One write, but a frame over 64 KiB: never with blocking calls.
    await storage.append('K/big', [rec(1, 1, 'x'.repeat(100_000))])
    expect(plan.blockingWrites).toBe(1)
    expect(plan.writes).toBe(3)
    await storage.close()
    const reopened = await FileJournalStorage.open({ dir })
    expect((await reopened.keys()).length).toBe(22)
    await reopened.close()
  })

  test('a small batch right after another commit (a busy journal) is written asynchronously; after a quiet spell, with blocking calls', async () => {
    const { fs, plan } = faultyFs()
    let nowMs = 1000
    const storage = await FileJournalStorage.open({ dir, fs, blockingAfterQuietMs: 50, clock: { now: () => nowMs } })
    zeroCounts(plan)
    await storage.append('K/1', [rec(1)]) // the first commit: nothing before it
    expect([plan.blockingWrites, plan.writes]).toEqual([1, 1])
    nowMs += 10
    await storage.append('K/2', [rec(1)]) // 10 ms after it: busy
    expect([plan.blockingWrites, plan.writes]).toEqual([1, 2])
    nowMs += 60
    await storage.append('K/3', [rec(1)]) // quiet again
    expect([plan.blockingWrites, plan.writes]).toEqual([2, 3])
    await storage.close()
  })

  test('blockingOpsMax must be a non-negative integer, blockingAfterQuietMs a non-negative number', async () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      await expect(FileJournalStorage.open({ dir, blockingOpsMax: bad })).rejects.toThrow(/blockingOpsMax/)
    }
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(FileJournalStorage.open({ dir, blockingAfterQuietMs: bad })).rejects.toThrow(/blockingAfterQuietMs/)
    }
  })
})

describe('file journal storage: the on-disk format', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'troupe-format-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  test('a segment starts with its header, and every entry of a batch carries its own checksum', async () => {
    const storage = await FileJournalStorage.open({ dir })
    await Promise.all([
      storage.append('K/1', [rec(1), rec(2)]),
      storage.append('K/2', [rec(1)]),
      storage.writeSnapshot('K/1', { seq: 1, epoch: 1, state: 'at 1' }),
      storage.compact('K/1', 1),
    ])
    await storage.close()
    const [name] = await readdir(dir)
    const bytes = new Uint8Array(await readFile(join(dir, name!)))
    expect(bytes.subarray(0, segmentHeader.byteLength)).toEqual(segmentHeader)
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const crc = await loadCrc32c()
    let at = segmentHeader.byteLength
    const frameLength = view.getUint32(at + 4, true)
    expect(view.getUint32(at, true)).toBe(crc(bytes.subarray(at + 4, at + 8)))
    const end = at + frameHeaderBytes + frameLength
    at += frameHeaderBytes
    const kinds: number[] = []
    while (at < end) {
      const length = view.getUint32(at + 4, true)
      expect(view.getUint32(at, true), `entry at byte ${at}`).toBe(crc(bytes.subarray(at + 4, at + entryHeaderBytes + length)))
      kinds.push(bytes[at + entryHeaderBytes]!)
      at += entryHeaderBytes + length
    }
    expect(at).toBe(end) // the entries tile their frame: one frame for the whole batch
    expect(kinds).toEqual([1, 1, 1, 2, 3]) // three records, a snapshot, a compaction
    expect(bytes.subarray(end).every((b) => b === 0)).toBe(true) // then preallocated zeros
  })
})

describe('file journal storage: new directories are durable', () => {
  test('mkdir syncs the parent of every directory it creates, and of one that exists (a crash may have come before its sync)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'troupe-mkdir-'))
    try {
      const synced: string[] = []
      const fs = { ...nodeJournalFs, syncDir: async (dir: string) => { synced.push(dir) } }
      await fs.mkdir(join(root, 'data', 'host-0'))
      expect(synced).toEqual([root, join(root, 'data')])
      synced.length = 0
      await fs.mkdir(join(root, 'data', 'host-0'))
      await fs.mkdir(join(root, 'data', 'host-1'))
      expect(synced).toEqual([join(root, 'data'), join(root, 'data')])
      expect((await readdir(join(root, 'data'))).sort()).toEqual(['host-0', 'host-1'])
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  test('createdFrom lists the levels mkdir -p created, outermost first', () => {
    expect(createdFrom('/a/b', '/a/b/c/d')).toEqual(['/a/b', '/a/b/c', '/a/b/c/d'])
    expect(createdFrom('/a/b', '/a/b')).toEqual(['/a/b'])
  })
})
