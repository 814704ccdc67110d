import fc from 'fast-check'
import { beforeAll, describe, expect, test } from 'vitest'
import { keyHash, loadPointHasher, type PointHasher } from '../runtime/hash.ts'
import { Placement, PlacementCache } from '../runtime/ring.ts'
import { SimulatedClock } from '../runtime/simulated-clock.ts'
import type { View } from '../runtime/view.ts'

const options = { shardCount: 4096, vnodesPerHost: 256 }
const fourHosts: View = { epoch: 1, hosts: ['host-0', 'host-1', 'host-2', 'host-3'] }
let hasher: PointHasher

beforeAll(async () => {
  hasher = await loadPointHasher()
})

describe('known-answer vectors (identical in every runtime)', () => {
  test('keyHash is MurmurHash3 x86_32 of the UTF-8 bytes, seed 0', () => {
    // '', 'a' and 'abc' are the reference implementation's published values.
    expect(keyHash('')).toBe(0)
    expect(keyHash('a')).toBe(0x3c2569b2)
    expect(keyHash('abc')).toBe(0xb3dd93fa)
    expect(keyHash('Counter/alice')).toBe(888530423)
    expect(keyHash('Counter/bob')).toBe(3545292456)
    expect(keyHash('Ünïcödé/ключ')).toBe(1434059945)
    expect(keyHash('Account/42')).toBe(1028924107)
  })

  test('ring points are the high word of xxhash64 (seed 0)', () => {
    expect(hasher('host-0#0')).toBe(2886434656)
    expect(hasher('shard#0')).toBe(1367533747)
    expect(hasher('host-3#255')).toBe(917804268)
  })

  test('a 4-host view places known keys on known owners', () => {
    const placement = Placement.build(fourHosts, options, hasher)
    const expected: Array<[string, number, string[]]> = [
      ['Counter/alice', 1527, ['host-1', 'host-0', 'host-3']],
      ['Counter/bob', 3752, ['host-0', 'host-2', 'host-1']],
      ['Counter/carol', 2948, ['host-3', 'host-0', 'host-1']],
      ['Account/1', 2399, ['host-1', 'host-2', 'host-0']],
      ['Account/2', 271, ['host-1', 'host-3', 'host-2']],
      ['ChatRoom/lobby', 2509, ['host-2', 'host-0', 'host-1']],
    ]
    for (const [key, shard, owners] of expected) {
      expect(placement.shardOf(key)).toBe(shard)
      expect(placement.owners(key, 3)).toEqual(owners)
      expect(placement.primary(key)).toBe(owners[0])
    }
  })
})

