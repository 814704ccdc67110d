import { assert } from './assert.ts'
import type { Clock } from './clock.ts'
import { keyHash, loadPointHasher, type PointHasher } from './hash.ts'
import { TroupeError } from './errors.ts'
import { parseView, type HostId, type View } from './view.ts'

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
/**
 * Whether `view` pauses a shard past `shardCount`: well-formed for the codec (which does not know
 * the ring), but no view of this cluster. A host or client ignores it rather than throw on it.
 */
export function pausesUnknownShard(view: View, shardCount: number): boolean {
  return view.paused !== undefined && view.paused.length > 0 && view.paused.at(-1)! >= shardCount
}

export class Placement {
  readonly view: View
  readonly shardCount: number
  /** `owners[shard * width + i]`: index into view.hosts of the shard's i-th owner. */
  private readonly ownerTable: Int32Array
  private readonly width: number
  /** The view's paused shards (see `View.paused`), or undefined when none is. */
  private readonly pausedShards: ReadonlySet<number> | undefined

  private constructor(view: View, shardCount: number, owners: Int32Array, width: number) {
    this.view = view
    this.shardCount = shardCount
    this.ownerTable = owners
    this.width = width
    this.pausedShards = view.paused !== undefined && view.paused.length > 0 ? new Set(view.paused) : undefined
  }

  /** Builds the placement of `view`; loads hash-wasm on first use. Bad input throws `InvalidArgument`. */
  static async create(view: View, options: RingOptions): Promise<Placement> {
    return Placement.build(view, options, await loadPointHasher())
  }

  /** Builds the placement of `view` with an already loaded hasher (synchronous). Bad input throws `InvalidArgument`. */
  static build(view: View, options: RingOptions, hash: PointHasher): Placement {
    // Validated, but the caller's object is kept (callers compare placements' views by identity).
    // A view with a host listed twice would give an actor the same host as primary and backup.
    parseView(view)
    const { shardCount, vnodesPerHost } = (typeof options === 'object' && options !== null ? options : {}) as Partial<RingOptions>
    if (!isCount(shardCount, shardCountMax)) throw new TroupeError('InvalidArgument', `shardCount must be an integer from 1 to ${shardCountMax}`)
    if (!isCount(vnodesPerHost, vnodesPerHostMax)) throw new TroupeError('InvalidArgument', `vnodesPerHost must be an integer from 1 to ${vnodesPerHostMax}`)
    if (view.paused !== undefined && view.paused.length > 0 && view.paused.at(-1)! >= shardCount) throw new TroupeError('InvalidArgument', `view.paused names shard ${view.paused.at(-1)!}, but there are ${shardCount} shards`)
    const hostCount = view.hosts.length
    const width = Math.min(hostCount, ownersPerShardMax)
    const owners = new Int32Array(shardCount * width).fill(-1)
    if (hostCount === 0) return new Placement(view, shardCount, owners, width)

    const ring = buildRing(view.hosts, vnodesPerHost, hash)
    const successors = distinctSuccessors(ring, hostCount, width)
    // Shards in ring order, swept together with the ring points: one pass, no search per shard.
    const { positions, order } = shardPositions(shardCount, hash)
    const n = ring.points.length
    let at = 0
    for (let i = 0; i < shardCount; i++) {
      const shard = order[i]!
      while (at < n && ring.points[at]! < positions[shard]!) at++
      const from = (at % n) * width
      for (let k = 0; k < width; k++) owners[shard * width + k] = successors[from + k]!
    }
    return new Placement(view, shardCount, owners, width)
  }

  /** The same placement under another view with the same hosts in the same order (a newer epoch). */
  withView(view: View): Placement {
    assert(sameHostList(view.hosts, this.view.hosts), 'withView needs the same host list')
    return new Placement(view, this.shardCount, this.ownerTable, this.width)
  }

  /** Whether the view pauses the shard of an actor key: its calls wait for a view that resumes it. */
  isPaused(key: string): boolean {
    return this.pausedShards !== undefined && this.pausedShards.has(this.shardOf(key))
  }

