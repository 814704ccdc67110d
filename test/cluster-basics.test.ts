import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Cluster } from '../index.ts'
import { defaultSpinWaitUs, spinWaitUsDefault } from '../runtime/node/cluster.ts'
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
})

describe('spinWaitUs: client and hosts poll their ports before sleeping', () => {
  test('the default spins only when the client and every host can have a core of their own', () => {
    expect(defaultSpinWaitUs(1, 2)).toBe(spinWaitUsDefault)
    expect(defaultSpinWaitUs(3, 4)).toBe(spinWaitUsDefault)
    expect(defaultSpinWaitUs(2, 2)).toBe(0)
    expect(defaultSpinWaitUs(8, 4)).toBe(0)
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
      expect(await cluster.actor(Counter, 'x').increment()).toBe(1)
      const [host] = await cluster.hosts()
      expect(host).not.toHaveProperty('spinsCaught')
    } finally {
      await cluster.stop()
    }
  })
})