describe('placement properties', () => {
  test('owners(key, n) gives n distinct hosts of the view, primary first', () => {
    const placement = Placement.build({ epoch: 1, hosts: ['a', 'b', 'c', 'd', 'e'] }, options, hasher)
    fc.assert(fc.property(fc.string(), fc.integer({ min: 1, max: 5 }), (key, n) => {
      const owners = placement.owners(key, n)
      expect(owners).toHaveLength(n)
      expect(new Set(owners).size).toBe(n)
      expect(owners[0]).toBe(placement.primary(key))
    }), { numRuns: 500 })
  })

  test('on 12 hosts, owners(key, n) gives n distinct hosts for every n up to 8, and refuses more', () => {
    const hosts = Array.from({ length: 12 }, (_, i) => `h${i}`)
    const placement = Placement.build({ epoch: 1, hosts }, options, hasher)
    fc.assert(fc.property(fc.string(), fc.integer({ min: 1, max: 8 }), (key, n) => {
      const owners = placement.owners(key, n)
      expect(owners).toHaveLength(n)
      expect(new Set(owners).size).toBe(n)
      for (const owner of owners) expect(hosts).toContain(owner)
    }), { numRuns: 300 })
    for (const n of [9, 12, -1, 1.5, Number.NaN]) {
      expect(() => placement.owners('Counter/x', n)).toThrowError(expect.objectContaining({ kind: 'InvalidArgument' }))
    }
  })

  test('a bad view or bad ring options are refused with InvalidArgument', () => {
    const bad: Array<[unknown, unknown]> = [
      [{ epoch: 1, hosts: ['a', 'a', 'b'] }, options],
      [{ epoch: -1, hosts: ['a'] }, options],
      [{ epoch: 1, hosts: 'a,b' }, options],
      [{ epoch: 1, hosts: ['a', ''] }, options],
      [{ epoch: 1, hosts: ['a', 7] }, options],
      [null, options],
      [fourHosts, { shardCount: 0, vnodesPerHost: 256 }],
      [fourHosts, { shardCount: 4096, vnodesPerHost: 1.5 }],
      [fourHosts, { shardCount: '4096', vnodesPerHost: 256 }],
      [fourHosts, { shardCount: 2 ** 30, vnodesPerHost: 256 }],
      [fourHosts, null],
      [{ ...fourHosts, paused: 'all' }, options],
      [{ ...fourHosts, paused: [3, 2] }, options],
      [{ ...fourHosts, paused: [2, 2] }, options],
      [{ ...fourHosts, paused: [-1] }, options],
      [{ ...fourHosts, paused: [1.5] }, options],
      [{ ...fourHosts, paused: ['1'] }, options],
      [{ ...fourHosts, paused: [4096] }, options],
      [{ ...fourHosts, paused: [null] }, options],
    ]
    for (const [view, ringOptions] of bad) {
      expect(() => Placement.build(view as View, ringOptions as typeof options, hasher), JSON.stringify([view, ringOptions])).toThrowError(expect.objectContaining({ kind: 'InvalidArgument' }))
    }
  })

  test('a view pauses the shards it lists, and only those', () => {
    const placement = Placement.build({ ...fourHosts, paused: [7, 100] }, options, hasher)
    const keys = Array.from({ length: 20_000 }, (_, i) => `Counter/${i}`)
    const paused = keys.filter((key) => placement.isPaused(key))
    expect(paused.length).toBeGreaterThan(0)
    expect(new Set(paused.map((key) => placement.shardOf(key)))).toEqual(new Set([7, 100]))
    expect(keys.filter((key) => !placement.isPaused(key)).every((key) => ![7, 100].includes(placement.shardOf(key)))).toBe(true)
    // The same hosts in a newer view that pauses nothing: the owners are the same, nothing waits.
    const resumed = placement.withView({ epoch: 2, hosts: fourHosts.hosts })
    expect(keys.some((key) => resumed.isPaused(key))).toBe(false)
    expect(resumed.owners(paused[0]!, 3)).toEqual(placement.owners(paused[0]!, 3))
  })

  test('asking for more owners than hosts gives every host once', () => {
    const placement = Placement.build({ epoch: 1, hosts: ['a', 'b'] }, options, hasher)
    expect(placement.owners('Counter/x', 5).sort()).toEqual(['a', 'b'])
  })

  test('placement depends on the set of hosts, not their order in the view', () => {
    const a = Placement.build(fourHosts, options, hasher)
    const b = Placement.build({ epoch: 1, hosts: ['host-3', 'host-1', 'host-0', 'host-2'] }, options, hasher)
    for (let i = 0; i < 2000; i++) expect(b.owners(`K/${i}`, 3)).toEqual(a.owners(`K/${i}`, 3))
  })

  test('adding one host to n moves about 1/(n+1) of the keys, all of them to the new host', () => {
    const before = Placement.build(fourHosts, options, hasher)
    const after = Placement.build({ epoch: 2, hosts: [...fourHosts.hosts, 'host-4'] }, options, hasher)
    let moved = 0
    const keys = 20_000
    for (let i = 0; i < keys; i++) {
      const key = `Counter/${i}`
      if (before.primary(key) !== after.primary(key)) {
        moved++
        expect(after.primary(key)).toBe('host-4')
      }
    }
    expect(moved / keys).toBeGreaterThan(0.12)
    expect(moved / keys).toBeLessThan(0.28)
  })

  test('removing one host of n moves only its keys', () => {
    const before = Placement.build(fourHosts, options, hasher)
    const after = Placement.build({ epoch: 2, hosts: ['host-0', 'host-1', 'host-3'] }, options, hasher)
    for (let i = 0; i < 20_000; i++) {
      const key = `Counter/${i}`
      if (before.primary(key) !== 'host-2') expect(after.primary(key)).toBe(before.primary(key))
    }
  })

  test('the backup of a removed primary becomes the new primary (warm takeover)', () => {
    const before = Placement.build(fourHosts, options, hasher)
    const after = Placement.build({ epoch: 2, hosts: ['host-0', 'host-1', 'host-3'] }, options, hasher)
    for (let i = 0; i < 5000; i++) {
      const key = `Counter/${i}`
      const owners = before.owners(key, 2)
      if (owners[0] === 'host-2') expect(after.primary(key)).toBe(owners[1])
    }
  })

  test('shards spread within 1.15 of the mean on 4 hosts', () => {
    const counts = [...Placement.build(fourHosts, options, hasher).shardsPerHost().values()]
    expect(Math.max(...counts) / (options.shardCount / 4)).toBeLessThanOrEqual(1.15)
  })

  test('an empty view has no primary', () => {
    const placement = Placement.build({ epoch: 0, hosts: [] }, options, hasher)
    expect(placement.primary('Counter/x')).toBeUndefined()
  })
})

