/**
 * What would happen if a host died now: a pure function of the view, the ring options and the
 * replica count. Placement is a pure function of the view, so the placement of the view without
 * the host is exactly the one the cluster would publish.
 */
import type { PointHasher } from '../hash.ts'
import { Placement, type RingOptions } from '../ring.ts'
import type { HostId, View } from '../view.ts'

/** Where the shards a host is primary of would go. */
export interface ShardMove {
  /** The new primary. */
  to: HostId
  shards: number
  /** Shards whose new primary already holds a warm replica (it was a backup). */
  warm: number
  /** Shards whose new primary holds no copy: their actors start from what it can recover. */
  cold: number
}

/** One actor the caller asked about (or the gateway has seen). */
export interface ActorMove {
  key: string
  shard: number
  /** Primary now and after the kill. */
  from: HostId
  to: HostId
  /** Owners (primary first, then backups) now and after. */
  ownersBefore: HostId[]
  ownersAfter: HostId[]
  /**
   * `moves-warm`: the primary dies and a backup with a warm replica takes over;
   * `moves-cold`: the primary dies and the new primary holds no copy;
   * `loses-backup`: the primary stays, a backup is replaced (re-replication);
   * `unaffected`: the host is not among its owners.
   */
  effect: 'moves-warm' | 'moves-cold' | 'loses-backup' | 'unaffected'
}

export interface WhatIfKill {
  host: HostId
  before: View
  after: View
  replicas: number
  shardCount: number
  /** Shards the host is primary of: they move. */
  primaryShards: number
  /** Shards the host backs up: each gets a new backup that must be filled. */
  backupShards: number
  moves: ShardMove[]
  /** Hosts that become backups of shards they did not hold, with how many shards each. */
  newBackups: Array<{ host: HostId; shards: number }>
  /** Share of the ring (by primary shards) per host, before and after. */
  ringShare: Array<{ host: HostId; before: number; after: number }>
  actors: ActorMove[]
}

export interface WhatIfKillInput {
  view: View
  host: HostId
  replicas: number
  ring: RingOptions
  hasher: PointHasher
  /** Actor keys (`Type/id`) to report one by one. */
  keys?: readonly string[]
}

/** Owners before and after removing `host` from the view; throws a RangeError when that makes no sense. */
export function whatIfKill(input: WhatIfKillInput): WhatIfKill {
  const { view, host, replicas, ring, hasher } = input
  if (!view.hosts.includes(host)) throw new RangeError(`no live host ${host} in view ${view.epoch} (hosts: ${view.hosts.join(', ') || 'none'})`)
  if (view.hosts.length === 1) throw new RangeError(`${host} is the last host: killing it leaves no host to move to`)
  const after: View = { epoch: view.epoch + 1, hosts: view.hosts.filter((h) => h !== host) }
  const now = Placement.build(view, ring, hasher)
  const next = Placement.build(after, ring, hasher)
  const copies = replicas + 1
  const moves = new Map<HostId, ShardMove>()
  const newBackups = new Map<HostId, number>()
  let primaryShards = 0
  let backupShards = 0
  for (let shard = 0; shard < ring.shardCount; shard++) {
    const before = now.ownersOfShard(shard, copies)
    const at = before.indexOf(host)
    if (at < 0) continue
    const owners = next.ownersOfShard(shard, copies)
    if (at === 0) {
      primaryShards++
      const to = owners[0]!
      const move = moves.get(to) ?? { to, shards: 0, warm: 0, cold: 0 }
      move.shards++
      if (before.includes(to)) move.warm++
      else move.cold++
      moves.set(to, move)
    } else {
      backupShards++
    }
    for (const owner of owners.slice(1)) if (!before.includes(owner)) newBackups.set(owner, (newBackups.get(owner) ?? 0) + 1)
  }
  const sharesBefore = now.shardsPerHost()
  const sharesAfter = next.shardsPerHost()
  const actors = (input.keys ?? []).map((key): ActorMove => {
    const shard = now.shardOf(key)
    const ownersBefore = now.ownersOfShard(shard, copies)
    const ownersAfter = next.ownersOfShard(shard, copies)
    const at = ownersBefore.indexOf(host)
    const effect = at < 0 ? 'unaffected' : at > 0 ? 'loses-backup' : ownersBefore.includes(ownersAfter[0]!) ? 'moves-warm' : 'moves-cold'
    return { key, shard, from: ownersBefore[0]!, to: ownersAfter[0]!, ownersBefore, ownersAfter, effect }
  })
  return {
    host,
    before: { epoch: view.epoch, hosts: [...view.hosts] },
    after,
    replicas,
    shardCount: ring.shardCount,
    primaryShards,
    backupShards,
    moves: [...moves.values()].sort((a, b) => b.shards - a.shards || (a.to < b.to ? -1 : 1)),
    newBackups: [...newBackups].map(([h, shards]) => ({ host: h, shards })).sort((a, b) => (a.host < b.host ? -1 : 1)),
    ringShare: view.hosts.map((h) => ({ host: h, before: (sharesBefore.get(h) ?? 0) / ring.shardCount, after: (sharesAfter.get(h) ?? 0) / ring.shardCount })),
    actors,
  }
}
