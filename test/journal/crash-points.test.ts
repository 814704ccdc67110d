import { describe, expect, test } from 'vitest'
import { isTroupeError } from '../../runtime/errors.ts'
import { FileJournalStorage } from '../../runtime/journal/file-storage.ts'
import type { JournalRecord } from '../../runtime/journal/storage.ts'
import { nextInt, seededRandom, type Random } from '../../runtime/random.ts'
import { CrashFs } from './crash-fs.ts'

/**
 * Crash points: a workload of concurrent appends, snapshots, compactions (which delete segments)
 * and installs runs on a file system that knows what a power cut would keep (`CrashFs`), in some
 * configurations with writes (ENOSPC) or syncs (EIO, after which the journal is reopened) failing
 * now and then. Before every file operation the test draws crash images; each must open, hold
 * every record (with its contents) and snapshot acknowledged before that point, and take appends
 * again. A crash during that recovery is drawn too, and must recover the same way. Seeded: a
 * failure names its seed and point.
 */

const keys = ['A/1', 'A/2', 'B/1']
const dir = '/journal'

function record(seq: number, random: Random): JournalRecord {
  return { seq, epoch: 1, requestId: `r-${seq}`, patch: { pad: 'x'.repeat(nextInt(random, 160)) }, result: seq }
}

/** Per key, the seq every durable history reaches at least (records or snapshot). */
type Acked = ReadonlyMap<string, number>

interface CrashPoint {
  image: Map<string, Uint8Array>
  acked: Acked
  what: string
}

async function runWorkload(seed: number, segmentBytesMax: number, blockingOpsMax: number, failOneWriteIn: number, failOneSyncIn: number): Promise<CrashPoint[]> {
  const random = seededRandom(seed)
  const disk = new CrashFs(seededRandom(seed + 1))
  const acked = new Map<string, number>()
  const points: CrashPoint[] = []
  let op = 0
  disk.onOp = (what) => {
    op++
    for (let i = 0; i < 2; i++) points.push({ image: disk.crashImage(), acked: new Map(acked), what: `op ${op} (${what})` })
  }
  const open = (): Promise<FileJournalStorage> => FileJournalStorage.open({ dir, fs: disk.fs(), segmentBytesMax, blockingOpsMax, blockingAfterQuietMs: 0 })
  let storage = await open()
  disk.failOneWriteIn = failOneWriteIn
  disk.failOneSyncIn = failOneSyncIn
  const head = new Map(keys.map((k) => [k, 0]))
  let refused = 0
  const ack = (key: string, seq: number) => (): void => { acked.set(key, Math.max(acked.get(key) ?? 0, seq)) }
  for (let round = 0; round < 24; round++) {
    const writes: Promise<void>[] = []
    for (let n = 1 + nextInt(random, 4); n > 0; n--) {
      const key = keys[nextInt(random, keys.length)]!
      const seq = head.get(key)! + 1
      head.set(key, seq)
      writes.push(storage.append(key, [record(seq, random)]).then(ack(key, seq)))
    }
    const roll = nextInt(random, 8)
    const key = keys[nextInt(random, keys.length)]!
    if (roll === 0) {
      // A snapshot at the head, then compaction behind it: dead segments get deleted.
      const seq = head.get(key)!
      writes.push(storage.writeSnapshot(key, { seq, epoch: 1, state: `at ${seq}` }).then(() => storage.compact(key, seq)).then(ack(key, seq)))
    } else if (roll === 1) {
      // A catch-up install: the key jumps ahead, its earlier records dropped.
      const seq = head.get(key)! + 5
      head.set(key, seq)
      writes.push(storage.installSnapshot(key, { seq, epoch: 1, state: `installed at ${seq}` }).then(ack(key, seq)))
    }
    const results = await Promise.allSettled(writes)
    if (results.some((r) => r.status === 'rejected')) {
      // A failed batch rejects everything queued behind it too: go on from what the journal kept.
      refused++
      for (const r of results) if (r.status === 'rejected') expect(isTroupeError(r.reason, 'StorageFull') || isTroupeError(r.reason, 'StorageFailed'), String(r.reason)).toBe(true)
      if (results.some((r) => r.status === 'rejected' && String(r.reason).includes('fdatasync'))) {
        // A failed sync poisons the journal for writes: reopen it, as a restarted host would.
        await storage.close()
        disk.failOneSyncIn = 0
        storage = await open()
        disk.failOneSyncIn = failOneSyncIn
      }
      for (const k of keys) head.set(k, await headOf(storage, k))
    }
  }
  disk.failOneWriteIn = disk.failOneSyncIn = 0
  await storage.close()
  // Writes fail often enough that some batch fails in every seed.
  if (failOneWriteIn > 0) expect(refused).toBeGreaterThan(0)
  return points
}