/** The placement rule spelled out plainly: every shard walks the sorted ring to its first distinct hosts. */
function referenceOwners(view: View, shardCount: number, vnodesPerHost: number, shard: number, hash: PointHasher): string[] {
  const points = view.hosts.flatMap((host) => Array.from({ length: vnodesPerHost }, (_, v) => ({ at: hash(`${host}#${v}`), host })))
  points.sort((a, b) => a.at - b.at || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0))
  const position = hash(`shard#${shard}`)
  let start = points.findIndex((p) => p.at >= position)
  if (start < 0) start = 0
  const owners: string[] = []
  for (let step = 0; step < points.length && owners.length < Math.min(view.hosts.length, 8); step++) {
    const host = points[(start + step) % points.length]!.host
    if (!owners.includes(host)) owners.push(host)
  }
  return owners
}

describe('Placement.build agrees with the plain rule', () => {
  test('for random views (hosts in any order, ids of any shape), every shard has the same owners', () => {
    const hostId = fc.oneof(fc.constantFrom('host-0', 'host-1', 'host-2', 'host-10', 'h', 'λ'), fc.string({ minLength: 1, maxLength: 8 }))
    fc.assert(fc.property(fc.uniqueArray(hostId, { minLength: 1, maxLength: 9 }), fc.integer({ min: 1, max: 16 }), (hosts, vnodes) => {
      const view: View = { epoch: 1, hosts }
      const placement = Placement.build(view, { shardCount: 64, vnodesPerHost: vnodes }, hasher)
      for (let shard = 0; shard < 64; shard++) {
        expect(placement.ownersOfShard(shard, 9)).toEqual(referenceOwners(view, 64, vnodes, shard, hasher))
      }
    }), { numRuns: 200 })
  })
})

/** MurmurHash3 x86_32 over bytes, written out plainly, as the reference for keyHash. */
function murmurReference(bytes: Uint8Array): number {
  const c1 = 0xcc9e2d51, c2 = 0x1b873593
  let h = 0
  const blocks = bytes.length & ~3
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)
    k = Math.imul(k, c1); k = (k << 15) | (k >>> 17); k = Math.imul(k, c2)
    h ^= k; h = (h << 13) | (h >>> 19); h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  let k = 0
  for (let i = bytes.length - 1; i >= blocks; i--) k = (k << 8) | bytes[i]!
  if (bytes.length & 3) { k = Math.imul(k, c1); k = (k << 15) | (k >>> 17); k = Math.imul(k, c2); h ^= k }
  h ^= bytes.length
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16
  return h >>> 0
}

test('keyHash agrees with plain MurmurHash3 of the UTF-8 bytes, whatever characters a key has and wherever', () => {
  const char = fc.oneof(fc.constantFrom('a', 'Z', '/', '0', '~', '\x7f', '\x80', 'é', 'λ', 'к', '😀', '\u0000'), fc.string({ minLength: 1, maxLength: 1 }))
  fc.assert(fc.property(fc.array(char, { maxLength: 40 }).map((chars) => chars.join('')), (key) => {
    expect(keyHash(key)).toBe(murmurReference(new TextEncoder().encode(key)))
  }), { numRuns: 2000 })
})

