import { beforeAll, describe, expect, test } from 'vitest'
import { loadPointHasher, type PointHasher } from '../runtime/hash.ts'
import { Placement } from '../runtime/ring.ts'
import { ShardHolders } from '../runtime/shard-holders.ts'
import type { HostId, View } from '../runtime/view.ts'

const options = { shardCount: 256, vnodesPerHost: 64 }
let hasher: PointHasher
beforeAll(async () => {
  hasher = await loadPointHasher()
})

function placementOf(epoch: number, hosts: HostId[]): Placement {
  return Placement.build({ epoch, hosts }, options, hasher)
}

/** The shards whose first `n` owners in `placement` are exactly `hosts` (any order). */
function shardsOwnedBy(placement: Placement, hosts: HostId[], n: number): number[] {
  const out: number[] = []
  for (let shard = 0; shard < placement.shardCount; shard++) {
    const owners = placement.ownersOfShard(shard, n)
    if (owners.length === hosts.length && hosts.every((h) => owners.includes(h))) out.push(shard)
  }
  return out
}

const all = ['host-0', 'host-1', 'host-2', 'host-3']

describe('ShardHolders: a shard whose every holder is down waits for them', () => {
  test('both owners of a shard down and restarting: the shard pauses; one of them down: nothing pauses', () => {
    const start = placementOf(1, all)
    const holders = new ShardHolders(start, 2)
    const down = new Set(['host-0'])
    expect(holders.next(placementOf(2, all.filter((h) => !down.has(h))), (h) => down.has(h))).toEqual([])
    down.add('host-3')
    const paused = holders.next(placementOf(3, all.filter((h) => !down.has(h))), (h) => down.has(h))
    expect(paused).toEqual(shardsOwnedBy(start, ['host-0', 'host-3'], 2))
    expect(paused.length).toBeGreaterThan(0)
  })

  test('hosts given up on (not restarting) are not waited for', () => {
    const holders = new ShardHolders(placementOf(1, all), 2)
    expect(holders.next(placementOf(2, ['host-1', 'host-2']), () => false)).toEqual([])
  })

  test('a paused shard resumes only once every awaited holder is back and the view is re-replicated', () => {
    const start = placementOf(1, all)
    const holders = new ShardHolders(start, 2)
    const awaited = new Set(['host-0', 'host-3'])
    const isAwaited = (h: HostId): boolean => awaited.has(h)
    const paused = holders.next(placementOf(2, ['host-1', 'host-2']), isAwaited)
    expect(paused.length).toBeGreaterThan(0)
    // A re-replication in the view without them resumes nothing (no holder of those shards is in it).
    expect(holders.replicated(placementOf(2, ['host-1', 'host-2']))).toBe(false)
    expect(holders.settled).toBe(false)
    const back0 = placementOf(3, ['host-1', 'host-2', 'host-0'])
    expect(holders.next(back0, isAwaited)).toEqual(paused)
    expect(holders.replicated(back0)).toBe(false)
    const backBoth = placementOf(4, ['host-1', 'host-2', 'host-0', 'host-3'])
    expect(holders.next(backBoth, isAwaited)).toEqual(paused)
    expect(holders.replicated(backBoth)).toBe(true)
    expect(holders.paused).toEqual([])
    // Its primary holds the holders' copies now; the other owners only after a run in the view that resumes it.
    expect(holders.settled).toBe(false)
    const resumedView = placementOf(5, backBoth.view.hosts as HostId[])
    expect(holders.next(resumedView, isAwaited)).toEqual([])
    expect(holders.replicated(resumedView)).toBe(false)
    expect(holders.settled).toBe(true)
  })

  test('until a run after it resumed, a resumed shard is held by its primary and the holders it waited for only', () => {
    const start = placementOf(1, all)
    const holders = new ShardHolders(start, 2)
    const awaited = new Set(['host-0', 'host-3'])
    const paused = holders.next(placementOf(2, ['host-1', 'host-2']), (h) => awaited.has(h))
    const back = placementOf(3, all)
    holders.next(back, (h) => awaited.has(h))
    expect(holders.replicated(back)).toBe(true)
    // Both holders go again before that run: their shards pause again (their owners got nothing pushed).
    expect(holders.next(placementOf(4, ['host-1', 'host-2']), (h) => awaited.has(h))).toEqual(paused)
  })

  test('a host that lost its disk holds nothing and is not waited for', () => {
    const start = placementOf(1, all)
    const holders = new ShardHolders(start, 2)
    holders.forget('host-0')
    // host-3 down and restarting: every shard it held with host-0 is paused, waiting for host-3 alone.
    const paused = holders.next(placementOf(2, ['host-0', 'host-1', 'host-2']), (h) => h === 'host-3')
    expect(paused).toEqual(shardsOwnedBy(start, ['host-0', 'host-3'], 2))
    // host-3 loses its disk too: nothing is left to wait for.
    holders.forget('host-3')
    expect(holders.paused).toEqual([])
  })

  test('an awaited holder given up on meanwhile: the shard resumes without it once none is left', () => {
    const holders = new ShardHolders(placementOf(1, all), 2)
    const awaited = new Set(['host-0', 'host-3'])
    const paused = holders.next(placementOf(2, ['host-1', 'host-2']), (h) => awaited.has(h))
    expect(paused.length).toBeGreaterThan(0)
    awaited.delete('host-0')
    expect(holders.next(placementOf(3, ['host-1', 'host-2']), (h) => awaited.has(h))).toEqual(paused)
    awaited.delete('host-3')
    expect(holders.next(placementOf(4, ['host-1', 'host-2']), (h) => awaited.has(h))).toEqual([])
  })

  test('a holder counts only while it stays an owner: owners that never got the copies do not hold the shard', () => {
    // host-0 down: host-1..3 own everything, but only the old owners still in the view hold each shard.
    const start = placementOf(1, all)
    const holders = new ShardHolders(start, 2)
    const isAwaited = (h: HostId): boolean => h === 'host-0' || h === 'host-3'
    holders.next(placementOf(2, ['host-1', 'host-2', 'host-3']), isAwaited)
    // Before any re-replication, host-3 goes too: the shards host-0 and host-3 held are paused,
    // though their new owners host-1/host-2 are up (they never got the copies).
    const paused = holders.next(placementOf(3, ['host-1', 'host-2']), isAwaited)
    expect(paused).toEqual(shardsOwnedBy(start, ['host-0', 'host-3'], 2))
  })

  test('after a complete re-replication the new owners hold the shards: losing the old ones then pauses nothing', () => {
    const holders = new ShardHolders(placementOf(1, all), 2)
    const isAwaited = (h: HostId): boolean => h === 'host-0' || h === 'host-3'
    const without0 = placementOf(2, ['host-1', 'host-2', 'host-3'])
    holders.next(without0, isAwaited)
    expect(holders.replicated(without0)).toBe(false)
    expect(holders.settled).toBe(true)
    // Now host-3 goes as well: every shard it owned has another owner that holds it.
    const paused = holders.next(placementOf(3, ['host-1', 'host-2']), isAwaited)
    expect(paused).toEqual([])
  })

  test('a view built from the paused list is valid and pauses exactly those shards', () => {
    const holders = new ShardHolders(placementOf(1, all), 2)
    const paused = holders.next(placementOf(2, ['host-1', 'host-2']), (h) => h === 'host-0' || h === 'host-3')
    const view: View = { epoch: 2, hosts: ['host-1', 'host-2'], paused }
    const placement = Placement.build(view, options, hasher)
    expect(placement.paused).toEqual(paused)
  })
})
