import type { Clock, TimerHandle } from '../runtime/clock.ts'
import type { Random } from '../runtime/random.ts'
import type { PeerId } from '../transport/transport.ts'
import type { FaultKind } from './faults.ts'
import { chance, intBetween, pick, subset } from './seed.ts'
import type { World } from './world.ts'

/** Shortest and longest time a fault lasts before it heals, in simulated ms. */
const faultMsMin = 100
const faultMsMax = 2000

/**
 * How long a host that rejoined a view (restarted, or resumed after the supervisor removed it)
 * still counts as out of the fault budget: its copies are stale or (without its disk) gone until
 * the primaries re-replicate to it after the view that adds it back. The time runs only while no
 * partition splits the hosts and no host is down or paused: a primary cannot refill a host it
 * cannot reach, nor while it is stopped.
 */
export const refillMs = 1000

/**
 * How many owners of a key may be out at once without losing an acknowledged write: strong
 * writes are on every owner (`replicas` may fail); quorum writes on a majority of the
 * `replicas + 1` owners.
 */
export function toleratedFailures(replicas: number, consistency: string): number {
  return consistency === 'strong' ? replicas : Math.floor((replicas + 1) / 2)
}

/**
 * Injects the seed's faults over time: every so often it draws one of the plan's fault kinds
 * and applies it to the world, then heals it after a while. `stop` heals everything at once:
 * partitions go, paused hosts resume, crashed hosts restart, disks are fast again.
 *
 * It keeps within the fault budget the runtime is built for (`toleratedFailures`), where
 * exceeding it loses data by design rather than by a bug:
 * - with view changes, a crash or pause is refused while that many hosts are out already — down,
 *   paused, or still refilling after a rejoin (`refillMs` of a network that splits no hosts, with every host up) —
 *   since the supervisor would otherwise remove every owner of a key and a new primary would
 *   start without its history;
 * - without view changes nothing refills a host that lost its disk (re-replication runs on view
 *   changes), so at most that many distinct hosts lose their disk in a run.
 * Crashes with disk and pauses without view changes lose nothing and are not limited. With view
 * changes and `strong` writes, neither are they while the supervisor pauses the shards whose
 * every holder is out (`World.holdsShards`): one host stays up, and only a crash that loses its
 * disk keeps to the budget.
 */
export class Nemesis {
  private readonly world: World
  private readonly random: Random
  private readonly kinds: readonly FaultKind[]
  private readonly peers: () => readonly PeerId[]
  private readonly timers: FaultTimers
  private readonly heals = new Map<string, () => void>()
  /**
   * Until when each host that rejoined (restart or resume) is still refilling, for the fault
   * budget: Infinity while a partition splits the hosts (the clock starts again when it heals).
   */
  private readonly refillingUntil = new Map<string, number>()
  /** Hosts that lost their disk in this run. */
  private readonly disksLost = new Set<string>()
  private readonly tolerated: number

  /** `peers` lists everyone a partition may split (hosts and clients). */
  constructor(world: World, random: Random, peers: () => readonly PeerId[]) {
    this.world = world
    this.random = random
    this.kinds = world.plan.kinds
    this.peers = peers
    this.tolerated = toleratedFailures(world.replicas, world.consistency)
    this.timers = new FaultTimers(world.clock)
  }

  /** Starts injecting faults (nothing happens when the plan has no fault kinds). */
  start(): void {
    if (this.kinds.length > 0) this.scheduleNext()
  }

  /** Stops injecting and heals every fault now. */
  stop(): void {
    this.timers.stop()
    for (const heal of [...this.heals.values()]) heal()
    this.heals.clear()
  }