/** The newest seq the journal holds for `key`: its last record, or its snapshot. */
async function headOf(storage: FileJournalStorage, key: string): Promise<number> {
  return Math.max((await storage.read(key)).at(-1)?.seq ?? 0, (await storage.readSnapshot(key))?.seq ?? 0)
}

/** Opens a crash image and checks it against what was acknowledged; then appends and reopens. */
async function recover(image: ReadonlyMap<string, Uint8Array>, acked: Acked, segmentBytesMax: number, random: Random, crashAgain: boolean): Promise<void> {
  const disk = new CrashFs(random, image)
  const again: Map<string, Uint8Array>[] = []
  if (crashAgain) disk.onOp = () => { if (nextInt(random, 3) === 0) again.push(disk.crashImage()) }
  const storage = await FileJournalStorage.open({ dir, fs: disk.fs(), segmentBytesMax })
  for (const key of keys) {
    const records = await storage.read(key) // contiguous, or it throws
    for (const r of records) expect([r.requestId, r.result], `${key} record ${r.seq}`).toEqual([`r-${r.seq}`, r.seq])
    const snapshot = await storage.readSnapshot(key)
    expect(await headOf(storage, key), `${key}: acknowledged up to ${acked.get(key) ?? 0}`).toBeGreaterThanOrEqual(acked.get(key) ?? 0)
    if (records.length > 0 && snapshot !== undefined) expect(records[0]!.seq).toBeLessThanOrEqual(snapshot.seq + 1)
  }
  const key = keys[0]!
  const next = await headOf(storage, key) + 1
  await storage.append(key, [record(next, random)])
  await storage.close()
  const reopened = await FileJournalStorage.open({ dir, fs: new CrashFs(random, disk.currentImage()).fs(), segmentBytesMax })
  expect((await reopened.read(key)).at(-1)?.seq).toBe(next)
  await reopened.close()
  for (const image of again) await recover(image, acked, segmentBytesMax, random, false)
}

describe('file journal: a crash at every file operation recovers every acknowledged write', () => {
  // By hand, more seeds per configuration: TROUPE_CRASH_SEEDS=50 npx vitest run test/journal/crash-points.test.ts
  const configs = [
    { segmentBytesMax: 300, blockingOpsMax: 16, failOneWriteIn: 0, failOneSyncIn: 0 },
    { segmentBytesMax: 300, blockingOpsMax: 0, failOneWriteIn: 0, failOneSyncIn: 0 },
    { segmentBytesMax: 2048, blockingOpsMax: 16, failOneWriteIn: 0, failOneSyncIn: 0 },
    { segmentBytesMax: 64 * 1024, blockingOpsMax: 0, failOneWriteIn: 0, failOneSyncIn: 0 },
    { segmentBytesMax: 300, blockingOpsMax: 16, failOneWriteIn: 6, failOneSyncIn: 0 },
    { segmentBytesMax: 700, blockingOpsMax: 0, failOneWriteIn: 4, failOneSyncIn: 0 },
    { segmentBytesMax: 500, blockingOpsMax: 16, failOneWriteIn: 0, failOneSyncIn: 12 },
  ]
  const seedsEach = Number(process.env.TROUPE_CRASH_SEEDS ?? 4)
  test.each(configs.flatMap((config, i) => Array.from({ length: seedsEach }, (_, s) => ({ seed: 1 + i + s * configs.length, ...config }))))('seed $seed, segments of $segmentBytesMax bytes, blockingOpsMax $blockingOpsMax, one write in $failOneWriteIn and one sync in $failOneSyncIn failing', async ({ seed, segmentBytesMax, blockingOpsMax, failOneWriteIn, failOneSyncIn }) => {
    const points = await runWorkload(seed, segmentBytesMax, blockingOpsMax, failOneWriteIn, failOneSyncIn)
    expect(points.length).toBeGreaterThan(100)
    const random = seededRandom(seed + 2)
    for (const [i, point] of points.entries()) {
      try {
        await recover(point.image, point.acked, segmentBytesMax, random, i % 4 === 0)
      } catch (error) {
        throw new Error(`seed ${seed}, crash point ${i} at ${point.what}: ${String(error)}`)
      }
    }
  })
})
