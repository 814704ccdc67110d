import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Cluster } from '../index.ts'
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
