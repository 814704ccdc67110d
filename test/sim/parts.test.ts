import { describe, expect, test } from 'vitest'
import { buggify, buggifyEnabled, buggifyStats, disableBuggify, enableBuggify } from '../../runtime/buggify.ts'
import { seededRandom } from '../../runtime/random.ts'
import { SimulatedClock } from '../../runtime/simulated-clock.ts'
import { HostClock } from '../../sim/host-clock.ts'
import { deriveSeed, QuietableRandom } from '../../sim/seed.ts'
import { SimDisk, SimStore, type DiskBehaviour } from '../../sim/storage.ts'

const fastDisk: DiskBehaviour = { latencyMsMax: 0, slowLatencyMsMin: 50, slowLatencyMsMax: 50, corruptReadProbability: 0, dropEverySave: 0 }

describe('simulated disk', () => {
  test('synced writes survive a crash; unsynced ones are lost or kept, never invented', () => {
    const disk = new SimDisk()
    disk.write('k', { n: 1 })
    disk.sync()
    disk.write('k', { n: 2 })
    const outcome = disk.crash(seededRandom(5))
    disk.recover()
    expect(outcome.lost + outcome.kept + outcome.torn).toBe(1)
    expect([{ n: 1 }, { n: 2 }]).toContainEqual(disk.read('k')?.value)
  })

  test('a torn last write is dropped at recovery, and the previous synced version is read', () => {
    let torn = 0
    for (let seed = 0; seed < 50 && torn === 0; seed++) {
      const disk = new SimDisk()
      disk.write('k', 'old')
      disk.sync()
      disk.write('k', 'new')
      torn = disk.crash(seededRandom(seed)).torn
      if (torn === 0) continue
      expect(disk.recover()).toBe(1)
      expect(disk.read('k')?.value).toBe('old')
    }
    expect(torn).toBe(1)
  })

  test('a slow store settles its save at the sync point, and a killed store writes nothing', async () => {
    const clock = new SimulatedClock()
    const disk = new SimDisk()
    const store = new SimStore(disk, clock, seededRandom(1), fastDisk, () => {})
    store.setSlow(true)
    let saved = false
    void (store.save('k', 1) as Promise<void>).then(() => { saved = true })
    expect(disk.unsyncedWrites).toBe(1)
    await clock.runFor(49)
    expect(saved).toBe(false)
    await clock.runFor(1)
    expect(saved).toBe(true)
    expect(disk.unsyncedWrites).toBe(0)
    store.kill()
    store.save('k', 2)
    expect(disk.read('k')?.value).toBe(1)
  })

  test('a corrupted read throws CorruptRecord and reports it', () => {
    const disk = new SimDisk()
    disk.write('k', 1)
    const seen: string[] = []
    const store = new SimStore(disk, new SimulatedClock(), seededRandom(1), { ...fastDisk, corruptReadProbability: 1 }, (key) => seen.push(key))
    expect(() => store.load('k')).toThrow(/checksum/)
    expect(seen).toEqual(['k'])
  })
})

describe('host clock', () => {
  test('a paused host clock runs its overdue timers at resume, in order; a killed one never', async () => {
    const base = new SimulatedClock()
    const clock = new HostClock(base)
    const fired: string[] = []
    clock.setTimeout(() => fired.push('a'), 10)
    clock.setTimeout(() => fired.push('b'), 20)
    clock.pause()
    await base.runFor(30)
    expect(fired).toEqual([])
    clock.resume()
    await base.runFor(1)
    expect(fired).toEqual(['a', 'b'])
    clock.setTimeout(() => fired.push('c'), 5)
    clock.kill()
    clock.setTimeout(() => fired.push('d'), 5)
    await base.runFor(10)
    expect(fired).toEqual(['a', 'b'])
    expect(base.pendingTimers()).toBe(0)
  })
})

describe('seeds', () => {
  test('component seeds differ by name and by world seed, and are stable', () => {
    expect(deriveSeed(1, 'network')).toBe(deriveSeed(1, 'network'))
    expect(deriveSeed(1, 'network')).not.toBe(deriveSeed(1, 'nemesis'))
    expect(deriveSeed(1, 'network')).not.toBe(deriveSeed(2, 'network'))
  })

  test('a quiet random answers the largest draw, and speaks again when unsilenced', () => {
    const random = new QuietableRandom(seededRandom(3))
    random.setQuiet(true)
    expect(random.uint32()).toBe(0xffffffff)
    random.setQuiet(false)
    expect(random.uint32()).toBe(seededRandom(3).uint32())
  })
})

describe('BUGGIFY', () => {
  test('is off, and always false, unless a simulation enables it', () => {
    expect(buggifyEnabled()).toBe(false)
    for (let i = 0; i < 100; i++) expect(buggify('anything')).toBe(false)
    expect(buggifyStats()).toEqual([])
  })

  test('fires enabled points with their probability, replaying exactly from the seed', () => {
    const run = (seed: number): boolean[] => {
      enableBuggify({ random: seededRandom(seed), points: { 'host.slow-reply': 0.5, 'host.never': 0 } })
      const out = Array.from({ length: 200 }, (_, i) => buggify(i % 2 === 0 ? 'host.slow-reply' : 'host.never'))
      disableBuggify()
      return out
    }
    const a = run(42)
    expect(run(42)).toEqual(a)
    expect(a.filter((x, i) => x && i % 2 === 1)).toEqual([])
    const fired = a.filter(Boolean).length
    expect(fired).toBeGreaterThan(30)
    expect(fired).toBeLessThan(70)
    expect(buggify('host.slow-reply')).toBe(false)
  })
})