describe('PlacementCache', () => {
  const keys = Array.from({ length: 2000 }, (_, i) => `Counter/k${i}`)
  const sameOwners = (a: Placement, b: Placement): void => {
    for (const key of keys) expect(a.owners(key, 3)).toEqual(b.owners(key, 3))
  }

  test('a prepared view without one host places every key as a fresh build does, under the new view', () => {
    const cache = new PlacementCache(options, hasher)
    cache.get(fourHosts)
    const pending = cache.pending(fourHosts)
    expect(pending).toEqual([['host-1', 'host-2', 'host-3'], ['host-0', 'host-2', 'host-3'], ['host-0', 'host-1', 'host-3'], ['host-0', 'host-1', 'host-2']])
    for (const hosts of pending) cache.prepare(hosts)
    expect(cache.pending(fourHosts)).toEqual([])
    const next: View = { epoch: 2, hosts: ['host-0', 'host-1', 'host-3'] }
    const placement = cache.get(next)
    expect(placement.view).toBe(next)
    sameOwners(placement, Placement.build(next, options, hasher))
  })

  test('peek gives a prepared or built placement of a view and leaves the cache as it was', () => {
    const cache = new PlacementCache(options, hasher)
    cache.get(fourHosts)
    cache.prepare(['host-1', 'host-2', 'host-3'])
    const pending = cache.pending(fourHosts)
    const prepared: View = { epoch: 2, hosts: ['host-1', 'host-2', 'host-3'], paused: [5] }
    const peeked = cache.peek(prepared)
    expect(peeked.view).toBe(prepared)
    expect(peeked.paused).toEqual([5])
    sameOwners(peeked, Placement.build(prepared, options, hasher))
    const other: View = { epoch: 2, hosts: ['host-0', 'host-9'] }
    sameOwners(cache.peek(other), Placement.build(other, options, hasher))
    expect(cache.pending(fourHosts)).toEqual(pending)
  })

  test('a view not prepared is built on the spot; one with the same host list keeps the owners and takes the new epoch', () => {
    const cache = new PlacementCache(options, hasher)
    const first = cache.get(fourHosts)
    const grown: View = { epoch: 2, hosts: [...fourHosts.hosts, 'host-4'] }
    sameOwners(cache.get(grown), Placement.build(grown, options, hasher))
    const again = cache.get({ epoch: 3, hosts: [...grown.hosts] })
    expect(again.view.epoch).toBe(3)
    sameOwners(again, Placement.build(grown, options, hasher))
    expect(() => first.withView({ epoch: 9, hosts: ['host-0'] })).toThrow(/same host list/)
  })

  test('prepareLater builds the neighbours one per timer turn after the delay, and stops when another view comes', () => {
    const clock = new SimulatedClock()
    const cache = new PlacementCache(options, hasher)
    cache.get(fourHosts)
    cache.prepareLater(fourHosts, clock, 100)
    clock.advance(99)
    expect(cache.pending(fourHosts)).toHaveLength(4)
    // One per timer: each step fires one timer and builds one placement.
    expect(clock.step()).toBe(true)
    expect(cache.pending(fourHosts)).toHaveLength(3)
    expect(clock.step()).toBe(true)
    expect(cache.pending(fourHosts)).toHaveLength(2)
    const other: View = { epoch: 2, hosts: ['host-0', 'host-1'] }
    cache.get(other)
    clock.runUntilIdle()
    // The old view's preparation stopped; the new view's was never asked for.
    expect(cache.pending(other)).toHaveLength(2)
  })

  test('isOwner agrees with owners()', () => {
    const placement = Placement.build(fourHosts, options, hasher)
    for (const key of keys.slice(0, 500)) {
      for (const host of fourHosts.hosts) expect(placement.isOwner(key, host, 3)).toBe(placement.owners(key, 3).includes(host))
    }
  })
})
