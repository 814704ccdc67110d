/**
 * Pieces of `this.state` passed as arguments to another actor (a draft in a write turn, a
 * read-only view in a read): they travel as plain copies of their value at the call, on the
 * same host and across hosts. They used to fail with `Unserializable` (a proxy cannot be cloned).
 * Any argument is copied at the call: the first call of a turn used to carry a change the turn
 * made after it (that call leaves once the turn's intent is journaled).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Cluster } from '../index.ts'
import { Keeper, Shelf } from './fixtures/actors.ts'

const actors = new URL('./fixtures/actors.ts', import.meta.url)

describe('state passed as arguments through real worker threads', () => {
  let cluster: Cluster
  beforeAll(async () => { cluster = await Cluster.start({ actors, hosts: 2 }) })
  afterAll(async () => { await cluster?.stop() })

  /** A Keeper id on the Shelf's host (`same`) or on the other host. */
  function keeperFor(shelf: string, same: boolean): string {
    const home = cluster.ownerOf(Shelf, shelf)
    for (let i = 0; ; i++) if ((cluster.ownerOf(Keeper, `k-${shelf}-${i}`) === home) === same) return `k-${shelf}-${i}`
  }

  test.each([['on the same host', true], ['on the other host', false]])('%s: a write turn sends its state as it is at the call, and neither side sees the other\'s later changes', async (_where, same) => {
    const shelfId = `w-${same}`
    const keeperId = keeperFor(shelfId, same)
    expect(await cluster.actor(Shelf, shelfId).giveWhileWriting(keeperId)).toBe(4)
    expect(await cluster.actor(Keeper, keeperId).kept()).toEqual({
      items: [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 99 }], meta: { tag: 'changed by the keeper' }, byName: new Map([['a', 1]]),
    })
    expect(await cluster.actor(Shelf, shelfId).items()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }])
  })

  test.each([['on the same host', true], ['on the other host', false]])('%s: a read-only turn sends its state, which the keeper\'s changes do not reach', async (_where, same) => {
    const shelfId = `r-${same}`
    const keeperId = keeperFor(shelfId, same)
    expect(await cluster.actor(Shelf, shelfId).giveWhileReading(keeperId)).toBe(3)
    expect((await cluster.actor(Keeper, keeperId).kept())?.items).toEqual([{ n: 1 }, { n: 2 }, { n: 99 }])
    expect(await cluster.actor(Shelf, shelfId).items()).toEqual([{ n: 1 }, { n: 2 }])
  })

  test.each([['on the same host', true], ['on the other host', false]])('%s: arguments are copied at the call, also for the first call of a turn', async (_where, same) => {
    const shelfId = `m-${same}`
    expect(await cluster.actor(Shelf, shelfId).sendThenChange(keeperFor(shelfId, same))).toEqual([1, 10])
  })

  test('an argument that cannot be sent fails the call with Unserializable, also as the first call of a turn', async () => {
    expect(await cluster.actor(Shelf, 'f').sendFunction(keeperFor('f', false))).toBe('Unserializable')
    expect(await cluster.actor(Shelf, 'f').items()).toEqual([{ n: 1 }, { n: 2 }])
  })
})
