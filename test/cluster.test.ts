import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Cluster, isTroupeError, Placement } from '../index.ts'
import { Counter, Lifecycle, Log, Reader, Relay, Teller, Writer } from './fixtures/actors.ts'

const actors = new URL('./fixtures/actors.ts', import.meta.url)

describe('4 worker-thread hosts, 10,000 actors', () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await Cluster.start({ actors, hosts: 4 })
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  test('every call runs on the host the ring names, and actors spread within 1.15 of the mean', async () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `actor-${i}`)
    const where = await Promise.all(ids.map((id) => cluster.actor(Counter, id).where()))
    const placement = await Placement.create(cluster.view, { shardCount: 4096, vnodesPerHost: 256 })
    ids.forEach((id, i) => {
      expect(where[i]).toBe(cluster.ownerOf(Counter, id))
      expect(where[i]).toBe(placement.primary(`Counter/${id}`))
    })
    const hosts = await cluster.hosts()
    const counts = hosts.map((h) => h.activations)
    expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10_000)
    const mean = 10_000 / 4
    const perHost = new Map<string, number>()
    for (const host of where) perHost.set(host, (perHost.get(host) ?? 0) + 1)
    expect(perHost.size).toBe(4)
    expect(Math.max(...perHost.values()) / mean).toBeLessThanOrEqual(1.15)
  })

  test('1,000 concurrent increment(1) on one actor give exactly 1,000', async () => {
    const counter = cluster.actor(Counter, 'hot')
    const results = await Promise.all(Array.from({ length: 1000 }, () => counter.increment(1)))
    expect(await counter.get()).toBe(1000)
    // Turns ran one at a time: each saw a distinct count.
    expect(new Set(results).size).toBe(1000)
  })

  test("each caller's calls run in the order it sent them", async () => {
    const log = cluster.actor(Log, 'order')
    const sent = Array.from({ length: 300 }, (_, i) => log.append(`main:${i}`))
    const writers = ['w1', 'w2', 'w3'].map((id) => cluster.actor(Writer, id).writeMany('order', 200))
    await Promise.all([...sent, ...writers])
    const entries = await log.entries()
    expect(entries).toHaveLength(900)
    for (const caller of ['main', 'w1', 'w2', 'w3']) {
      const mine = entries.filter((e) => e.startsWith(`${caller}:`)).map((e) => Number(e.split(':')[1]))
      expect(mine).toEqual([...mine].sort((a, b) => a - b))
      expect(mine.length).toBeGreaterThan(0)
    }
  })

  test('an async method holds the turn until it settles', async () => {
    const log = cluster.actor(Log, 'async-turn')
    const slow = log.appendSlowly('first', 50)
    const fast = log.append('second')
    await Promise.all([slow, fast])
    expect(await log.entries()).toEqual(['first', 'second'])
  })

  test('read-only calls run together, never beside a write', async () => {
    const reader = cluster.actor(Reader, 'r')
    await Promise.all(Array.from({ length: 5 }, () => reader.slowRead(30)))
    expect(await reader.overlap()).toBeGreaterThan(1)
    await reader.resetOverlap()
    await Promise.all([reader.slowWrite(20), reader.slowRead(20), reader.slowWrite(20), reader.slowRead(20)])
    expect(await reader.overlap()).toBe(1)
  })

  test('calls chain across hosts: each hop runs on its own primary', async () => {
    const path = Array.from({ length: 8 }, (_, i) => `hop-${i}`)
    const visited = await cluster.actor(Relay, 'start').forward(path)
    expect(visited).toEqual(['start', ...path].map((id) => cluster.ownerOf(Relay, id)))
    expect(new Set(visited).size).toBeGreaterThan(1)
  })

  test('a long chain of write turns with long ids answers: the request ids it derives stay short', async () => {
    const path = Array.from({ length: 40 }, (_, i) => `a-rather-long-actor-id-for-hop-number-${i}`)
    const visited = await cluster.call(`Relay/${'chain-start-'.repeat(3)}`, 'forward', [path], { requestId: 'chain-1' })
    expect(visited).toHaveLength(41)
  })

  test('a call cycle A -> B -> A fails fast with Deadlock instead of hanging', async () => {
    const started = performance.now()
    const error = await cluster.actor(Relay, 'cycle-a').ping('cycle-b').catch((e: unknown) => e)
    expect(isTroupeError(error, 'Deadlock')).toBe(true)
    // Refused from the call chain the call carries, not by the fallback that refuses a call still
    // waiting after callTimeoutMs (30 s here: a bound no noisy machine comes near).
    expect(performance.now() - started).toBeLessThan(30_000)
    expect((error as Error).message).toContain('(Relay/cycle-a -> Relay/cycle-b -> Relay/cycle-a)')
    // Both actors keep serving.
    expect(await cluster.actor(Relay, 'cycle-a').hops()).toBe(0)
  })

  test('two transfers that wait on each other (A -> B while B -> A) fail fast, and no money is lost', async () => {
    const a = cluster.actor(Teller, 'dl-a')
    const b = cluster.actor(Teller, 'dl-b')
    const outcomes = await Promise.allSettled([a.transferSlowly('dl-b', 10, 10), b.transferSlowly('dl-a', 10, 80)])
    const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')
    // At least the later transfer sees the cycle; if the two deposits cross in flight, both do.
    expect(failed.length).toBeGreaterThanOrEqual(1)
    for (const f of failed) expect(isTroupeError(f.reason, 'Deadlock')).toBe(true)
    expect((await a.balance()) + (await b.balance())).toBe(200)
  })

  test('a cycle into a reentrant method interleaves instead', async () => {
    expect(await cluster.actor(Relay, 're-a').pingReentrant('re-b')).toBe(0)
  })
})

describe('passivation', () => {
  test('an idle actor is passivated, then reactivated with its state intact', async () => {
    const cluster = await Cluster.start({ actors, hosts: 2, limits: { idleTimeoutMs: 40 } })
    try {
      const actor = cluster.actor(Lifecycle, 'sleepy')
      expect(await actor.read()).toEqual({ activated: 1, deactivated: 0 })
      const counter = cluster.actor(Counter, 'sleepy')
      await counter.increment(5)
      // Both are passivated (their deactivation turns journaled) once the hosts count them.
      await waitFor(async () => {
        const hosts = await cluster.hosts()
        return hosts.every((h) => h.activations === 0) && hosts.reduce((n, h) => n + h.passivationsTotal, 0) >= 2
      })
      expect(await actor.read()).toEqual({ activated: 2, deactivated: 1 })
      expect(await counter.get()).toBe(5)
      expect(await counter.activations()).toBe(2)
    } finally {
      await cluster.stop()
    }
  })
})

async function waitFor(condition: () => Promise<boolean>, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await condition()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('condition never held')
}