  /** Applies one fault of `kind` now (also used by named scenarios); false when it does not apply. */
  inject(kind: FaultKind): boolean {
    const world = this.world
    const hosts = world.hostIds.filter((id) => !world.isDown(id) && !world.isPaused(id) && !this.heals.has(id))
    if (kind === 'partition' || kind === 'one-way-partition') {
      if (this.heals.has('network')) return false
      if (kind === 'partition') this.partition()
      else this.oneWay()
      // A host still refilling may be cut off from the primaries that refill it: its refill
      // starts over once the network heals (found by simulation, full seeds 626 and 690).
      if (this.hostsSplit()) this.suspendRefills()
      this.healLater('network', () => {
        world.network.heal()
        world.trace.add('heal network')
        if (!this.refillsStalled()) this.resumeRefills()
      })
    } else if (kind === 'crash' || kind === 'crash-without-disk') {
      const keepDisk = kind === 'crash'
      if (hosts.length === 0 || (keepDisk ? this.overBudgetWithState() : this.overBudget())) return false
      const candidates = keepDisk || world.viewChanges || this.disksLost.size < this.tolerated ? hosts : hosts.filter((h) => this.disksLost.has(h))
      if (candidates.length === 0) return false
      const id = pick(this.random, candidates)
      if (!keepDisk) this.disksLost.add(id)
      world.crash(id, keepDisk)
      this.suspendRefills()
      this.healLater(id, () => this.rejoin(id, () => world.restart(id)))
    } else if (kind === 'pause') {
      if (hosts.length === 0 || this.overBudgetWithState()) return false
      const id = pick(this.random, hosts)
      world.pause(id)
      this.suspendRefills()
      this.healLater(id, () => this.rejoin(id, () => world.resume(id)))
    } else {
      const id = pick(this.random, world.hostIds)
      if (this.heals.has(`disk:${id}`)) return false
      world.setSlowDisk(id, true)
      this.healLater(`disk:${id}`, () => world.setSlowDisk(id, false))
    }
    world.count(kind)
    return true
  }

  /**
   * For a host that keeps its state (a crash with its disk, a pause): when the supervisor pauses
   * the shards whose holders are all out (`World.holdsShards`), `strong` writes survive any number
   * of such hosts out at once, so only one host must stay up. Otherwise as `overBudget`.
   */
  private overBudgetWithState(): boolean {
    const world = this.world
    if (!world.holdsShards || world.consistency !== 'strong') return this.overBudget()
    return world.hostIds.filter((id) => !world.isDown(id) && !world.isPaused(id)).length <= 1
  }

  /** With view changes: as many hosts as the budget allows are out (down, paused, or refilling after a rejoin). */
  private overBudget(): boolean {
    const world = this.world
    if (!world.viewChanges) return false
    const now = world.clock.now()
    const out = world.hostIds.filter((id) => world.isDown(id) || world.isPaused(id) || now < (this.refillingUntil.get(id) ?? -Infinity))
    return out.length >= this.tolerated
  }

  private rejoin(id: string, heal: () => void): void {
    heal()
    this.refillingUntil.set(id, Infinity)
    if (!this.refillsStalled()) this.resumeRefills()
  }

  /**
   * Refills make no progress while the network splits the hosts, or while a host is down or
   * paused: it may be the primary that refills (full seed 34321: the primary's one resync to a
   * resumed host was lost, and it paused before resending); nor while a disk is full: the host
   * refilled cannot store what it is sent (full seed 18263: host-0, back without its disk into
   * view 3 as bank1's one backup, had a full disk; host-1, bank1's primary, then lost its disk).
   */
  private refillsStalled(): boolean {
    const world = this.world
    return this.hostsSplit() || world.hostIds.some((id) => world.isDown(id) || world.isPaused(id) || world.isDiskFull(id))
  }

  /** A disk filled up (see `DiskFiller`): refills stall until every disk is free again. */
  diskFilled(): void {
    this.suspendRefills()
  }

  /** A disk was freed: refills go on if nothing else stalls them. */
  diskFreed(): void {
    if (!this.refillsStalled()) this.resumeRefills()
  }

  /**
   * A shipment to `to` was lost (a buggify point): a host still refilling gets `refillMs` from now,
   * as its refill is that much later. A host in sync only lags until the primary ships again, and
   * a strong or quorum write waits for its ack, so nothing acknowledged depends on it meanwhile.
   */
  shipmentLost(to: string): void {
    const until = this.refillingUntil.get(to)
    const now = this.world.clock.now()
    if (until !== undefined && until > now && until !== Infinity) this.refillingUntil.set(to, Math.max(until, now + refillMs))
  }

  /** True when some host cannot reach another (a partition or one-way partition cuts a link between hosts). */
  private hostsSplit(): boolean {
    const { hostIds, network } = this.world
    return hostIds.some((a) => hostIds.some((b) => a !== b && !network.reachable(a, b)))
  }

  /** The network now splits the hosts, or a host went down or paused: a host still refilling waits for it to heal. */
  private suspendRefills(): void {
    const now = this.world.clock.now()
    for (const [id, until] of this.refillingUntil) if (until > now) this.refillingUntil.set(id, Infinity)
  }

