import { describe, expect, test } from 'vitest'
import { buggify, buggifyEnabled, buggifyStats, disableBuggify, enableBuggify } from '../../runtime/buggify.ts'
import { seededRandom } from '../../runtime/random.ts'
import { SimulatedClock } from '../../runtime/simulated-clock.ts'
import { HostClock } from '../../sim/host-clock.ts'
import { deriveSeed, QuietableRandom } from '../../sim/seed.ts'

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
