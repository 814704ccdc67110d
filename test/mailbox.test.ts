import { describe, expect, test } from 'vitest'
import { Mailbox, type Job } from '../runtime/mailbox.ts'
import type { MethodMode } from '../runtime/registry.ts'

interface Probe { log: string[]; running: Set<string>; overlaps: string[][] }

function job(probe: Probe, name: string, mode: MethodMode, wait?: Promise<void>): Job {
  return {
    mode,
    start() {
      probe.log.push(`start ${name}`)
      probe.running.add(name)
      if (probe.running.size > 1) probe.overlaps.push([...probe.running].sort())
      if (!wait) {
        probe.running.delete(name)
        return undefined
      }
      return wait.then(() => {
        probe.running.delete(name)
        probe.log.push(`end ${name}`)
      })
    },
    reject() {
      probe.log.push(`rejected ${name}`)
    },
  }
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void
  const promise = new Promise<void>((resolve) => (open = resolve))
  return { promise, open }
}

const newProbe = (): Probe => ({ log: [], running: new Set(), overlaps: [] })

describe('Mailbox', () => {
  test('runs nothing until resumed, then everything in arrival order', () => {
    const probe = newProbe()
    const box = new Mailbox(100)
    for (const name of ['a', 'b', 'c']) box.offer(job(probe, name, 'write'))
    expect(probe.log).toEqual([])
    box.resume()
    expect(probe.log).toEqual(['start a', 'start b', 'start c'])
  })

  test('an async write holds the turn until it settles', async () => {
    const probe = newProbe()
    const box = new Mailbox(100)
    box.resume()
    const first = gate()
    box.offer(job(probe, 'slow', 'write', first.promise))
    box.offer(job(probe, 'next', 'write'))
    expect(probe.log).toEqual(['start slow'])
    first.open()
    await box.whenIdle()
    expect(probe.log).toEqual(['start slow', 'end slow', 'start next'])
  })

  test('reads run together but never beside a write', async () => {
    const probe = newProbe()
    const box = new Mailbox(100)
    box.resume()
    const g = gate()
    box.offer(job(probe, 'r1', 'read', g.promise))
    box.offer(job(probe, 'r2', 'read', g.promise))
    box.offer(job(probe, 'w', 'write', g.promise))
    box.offer(job(probe, 'r3', 'read', g.promise))
    expect(probe.log).toEqual(['start r1', 'start r2'])
    g.open()
    await box.whenIdle()
    expect(probe.overlaps).toEqual([['r1', 'r2']])
    expect(probe.log.indexOf('start w')).toBeGreaterThan(probe.log.indexOf('end r2'))
    expect(probe.log.indexOf('start r3')).toBeGreaterThan(probe.log.indexOf('end w'))
  })

  test('a reentrant job starts even while a write runs', () => {
    const probe = newProbe()
    const box = new Mailbox(100)
    box.resume()
    box.offer(job(probe, 'w', 'write', new Promise(() => {})))
    box.offer(job(probe, 're', 'reentrant'))
    expect(probe.log).toEqual(['start w', 'start re'])
  })

  test('refuses a job once depthMax are waiting', () => {
    const probe = newProbe()
    const box = new Mailbox(2)
    expect(box.offer(job(probe, 'a', 'write'))).toBe(true)
    expect(box.offer(job(probe, 'b', 'write'))).toBe(true)
    expect(box.offer(job(probe, 'c', 'write'))).toBe(false)
    expect(box.depth).toBe(2)
  })

  test('100,000 synchronous jobs run without deepening the stack', () => {
    const box = new Mailbox(200_000)
    let ran = 0
    for (let i = 0; i < 100_000; i++) box.offer({ mode: 'write', start: () => { ran++; return undefined }, reject: () => {} })
    box.resume()
    expect(ran).toBe(100_000)
    expect(box.idle).toBe(true)
  })

  test('drain hands back waiting jobs without running them', () => {
    const probe = newProbe()
    const box = new Mailbox(10)
    box.offer(job(probe, 'a', 'write'))
    box.offer(job(probe, 'b', 'write'))
    expect(box.drain()).toHaveLength(2)
    box.resume()
    expect(probe.log).toEqual([])
  })
})