  /** Nothing stalls refills any more: a host whose refill was suspended gets `refillMs` from now. */
  private resumeRefills(): void {
    const now = this.world.clock.now()
    for (const [id, until] of this.refillingUntil) if (until === Infinity) this.refillingUntil.set(id, now + refillMs)
  }

  private scheduleNext(): void {
    const meanMs = this.world.plan.faultIntervalMs
    this.later(intBetween(this.random, Math.floor(meanMs / 2), Math.floor(meanMs * 1.5)), () => {
      this.inject(pick(this.random, this.kinds))
      this.scheduleNext()
    })
  }

  private partition(): void {
    const peers = this.peers()
    let side = subset(this.random, peers, 0.5)
    if (side.length === 0 || side.length === peers.length) side = [pick(this.random, peers)]
    const rest = peers.filter((p) => !side.includes(p))
    this.world.network.partition(side, rest)
    this.world.trace.add(`partition [${side.join(' ')}] | [${rest.join(' ')}]`)
  }

  private oneWay(): void {
    const peers = this.peers()
    const from = pick(this.random, peers)
    const cut = chance(this.random, 0.5) ? peers.filter((p) => p !== from) : [pick(this.random, peers.filter((p) => p !== from))]
    for (const to of cut) this.world.network.partitionOneWay(from, to)
    this.world.trace.add(`one-way partition ${from} -> [${cut.join(' ')}] cut`)
  }

  private healLater(name: string, heal: () => void): void {
    const durationMs = intBetween(this.random, faultMsMin, faultMsMax)
    this.heals.set(name, heal)
    this.later(durationMs, () => {
      this.heals.delete(name)
      heal()
    })
  }

  private later(ms: number, fn: () => void): void {
    this.timers.later(ms, fn)
  }
}

/**
 * Fills a host's disk now and then, for 100 ms to 2 s: its journal refuses every write with
 * `StorageFull` (ENOSPC) and writes nothing. A full disk loses nothing already written, so it does
 * not count against the fault budget, but refills stall while it lasts (see `refillsStalled`); its
 * own random stream and timers leave the nemesis's draws as they were. A primary whose record its disk refused may have shipped it to a backup already: the
 * error leaves the call's outcome unknown (found by review: a transfer's deposit refused this way
 * took effect through the backup while the transfer failed for good, creating money).
 */
export class DiskFiller {
  private readonly world: World
  private readonly nemesis: Nemesis
  private readonly random: Random
  private readonly timers: FaultTimers
  private readonly full = new Set<string>()

  constructor(world: World, nemesis: Nemesis, random: Random) {
    this.world = world
    this.nemesis = nemesis
    this.random = random
    this.timers = new FaultTimers(world.clock)
  }

  start(): void {
    this.scheduleNext()
  }

  /** Stops filling, and frees every full disk now. */
  stop(): void {
    this.timers.stop()
    for (const id of this.full) this.world.setDiskFull(id, false)
    this.full.clear()
    this.nemesis.diskFreed()
  }

  private scheduleNext(): void {
    const meanMs = 2 * this.world.plan.faultIntervalMs
    this.later(intBetween(this.random, Math.floor(meanMs / 2), Math.floor(meanMs * 1.5)), () => {
      const id = pick(this.random, this.world.hostIds)
      if (!this.full.has(id)) {
        this.full.add(id)
        this.world.setDiskFull(id, true)
        this.world.count('disk-full')
        this.nemesis.diskFilled()
        this.later(intBetween(this.random, faultMsMin, faultMsMax), () => {
          this.full.delete(id)
          this.world.setDiskFull(id, false)
          this.nemesis.diskFreed()
        })
      }
      this.scheduleNext()
    })
  }

  private later(ms: number, fn: () => void): void {
    this.timers.later(ms, fn)
  }
}

/** A fault injector's timers: none fires once it stops, and stopping clears them all. */
class FaultTimers {
  private readonly clock: Clock
  private readonly timers = new Set<TimerHandle>()
  private stopped = false

  constructor(clock: Clock) {
    this.clock = clock
  }

  later(ms: number, fn: () => void): void {
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(timer)
      if (!this.stopped) fn()
    }, ms)
    this.timers.add(timer)
  }

  stop(): void {
    this.stopped = true
    for (const timer of this.timers) this.clock.clearTimeout(timer)
    this.timers.clear()
  }
}
