import { assert } from './assert.ts'
import { keyHash, loadPointHasher, type PointHasher } from './hash.ts'
import type { HostId, View } from './view.ts'

/** How many distinct owners per shard a placement precomputes (primary + up to 7 backups). */
export const ownersPerShardMax = 8

export interface RingOptions {
  shardCount: number
  vnodesPerHost: number
}

/**
 * Placement as a pure function of the view: actor keys hash onto a fixed number of shards
 * (MurmurHash3), and shards onto a consistent-hash ring of virtual nodes (xxhash64). Shards,
 * not actors, are what the ring places and moves, so a view change costs O(shards), and a
 * lookup is one JS hash plus an array read.
 */
export class Placement {
  readonly view: View
  readonly shardCount: number
  /** `owners[shard * width + i]`: index into view.hosts of the shard's i-th owner. */
  private readonly ownerTable: Int32Array
  private readonly width: number

  private constructor(view: View, shardCount: number, owners: Int32Array, width: number) {
    this.view = view
    this.shardCount = shardCount
    this.ownerTable = owners
    this.width = width
  }

  /** Builds the placement of `view`; loads hash-wasm on first use. */
  static async create(view: View, options: RingOptions): Promise<Placement> {
    return Placement.build(view, options, await loadPointHasher())
  }

  /** Builds the placement of `view` with an already loaded hasher (synchronous). */
  static build(view: View, options: RingOptions, hash: PointHasher): Placement {
    const { shardCount, vnodesPerHost } = options
    assert(Number.isInteger(shardCount) && shardCount > 0, 'shardCount must be a positive integer')
    assert(Number.isInteger(vnodesPerHost) && vnodesPerHost > 0, 'vnodesPerHost must be a positive integer')
    const hostCount = view.hosts.length
    const width = Math.min(hostCount, ownersPerShardMax)
    const owners = new Int32Array(shardCount * width).fill(-1)
    if (hostCount === 0) return new Placement(view, shardCount, owners, width)

    const ring = buildRing(view.hosts, vnodesPerHost, hash)
    const positions = shardPositions(shardCount, hash)
    const taken = new Uint8Array(hostCount)
    for (let shard = 0; shard < shardCount; shard++) {
      taken.fill(0)
      let found = 0
      let at = lowerBound(ring.points, positions[shard]!)
      for (let step = 0; step < ring.points.length && found < width; step++, at++) {
        const host = ring.hosts[at % ring.points.length]!
        if (taken[host]) continue
        taken[host] = 1
        owners[shard * width + found++] = host
      }
      assert(found === width, `shard ${shard} found ${found} of ${width} owners`)
    }
    return new Placement(view, shardCount, owners, width)
  }

  /** The shard an actor key belongs to. */
  shardOf(key: string): number {
    return keyHash(key) % this.shardCount
  }

  /** The primary host of an actor key, or undefined when the view has no hosts. */
  primary(key: string): HostId | undefined {
    return this.primaryOfShard(this.shardOf(key))
  }

  primaryOfShard(shard: number): HostId | undefined {
    if (this.width === 0) return undefined
    return this.view.hosts[this.ownerTable[shard * this.width]!]
  }

  /** Up to `n` distinct hosts for an actor key: primary first, then backups in ring order. */
  owners(key: string, n: number): HostId[] {
    return this.ownersOfShard(this.shardOf(key), n)
  }

  ownersOfShard(shard: number, n: number): HostId[] {
    assert(shard >= 0 && shard < this.shardCount, `shard ${shard} is out of range`)
    const count = Math.min(n, this.width)
    const out: HostId[] = []
    for (let i = 0; i < count; i++) out.push(this.view.hosts[this.ownerTable[shard * this.width + i]!]!)
    return out
  }

  /** How many shards each host is primary of. */
  shardsPerHost(): Map<HostId, number> {
    const counts = new Map<HostId, number>(this.view.hosts.map((h) => [h, 0]))
    for (let shard = 0; shard < this.shardCount; shard++) {
      const host = this.primaryOfShard(shard)!
      counts.set(host, counts.get(host)! + 1)
    }
    return counts
  }
}

interface Ring { points: Uint32Array; hosts: Int32Array }

function buildRing(hosts: readonly HostId[], vnodesPerHost: number, hash: PointHasher): Ring {
  const entries: Array<[number, number]> = []
  hosts.forEach((host, index) => {
    for (let v = 0; v < vnodesPerHost; v++) entries.push([hash(`${host}#${v}`), index])
  })
  // Ties broken by host id so the ring is the same whatever order the view lists hosts in.
  entries.sort((a, b) => a[0] - b[0] || (hosts[a[1]]! < hosts[b[1]]! ? -1 : 1))
  return {
    points: Uint32Array.from(entries, (e) => e[0]),
    hosts: Int32Array.from(entries, (e) => e[1]),
  }
}

const shardPositionCache = new Map<number, Uint32Array>()

function shardPositions(shardCount: number, hash: PointHasher): Uint32Array {
  let positions = shardPositionCache.get(shardCount)
  if (!positions) {
    positions = new Uint32Array(shardCount)
    for (let shard = 0; shard < shardCount; shard++) positions[shard] = hash(`shard#${shard}`)
    shardPositionCache.set(shardCount, positions)
  }
  return positions
}

/** First index whose point is >= value (wraps to points.length when none). */
function lowerBound(points: Uint32Array, value: number): number {
  let lo = 0, hi = points.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (points[mid]! < value) lo = mid + 1
    else hi = mid
  }
  return lo
}
