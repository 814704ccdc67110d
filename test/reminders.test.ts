import { describe, expect, test } from 'vitest'
import { Cluster, isTroupeError } from '../index.ts'
import { systemClock } from '../runtime/clock.ts'
import { Alarm, Sleeper } from './fixtures/actors.ts'

const actors = new URL('./fixtures/actors.ts', import.meta.url)

async function until(condition: () => Promise<boolean>, what: string, attempts = 300): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await condition()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`never happened: ${what}`)
}

const day = 24 * 3600 * 1000

describe('durable reminders on real workers', () => {
  test('a reminder or timer due in a month waits a month: delays past what platform timers keep (2^31 - 1 ms) do not fire at once', async () => {
    const cluster = await Cluster.start({ actors, hosts: 2 })
    try {
      const alarm = cluster.actor(Alarm, 'monthly')
      await alarm.every(30 * day)
      await alarm.once('later', Date.now() + 40 * day)
      await alarm.timerIn(30 * day)
      // What does fire, as a sign that time passed on the actor's host.
      await alarm.once('soon', Date.now() + 50)
      await alarm.timerIn(30)
      await until(async () => (await alarm.status()).fired.length >= 2, 'the short reminder and timer fired')
      await new Promise((resolve) => setTimeout(resolve, 200))
      const status = await alarm.status()
      expect(status.fired.sort()).toEqual(['soon', 'timer'])
      expect(status.ticks).toBe(1)
      expect(status.reminders.sort()).toEqual(['later', 'tick'])
    } finally {
      await cluster.stop()
    }
  })

  test('a reminder set by a later turn of an active actor fires on time, before one due later', async () => {
    const cluster = await Cluster.start({ actors, hosts: 2 })
    try {
      const alarm = cluster.actor(Alarm, 'active')
      expect((await alarm.status()).reminders).toEqual([])
      await alarm.once('first', Date.now() + 50)
      await until(async () => (await alarm.status()).fired.length === 1, 'a reminder set on an active actor fired')
      await alarm.every(60_000)
      await alarm.once('second', Date.now() + 50)
      await until(async () => (await alarm.status()).fired.length === 2, 'a reminder due before the armed one fired')
      expect((await alarm.status()).fired).toEqual(['first', 'second'])
    } finally {
      await cluster.stop()
    }
  })

  test('a reminder forgotten by a turn during which its tick came due stays forgotten; one set again to a due time that fired moves on', async () => {
    const cluster = await Cluster.start({ actors, hosts: 2 })
    try {
      const alarm = cluster.actor(Alarm, 'raced')
      await alarm.every(50)
      await until(async () => (await alarm.status()).ticks >= 1, 'the periodic reminder fired')
      expect(await alarm.stopAfter(300)).toEqual([])
      const ticks = (await alarm.status()).ticks
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(await alarm.status()).toMatchObject({ ticks, reminders: [] })
      // A one-shot fires; set again to the very same due time, it does not fire twice, nor stay due forever.
      const at = Date.now() + 50
      await alarm.once('fixed', at)
      await until(async () => (await alarm.status()).fired.includes('fixed'), 'the one-shot fired')
      await alarm.once('fixed', at)
      await until(async () => (await alarm.status()).reminders.length === 0, 'the one-shot set again moved on')
      expect((await alarm.status()).fired).toEqual(['fixed'])
    } finally {
      await cluster.stop()
    }
  })

  test('a reminder set by onDeactivate fires though nobody calls: the actor wakes by itself', async () => {
    const cluster = await Cluster.start({ actors, hosts: 2, limits: { idleTimeoutMs: 200 } })
    try {
      expect(await cluster.actor(Sleeper, 'z').hello()).toBe(0)
      const fired = async (): Promise<number> => (await cluster.hosts()).reduce((n, h) => n + h.remindersFired, 0)
      await until(async () => (await fired()) >= 1, 'the reminder set on passivation fired')
      expect(await cluster.actor(Sleeper, 'z').hello()).toBe(1)
    } finally {
      await cluster.stop()
    }
  })

  test('a view change that moves actors whose reminders and timers are firing brings no host down', async () => {
    const cluster = await Cluster.start({ actors, hosts: 3 })
    const downs: string[] = []
    cluster.on((event) => { if (event.kind === 'host-down') downs.push(event.reason) })
    try {
      const alarms = Array.from({ length: 24 }, (_, i) => cluster.actor(Alarm, `moving-${i}`))
      for (const alarm of alarms) {
        await alarm.every(10)
        await alarm.timerIn(5)
      }
      await until(async () => (await Promise.all(alarms.map((a) => a.status()))).every((s) => s.ticks >= 2), 'every alarm ticked')
      // Their turns' records are still on their way to the backups when the view moves them.
      await cluster.addHost()
      await new Promise((resolve) => setTimeout(resolve, 300))
      await cluster.drain('host-0')
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(downs).toEqual([])
      for (const status of await Promise.all(alarms.map((a) => a.status()))) {
        expect(status.reminders).toEqual(['tick'])
        expect(status.fired).toContain('timer')
      }
    } finally {
      await cluster.stop()
    }
  })

  test("the system clock's timer for 30 days neither fires now nor keeps the process alive, and clears", async () => {
    let fired = 0
    const kept = systemClock.setTimeout(() => fired++, 30 * day)
    const cleared = systemClock.setTimeout(() => fired++, 30 * day)
    systemClock.clearTimeout(cleared)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(fired).toBe(0)
    systemClock.clearTimeout(kept)
  })

  test('a reminder keeps firing after its host is killed (the new primary wakes the actor itself)', async () => {
    const cluster = await Cluster.start({ actors, hosts: 3 })
    try {
      const alarm = cluster.actor(Alarm, 'wake')
      expect(await alarm.every(50)).toEqual(['tick'])
      await until(async () => (await alarm.status()).ticks >= 2, 'ticks before the kill')
      const before = (await alarm.status()).ticks
      await cluster.kill(cluster.ownerOf(Alarm, 'wake')!)
      // Nobody calls the actor now: only the reminder can make it tick on its new host.
      await new Promise((resolve) => setTimeout(resolve, 600))
      const after = await alarm.status()
      expect(after.ticks).toBeGreaterThan(before + 2)
      expect(after.reminders).toEqual(['tick'])
      expect(await alarm.stop()).toEqual([])
    } finally {
      await cluster.stop()
    }
  })

  test('missed ticks coalesce: a host blocked for 20 periods fires once when it wakes, not 20 times', async () => {
    const cluster = await Cluster.start({ actors, hosts: 1, replicas: 0 })
    try {
      const alarm = cluster.actor(Alarm, 'sleepy')
      await alarm.every(25)
      await until(async () => (await alarm.status()).ticks >= 2, 'first ticks')
      await alarm.block(500)
      const woke = (await alarm.status()).ticks
      await new Promise((resolve) => setTimeout(resolve, 60))
      const later = (await alarm.status()).ticks
      expect(later - woke).toBeLessThanOrEqual(4)
    } finally {
      await cluster.stop()
    }
  })

  test('a one-shot reminder fires once; a timer runs as a turn; bad reminders are refused', async () => {
    const cluster = await Cluster.start({ actors, hosts: 2 })
    try {
      const alarm = cluster.actor(Alarm, 'once')
      await alarm.once('wake-up', Date.now() + 50)
      await alarm.timerIn(30)
      await until(async () => (await alarm.status()).fired.length === 2, 'reminder and timer fired')
      await new Promise((resolve) => setTimeout(resolve, 200))
      const status = await alarm.status()
      expect(status.fired.sort()).toEqual(['timer', 'wake-up'])
      expect(status.reminders).toEqual([])
      const error = await alarm.badReminder().catch((e: unknown) => e)
      expect(isTroupeError(error, 'InvalidArgument')).toBe(true)
    } finally {
      await cluster.stop()
    }
  })
})
