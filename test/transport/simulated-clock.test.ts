import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { SimulatedClock } from '../../runtime/simulated-clock.ts'

describe('SimulatedClock', () => {
  test('starts at 0 and fires nothing until time moves', () => {
    const clock = new SimulatedClock()
    let fired = false
    clock.setTimeout(() => (fired = true), 0)
    expect(clock.now()).toBe(0)
    expect(fired).toBe(false)
    expect(clock.pendingTimers()).toBe(1)
    clock.advance(0)
    expect(fired).toBe(true)
    expect(clock.pendingTimers()).toBe(0)
  })

  test('fires timers in (due time, insertion order) order', () => {
    const clock = new SimulatedClock()
    const log: string[] = []
    clock.setTimeout(() => log.push('b@5'), 5)
    clock.setTimeout(() => log.push('a@1'), 1)
    clock.setTimeout(() => log.push('c@5'), 5)
    clock.setTimeout(() => log.push('d@3'), 3)
    clock.setTimeout(() => log.push('e@5'), 5)
    clock.advance(10)
    expect(log).toEqual(['a@1', 'd@3', 'b@5', 'c@5', 'e@5'])
    expect(clock.now()).toBe(10)
  })

  test('step fires the next timer and moves time to it; false when none is left', () => {
    const clock = new SimulatedClock()
    const seen: number[] = []
    clock.setTimeout(() => seen.push(clock.now()), 4)
    clock.setTimeout(() => seen.push(clock.now()), 9)
    expect(clock.nextDueMs()).toBe(4)
    expect(clock.step()).toBe(true)
    expect(clock.now()).toBe(4)
    expect(clock.step()).toBe(true)
    expect(clock.step()).toBe(false)
    expect(seen).toEqual([4, 9])
    expect(clock.now()).toBe(9)
  })

  test('clearTimeout cancels a timer; unknown handles are ignored', () => {
    const clock = new SimulatedClock()
    let fired = 0
    const handle = clock.setTimeout(() => fired++, 1)
    clock.setTimeout(() => fired++, 2)
    clock.clearTimeout(handle)
    clock.clearTimeout(handle)
    expect(clock.pendingTimers()).toBe(1)
    clock.advance(5)
    expect(fired).toBe(1)
  })

  test('advance fires timers set by callbacks when they fall due in the window', () => {
    const clock = new SimulatedClock()
    const log: number[] = []
    clock.setTimeout(() => {
      log.push(clock.now())
      clock.setTimeout(() => log.push(clock.now()), 2)
      clock.setTimeout(() => log.push(clock.now()), 20)
    }, 3)
    clock.advance(10)
    expect(log).toEqual([3, 5])
    expect(clock.now()).toBe(10)
    expect(clock.pendingTimers()).toBe(1)
    clock.advance(13)
    expect(log).toEqual([3, 5, 23])
  })

  test('negative and non-finite delays count as 0', () => {
    const clock = new SimulatedClock()
    const log: string[] = []
    clock.setTimeout(() => log.push('neg'), -5)
    clock.setTimeout(() => log.push('nan'), Number.NaN)
    clock.advance(0)
    expect(log).toEqual(['neg', 'nan'])
  })

  test('runUntilIdle fires everything, or only what is due within limitMs', () => {
    const clock = new SimulatedClock()
    const log: number[] = []
    for (const ms of [1, 50, 100, 1000]) clock.setTimeout(() => log.push(ms), ms)
    expect(clock.runUntilIdle(100)).toBe(3)
    expect(clock.now()).toBe(100)
    expect(clock.runUntilIdle()).toBe(1)
    expect(log).toEqual([1, 50, 100, 1000])
    expect(clock.now()).toBe(1000)
  })

  test('run drains promise continuations before the next timer; the synchronous methods do not', async () => {
    const observe = async (drive: (clock: SimulatedClock) => Promise<unknown>): Promise<boolean> => {
      const clock = new SimulatedClock()
      let continued = false
      let seenBySecond = false
      clock.setTimeout(() => void Promise.resolve().then(() => Promise.resolve()).then(() => (continued = true)), 1)
      clock.setTimeout(() => (seenBySecond = continued), 1)
      await drive(clock)
      return seenBySecond
    }
    expect(await observe(async (clock) => clock.run())).toBe(true)
    expect(await observe(async (clock) => clock.runUntilIdle())).toBe(false)
  })

  test('run(untilMs) stops at untilMs, fires timers set meanwhile, and runFor is relative', async () => {
    const clock = new SimulatedClock()
    const log: number[] = []
    clock.setTimeout(() => void Promise.resolve().then(() => clock.setTimeout(() => log.push(clock.now()), 1)), 2)
    clock.setTimeout(() => log.push(clock.now()), 10)
    expect(await clock.run(5)).toBe(2)
    expect(log).toEqual([3])
    expect(clock.now()).toBe(5)
    await clock.runFor(5)
    expect(log).toEqual([3, 10])
    expect(clock.now()).toBe(10)
  })

  test('the simulated clock and network never touch real time or randomness', () => {
    for (const file of ['../../runtime/simulated-clock.ts', '../../transport/simulated.ts']) {
      const code = readFileSync(new URL(file, import.meta.url), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
      expect(code).not.toMatch(/Date\.now|Math\.random|performance\.|setImmediate|globalThis|new Date/)
      // setTimeout appears only as the Clock method's declaration or a call on a clock.
      for (const match of code.matchAll(/(.{0,6})setTimeout\(/g)) expect(match[1]).toMatch(/\.$|^\s*$/)
    }
  })
})
