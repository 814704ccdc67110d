import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Cluster } from '../index.ts'
import { availableParallelism } from 'node:os'
import { clientSpins, hostSpins, spinAll, spinClient, spinNone, spinsByDefault } from '../runtime/node/spin-gate.ts'
import { Counter } from './fixtures/actors.ts'

const actors = new URL('./fixtures/actors.ts', import.meta.url)

describe('a cluster of 4 worker-thread hosts', () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await Cluster.start({ actors, hosts: 4 })
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  test('a call runs on the host the ring names and returns its result', async () => {
    const alice = cluster.actor(Counter, 'alice')
    expect(await alice.increment(2)).toBe(2)
    expect(await alice.increment()).toBe(3)
    expect(await alice.where()).toBe(cluster.ownerOf(Counter, 'alice'))
  })

  test('a per-call timeout shorter than the caller\'s sweep (1 s with the default callTimeoutMs) is kept', async () => {
    const settled: string[] = []
    const short = cluster.call('Faulty/short-timeout', 'sleep', [1500], { timeoutMs: 50 }).then(
      () => settled.push('short answered'),
      (error: { kind?: string }) => settled.push(`short ${error.kind}`),
    )
    const marker = cluster.call('Faulty/marker', 'sleep', [400]).then(() => settled.push('marker'))
    await Promise.all([short, marker])
    expect(settled).toEqual(['short CallTimeout', 'marker'])
  })
})

describe('spinWaitUs: client and hosts poll their ports before sleeping', () => {
  test('the default spins only when the client and every host can have a core of their own', () => {
    expect(spinsByDefault(1, 2)).toBe(true)
    expect(spinsByDefault(3, 4)).toBe(true)
    expect(spinsByDefault(2, 2)).toBe(false)
    expect(spinsByDefault(8, 4)).toBe(false)
  })

  test('when hosts share cores only the client spins, and only with one call in flight', () => {
    expect([0, 1, 2, 64, 65].map((n) => clientSpins(spinAll, n))).toEqual([false, true, true, true, false])
    expect([0, 1, 2].map((n) => clientSpins(spinClient, n))).toEqual([false, true, false])
    expect([0, 1].map((n) => clientSpins(spinNone, n))).toEqual([false, false])
    expect([spinAll, spinClient, spinNone].map(hostSpins)).toEqual([true, false, false])
  })

  test('by default spinning follows the membership (on this machine: 1 host, then 2); a spinWaitUs given spins whatever the count', async () => {
    const cores = availableParallelism()
    const expected = (hosts: number) => (spinsByDefault(hosts, cores) ? 'all' : 'client')
    const auto = await Cluster.start({ actors, hosts: 1, consistency: 'memory' })
    const fixed = await Cluster.start({ actors, hosts: 1, consistency: 'memory', spinWaitUs: 50 })
    try {
      expect(auto.spinning).toBe(expected(1))
      expect(fixed.spinning).toBe('all')
      await Promise.all([auto.addHost(), fixed.addHost()])
      expect(auto.spinning).toBe(expected(2))
      expect(fixed.spinning).toBe('all')
      expect(await auto.actor(Counter, 'after-join').increment()).toBe(1)
      if (!spinsByDefault(2, cores)) {
        // Gated to the client: no host spins any more, whatever it did before.
        const before = (await auto.hosts()).map((h) => [h.spinsCaught, h.spinsMissed])
        const client = auto.clientSpins
        for (let i = 0; i < 50; i++) await auto.actor(Counter, `quiet-${i}`).increment()
        expect((await auto.hosts()).map((h) => [h.spinsCaught, h.spinsMissed])).toEqual(before)
        // The client still spins for its one call in flight (caught or missed: the machine decides).
        const after = auto.clientSpins
        expect(after.caught + after.missed).toBeGreaterThan(client.caught + client.missed)
        // … but not with many in flight.
        const many = auto.clientSpins
        await Promise.all(Array.from({ length: 20 }, (_, i) => auto.actor(Counter, `busy-${i}`).increment()))
        expect(auto.clientSpins.caught + auto.clientSpins.missed).toBeLessThanOrEqual(many.caught + many.missed + 1)
      }
    } finally {
      await Promise.all([auto.stop(), fixed.stop()])
    }
  })

  test('with spinning on, calls one after another and all at once keep their order and counts, and the host catches calls by polling', async () => {
    const cluster = await Cluster.start({ actors, hosts: 1, consistency: 'memory', spinWaitUs: 2000 })
    try {
      const seq = cluster.actor(Counter, 'one-by-one')
      const seen: number[] = []
      for (let i = 0; i < 200; i++) seen.push(await seq.increment())
      expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
      const all = await Promise.all(Array.from({ length: 300 }, (_, i) => cluster.actor(Counter, `many-${i % 3}`).increment()))
      expect(all.length).toBe(300)
      expect(await Promise.all([0, 1, 2].map((i) => cluster.actor(Counter, `many-${i}`).get()))).toEqual([100, 100, 100])
      const [host] = await cluster.hosts()
      expect(host!.spinsCaught).toBeGreaterThan(0)
    } finally {
      await cluster.stop()
    }
  })

  test('with spinWaitUs 0 nothing spins', async () => {
    const cluster = await Cluster.start({ actors, hosts: 1, consistency: 'memory', spinWaitUs: 0 })
    try {
      expect(cluster.spinning).toBe('none')
      expect(await cluster.actor(Counter, 'x').increment()).toBe(1)
      const [host] = await cluster.hosts()
      expect(host).not.toHaveProperty('spinsCaught')
    } finally {
      await cluster.stop()
    }
  })
})