  /** The view's paused shards, ascending. */
  get paused(): readonly number[] {
    return this.view.paused ?? []
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

  /**
   * Up to `n` distinct hosts for an actor key: primary first, then backups in ring order (fewer
   * when the view has fewer hosts). `n` is at most `ownersPerShardMax` (8: a primary and up to
   * seven backups, as `replicas` allows); more throws `InvalidArgument` rather than return fewer.
   */
  owners(key: string, n: number): HostId[] {
    if (!Number.isInteger(n) || n < 0 || n > ownersPerShardMax) throw new TroupeError('InvalidArgument', `owners(key, n) needs an integer n from 0 to ${ownersPerShardMax}, got ${String(n)}`)
    return this.ownersOfShard(this.shardOf(key), n)
  }

  /** Whether `host` is one of the first `n` owners of an actor key (no array built). */
  isOwner(key: string, host: HostId, n: number): boolean {
    return this.isOwnerOfShard(this.shardOf(key), host, n)
  }

  /** Whether `host` is one of the first `n` owners of a shard (no array built). */
  isOwnerOfShard(shard: number, host: HostId, n: number): boolean {
    const base = shard * this.width
    const count = Math.min(n, this.width)
    for (let i = 0; i < count; i++) if (this.view.hosts[this.ownerTable[base + i]!] === host) return true
    return false
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

/** Upper bounds of the ring options (a ring is built in memory on every view change). */
const shardCountMax = 1 << 20
const vnodesPerHostMax = 4096

function isCount(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= max
}

function sameHostList(a: readonly HostId[], b: readonly HostId[]): boolean {
  return a.length === b.length && a.every((host, i) => host === b[i])
}

/** Host lists up to this long get their one-host-less placements built ahead. */
const preparedHostsMax = 16

/**
 * Placements by host list. A failover publishes the view without one host, so after each view
 * `prepare` builds those ahead, off the critical path: adopting the failover view then costs no
 * ring build in the hosts taking over (nor in the client re-sending its calls). Holds the last
 * view's placement and its prepared neighbours only.
 */
export class PlacementCache {
  private readonly options: RingOptions
  private readonly hash: PointHasher
  private readonly byHosts = new Map<string, Placement>()
  private current: View | undefined

  constructor(options: RingOptions, hash: PointHasher) {
    this.options = options
    this.hash = hash
  }

  /** The placement of `view`: prepared or cached when its host list was seen, else built now. */
  get(view: View): Placement {
    const signature = view.hosts.join('\n')
    const known = this.byHosts.get(signature)
    const placement = known ? known.withView(view) : Placement.build(view, this.options, this.hash)
    // Only this view's list stays (its neighbours are prepared again for it).
    this.byHosts.clear()
    this.byHosts.set(signature, placement)
    this.current = view
    return placement
  }

  /** The placement of `view` as `get` gives it, leaving the cache as it is (a view about to be published). */
  peek(view: View): Placement {
    const known = this.byHosts.get(view.hosts.join('\n'))
    return known ? known.withView(view) : Placement.build(view, this.options, this.hash)
  }

  /**
   * Prepares the neighbours of `view` in the background: the first after `delayMs`, then one per
   * timer turn, so calls run in between. Stops once another view came.
   */
  prepareLater(view: View, clock: Clock, delayMs: number): void {
    const step = (): void => {
      if (this.current !== view) return
      const next = this.pending(view)[0]
      if (!next) return
      this.prepare(next)
      clock.setTimeout(step, 0)
    }
    clock.setTimeout(step, delayMs)
  }

  /** Host lists of the views that would drop one host of `view`, still to be prepared. */
  pending(view: View): HostId[][] {
    if (view.hosts.length > preparedHostsMax || view.hosts.length < 2) return []
    return view.hosts.map((gone) => view.hosts.filter((h) => h !== gone)).filter((hosts) => !this.byHosts.has(hosts.join('\n')))
  }

  /** Builds the placement of one host list from `pending` (one per call: each takes a fraction of a ms). */
  prepare(hosts: HostId[]): void {
    const signature = hosts.join('\n')
    if (!this.byHosts.has(signature)) this.byHosts.set(signature, Placement.build({ epoch: 0, hosts }, this.options, this.hash))
  }
}

interface Ring { points: Uint32Array; hosts: Int32Array }

function buildRing(hosts: readonly HostId[], vnodesPerHost: number, hash: PointHasher): Ring {
  // Each entry packs (point, rank of the host id) into one exact double, so a native numeric sort
  // orders by point with ties broken by host id: the ring is the same whatever order the view
  // lists hosts in. (A view change rebuilds every host's ring: this keeps it well under a ms.)
  assert(hosts.length <= rankLimit, `at most ${rankLimit} hosts`)
  const byId = hosts.map((host, index) => ({ host, index })).sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0))
  const indexOfRank = Int32Array.from(byId, (e) => e.index)
  const packed = new Float64Array(hosts.length * vnodesPerHost)
  byId.forEach(({ host }, rank) => {
    const points = vnodePoints(host, vnodesPerHost, hash)
    for (let v = 0; v < vnodesPerHost; v++) packed[rank * vnodesPerHost + v] = points[v]! * rankLimit + rank
  })
  packed.sort()
  const points = new Uint32Array(packed.length)
  const owners = new Int32Array(packed.length)
  for (let i = 0; i < packed.length; i++) {
    const rank = packed[i]! % rankLimit
    points[i] = (packed[i]! - rank) / rankLimit
    owners[i] = indexOfRank[rank]!
  }
  return { points, hosts: owners }
}

/** Host ranks packed below a 32-bit point in a double (2^32 * 2^16 < 2^53: exact). */
const rankLimit = 65536

/** A host's vnode positions depend only on its id: computed once per realm. */
const vnodePointCache = new Map<string, Uint32Array>()

function vnodePoints(host: HostId, vnodesPerHost: number, hash: PointHasher): Uint32Array {
  const cacheKey = `${vnodesPerHost}:${host}`
  let points = vnodePointCache.get(cacheKey)
  if (!points) {
    points = new Uint32Array(vnodesPerHost)
    for (let v = 0; v < vnodesPerHost; v++) points[v] = hash(`${host}#${v}`)
    // Bounded: a long-lived cluster that churns through many host ids must not grow this forever.
    if (vnodePointCache.size >= 1024) vnodePointCache.clear()
    vnodePointCache.set(cacheKey, points)
  }
  return points
}

/**
 * For each ring position, the first `width` distinct hosts met walking clockwise from it: the
 * owners of every shard that lands just before that point.
 */
function distinctSuccessors(ring: Ring, hostCount: number, width: number): Int32Array {
  const n = ring.points.length
  const successors = new Int32Array(n * width)
  const taken = new Uint8Array(hostCount)
  for (let start = 0; start < n; start++) {
    taken.fill(0)
    let found = 0
    for (let step = 0; step < n && found < width; step++) {
      const host = ring.hosts[(start + step) % n]!
      if (taken[host]) continue
      taken[host] = 1
      successors[start * width + found++] = host
    }
    assert(found === width, `ring position ${start} found ${found} of ${width} owners`)
  }
  return successors
}

interface ShardPositions { positions: Uint32Array; order: Int32Array }

/** The ring points hashed so far in this realm, by shard count and by `vnodes:host`. */
export interface PointCaches {
  shards: Array<[number, Uint32Array, Int32Array]>
  vnodes: Array<[string, Uint32Array]>
}

/**
 * The ring points this realm has hashed, to hand to a new worker: hashing 4,096 shard labels
 * in a cold worker is most of its first placement (hash-wasm, unoptimized code yet).
 */
export function pointCaches(hosts: readonly HostId[]): PointCaches {
  return {
    shards: [...shardPositionCache].map(([count, { positions, order }]) => [count, positions, order]),
    // Only the hosts the worker will place: the cache may hold many more after churn.
    vnodes: [...vnodePointCache].filter(([key]) => hosts.includes(key.slice(key.indexOf(':') + 1))),
  }
}

/** Adopts the ring points another realm of the same code hashed (see `pointCaches`). */
export function adoptPointCaches(caches: PointCaches): void {
  for (const [count, positions, order] of caches.shards) {
    assert(Number.isInteger(count) && positions instanceof Uint32Array && order instanceof Int32Array && positions.length === count && order.length === count, 'malformed shard position cache')
    shardPositionCache.set(count, { positions, order })
  }
  for (const [key, points] of caches.vnodes) {
    assert(typeof key === 'string' && points instanceof Uint32Array && points.length === Number(key.slice(0, key.indexOf(':'))), 'malformed vnode point cache')
    vnodePointCache.set(key, points)
  }
}

const shardPositionCache = new Map<number, ShardPositions>()

/** Each shard's ring position, and the shards sorted by it (computed once per shard count). */
function shardPositions(shardCount: number, hash: PointHasher): ShardPositions {
  let cached = shardPositionCache.get(shardCount)
  if (!cached) {
    const positions = new Uint32Array(shardCount)
    for (let shard = 0; shard < shardCount; shard++) positions[shard] = hash(`shard#${shard}`)
    const order = Int32Array.from({ length: shardCount }, (_, shard) => shard).sort((a, b) => positions[a]! - positions[b]! || a - b)
    shardPositionCache.set(shardCount, (cached = { positions, order }))
  }
  return cached
}
