import type { Placement } from './ring.ts'
import type { HostId } from './view.ts'

/**
 * Which hosts hold every acknowledged write of each shard's actors, as the supervisor knows it:
 * the owners of the last view every host re-replicated for, less those that left the shard's
 * owners since (a host that stops owning a shard stops getting its writes).
 *
 * When a view leaves a shard with no owner that holds it (its holders are down, restarting on
 * their disks, or up but no longer owners, after changes too quick for a re-replication between
 * them), the view pauses the shard: a call would otherwise start its actor over on a host that
 * holds nothing of it, and that newer history would win over the holders' copies once they are
 * back (Kafka calls the alternative an unclean leader election). A paused shard's holders offer
 * their copies to its primary, and it resumes once every holder it waits for is in the view and
 * every host re-replicated for that view. A holder given up for good is no longer waited for:
 * with none left the shard resumes without them (its writes are lost, as they are today).
 *
 * Counted for `strong` writes, which every owner of the view holds. A `quorum` or `local` write
 * may be on fewer owners, so a paused shard waits for all of its holders, not the first.
 */
export class ShardHolders {
  private readonly ownerCount: number
  /** Per shard: the hosts known to hold it. */
  private readonly holders: HostId[][]
  /** Paused shards: the holders they wait for. */
  private readonly awaiting = new Map<number, HostId[]>()
  /** Paused shards that resumed with no holder left (see `takeLost`). */
  private lost = 0
  /** Whether some shard's holders are not its owners (a re-replication would change them). */
  private unsettled = false

  constructor(placement: Placement, ownerCount: number) {
    this.ownerCount = ownerCount
    this.holders = Array.from({ length: placement.shardCount }, (_, shard) => placement.ownersOfShard(shard, ownerCount))
  }

  /** True when every shard's holders are its owners in the last view re-replicated for (nothing to confirm). */
  get settled(): boolean {
    return !this.unsettled
  }

  /**
   * The next view's paused shards (ascending), given its placement and which hosts are down but
   * awaited (restarting on their disks).
   */
  next(placement: Placement, awaited: (host: HostId) => boolean): number[] {
    const inView = new Set(placement.view.hosts)
    for (let shard = 0; shard < this.holders.length; shard++) {
      const waitingFor = this.awaiting.get(shard)
      if (waitingFor !== undefined) {
        const still = waitingFor.filter((host) => inView.has(host) || awaited(host))
        if (still.length === waitingFor.length) continue
        if (still.length > 0) this.awaiting.set(shard, still)
        else this.lose(shard)
        continue
      }
      const held = this.holders[shard]!
      if (held.every((host) => placement.isOwnerOfShard(shard, host, this.ownerCount))) {
        if (held.length < Math.min(this.ownerCount, inView.size)) this.unsettled = true
        continue
      }
      this.unsettled = true
      const kept = held.filter((host) => placement.isOwnerOfShard(shard, host, this.ownerCount))
      if (kept.length > 0) {
        this.holders[shard] = kept
        continue
      }
      // No owner holds it: the shard waits for its holders, up but no longer owners (they offer
      // their copies to its primary) or down but coming back, or is lost with them.
      const around = held.filter((host) => inView.has(host) || awaited(host))
      if (around.length > 0) this.awaiting.set(shard, around)
      this.holders[shard] = around
    }
    return this.paused
  }

  /**
   * Every host of `placement`'s view re-replicated for it: each shard's owners hold it, and a
   * paused shard whose awaited holders are all in the view resumes. True when one resumed.
   */
  replicated(placement: Placement): boolean {
    const inView = new Set(placement.view.hosts)
    let resumed = false
    let unsettled = false
    for (let shard = 0; shard < this.holders.length; shard++) {
      const waitingFor = this.awaiting.get(shard)
      if (waitingFor === undefined) {
        this.holders[shard] = placement.ownersOfShard(shard, this.ownerCount)
        continue
      }
      if (!waitingFor.every((host) => inView.has(host))) {
        unsettled = true
        continue
      }
      // Its holders offered their copies to its primary (a complete run includes those offers),
      // which pushes them to the other owners only once the shard resumes: until a run after
      // that, the holders are the primary and the hosts it waited for.
      const primary = placement.primaryOfShard(shard)!
      this.resume(shard, [primary, ...waitingFor.filter((host) => host !== primary)])
      resumed = true
      unsettled = true
    }
    this.unsettled = unsettled
    return resumed
  }

  /** Whether some paused shard has every awaited holder in `placement`'s view: only a complete re-replication is missing to resume it. */
  resumable(placement: Placement): boolean {
    const inView = new Set(placement.view.hosts)
    for (const waitingFor of this.awaiting.values()) if (waitingFor.every((host) => inView.has(host))) return true
    return false
  }

  /** A host lost what it held (its disk): it holds no shard, nor is waited for. */
  forget(host: HostId): void {
    for (let shard = 0; shard < this.holders.length; shard++) {
      const held = this.holders[shard]!
      if (held.includes(host)) this.holders[shard] = held.filter((h) => h !== host)
    }
    for (const [shard, waitingFor] of this.awaiting) {
      if (!waitingFor.includes(host)) continue
      const still = waitingFor.filter((h) => h !== host)
      if (still.length > 0) this.awaiting.set(shard, still)
      else this.lose(shard)
    }
    this.unsettled = true
  }

  /** The hosts some paused shard waits for (out of the view or not): the only ones holding its writes. */
  get awaitedHosts(): HostId[] {
    const hosts = new Set<HostId>()
    for (const waitingFor of this.awaiting.values()) for (const host of waitingFor) hosts.add(host)
    return [...hosts]
  }

  /** How many paused shards resumed without any holder since the last call (their writes are lost), and resets the count. */
  takeLost(): number {
    const lost = this.lost
    this.lost = 0
    return lost
  }

  /** The paused shards now, ascending. */
  get paused(): number[] {
    return [...this.awaiting.keys()].sort((a, b) => a - b)
  }

  /** A paused shard resumes with no holder left to wait for. */
  private lose(shard: number): void {
    this.lost++
    this.resume(shard, [])
  }

  private resume(shard: number, holders: HostId[]): void {
    this.awaiting.delete(shard)
    this.holders[shard] = holders
  }
}
