import { describe, expect, test } from 'vitest'
import { AssertionError } from '../../runtime/assert.ts'
import type { Clock, TimerHandle } from '../../runtime/clock.ts'
import { isTroupeError } from '../../runtime/errors.ts'
import { seededRandom } from '../../runtime/random.ts'
import { SimulatedClock } from '../../runtime/simulated-clock.ts'
import { SimJournalDisk, SimJournalStorage, type DiskBehaviour } from '../../sim/journal-storage.ts'
import { describeConformance, rec } from '../journal/conformance.ts'

const normal: DiskBehaviour = { latencyMsMax: 2, slowLatencyMsMin: 20, slowLatencyMsMax: 400, corruptReadProbability: 0 }

/**
 * A simulated clock that runs itself: every timer set also schedules (on a real macrotask) a run
 * of the clock, so code that only awaits promises (the conformance suite) sees simulated fsyncs
 * complete without driving time by hand.
 */
function selfDrivingClock(): { clock: Clock; base: SimulatedClock } {
  const base = new SimulatedClock()
  const clock: Clock = {
    now: () => base.now(),
    setTimeout(fn: () => void, ms: number): TimerHandle {
      const handle = base.setTimeout(fn, ms)
      setImmediate(() => base.runUntilIdle())
      return handle
    },
    clearTimeout: (handle) => base.clearTimeout(handle),
  }
  return { clock, base }
}

let seed = 0
for (const [name, slow] of [['simulated', false], ['simulated (slow disk)', true]] as const) {
  describeConformance(name, {
    durable: true,
    async fresh() {
      const disk = new SimJournalDisk()
      const { clock } = selfDrivingClock()
      return {
        open: async () => {
          const storage = new SimJournalStorage(disk, clock, seededRandom(++seed), slow ? { ...normal, slowLatencyMsMax: 40 } : normal)
          storage.setSlow(slow)
          return storage
        },
        dispose: async () => {},
      }
    },
  })
}

describe('simulated journal storage', () => {
  const open = (disk: SimJournalDisk, clock: Clock, behaviour: DiskBehaviour = normal, random = seededRandom(1)): SimJournalStorage => new SimJournalStorage(disk, clock, random, behaviour)

  test('an append settles only when its fsync completes; writes issued meanwhile share the next fsync (group commit)', async () => {
    const clock = new SimulatedClock()
    const disk = new SimJournalDisk()
    const storage = open(disk, clock, { ...normal, slowLatencyMsMin: 50, slowLatencyMsMax: 50 })
    storage.setSlow(true)
    const settled: number[] = []
    void storage.append('K/1', [rec(1)]).then(() => settled.push(1))
    void storage.append('K/1', [rec(2)]).then(() => settled.push(2))
    void storage.append('K/2', [rec(1)]).then(() => settled.push(3))
    expect(disk.unsyncedWrites).toBe(3)
    await clock.runFor(49)
    expect(settled).toEqual([])
    await clock.runFor(1)
    expect(settled).toEqual([1, 2, 3])
    expect(storage.syncs).toBe(1)
    // While one fsync runs, new writes wait for the next, which starts as soon as it ends.
    void storage.append('K/1', [rec(3)]).then(() => settled.push(4))
    await clock.runFor(10)
    void storage.append('K/1', [rec(4)]).then(() => settled.push(5))
    await clock.runFor(40)
    expect(settled).toEqual([1, 2, 3, 4])
    await clock.runFor(50)
    expect(settled).toEqual([1, 2, 3, 4, 5])
    expect(storage.syncs).toBe(3)
  })

  test('a crash keeps synced records, a prefix of the unsynced ones, and never a gap; restart reads what is left', async () => {
    let sawLoss = false, sawKeep = false
    for (let s = 0; s < 40; s++) {
      const clock = new SimulatedClock()
      const disk = new SimJournalDisk()
      const storage = open(disk, clock, { ...normal, latencyMsMax: 0 })
      const acked: number[] = []
      for (let seq = 1; seq <= 3; seq++) void storage.append('K/1', [rec(seq)]).then(() => acked.push(seq))
      await clock.runFor(1)
      expect(acked).toEqual([1, 2, 3])
      for (let seq = 4; seq <= 8; seq++) void storage.append('K/1', [rec(seq)])
      storage.kill()
      const outcome = disk.crash(seededRandom(s))
      expect(outcome.kept + outcome.lost).toBe(5)
      sawLoss ||= outcome.lost > 0
      sawKeep ||= outcome.kept > 0
      const next = open(disk, clock)
      const reading = next.read('K/1')
      await clock.runFor(5)
      const seqs = (await reading).map((r) => r.seq)
      expect(seqs).toEqual(Array.from({ length: 3 + outcome.kept }, (_, i) => i + 1))
      // The log goes on from what survived.
      const after = next.append('K/1', [rec(4 + outcome.kept)])
      await clock.runFor(5)
      await after
    }
    expect(sawLoss && sawKeep).toBe(true)
  })

  test('a killed storage writes nothing and never settles; a new disk (lost with its host) is empty', async () => {
    const clock = new SimulatedClock()
    const disk = new SimJournalDisk()
    const storage = open(disk, clock)
    storage.kill()
    let settled = false
    void storage.append('K/1', [rec(1)]).finally(() => { settled = true })
    await clock.runFor(100)
    expect(settled).toBe(false)
    expect(disk.unsyncedWrites).toBe(0)
    expect(disk.keys()).toEqual([])
  })

  test('a corrupt read rejects with CorruptRecord and reports it; the next read may succeed', async () => {
    const clock = new SimulatedClock()
    const disk = new SimJournalDisk()
    const seen: string[] = []
    const writer = open(disk, clock)
    const appended = writer.append('K/1', [rec(1)])
    await clock.runFor(5)
    await appended
    const storage = new SimJournalStorage(disk, clock, seededRandom(2), { ...normal, corruptReadProbability: 1 }, (key) => seen.push(key))
    const read = storage.read('K/1')
    const outcome = read.then(() => 'ok', (error: unknown) => (isTroupeError(error, 'CorruptRecord') ? 'corrupt' : String(error)))
    await clock.runFor(5)
    expect(await outcome).toBe('corrupt')
    expect(seen).toEqual(['K/1'])
  })

  test('the planted lying fsync acknowledges writes a crash then loses', async () => {
    const clock = new SimulatedClock()
    const disk = new SimJournalDisk()
    disk.lyingSync = true
    const storage = open(disk, clock)
    const appended = storage.append('K/1', [rec(1)])
    await clock.runFor(5)
    await appended
    storage.kill()
    disk.crash(seededRandom(3))
    const next = open(disk, clock)
    const reading = next.read('K/1')
    await clock.runFor(5)
    expect(await reading).toHaveLength(0)
  })

  test('refuses a write that breaks the log with AssertionError, changing nothing', async () => {
    const clock = new SimulatedClock()
    const disk = new SimJournalDisk()
    const storage = open(disk, clock)
    await expect(storage.append('K/1', [rec(2)])).rejects.toThrow(AssertionError)
    expect(disk.unsyncedWrites).toBe(0)
  })
})
