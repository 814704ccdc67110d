import type { TimerHandle } from '../runtime/clock.ts'
import type { Random } from '../runtime/random.ts'
import type { PeerId } from '../transport/transport.ts'
import type { FaultKind } from './faults.ts'
import { chance, intBetween, pick, subset } from './seed.ts'
import type { World } from './world.ts'

/** Shortest and longest time a fault lasts before it heals, in simulated ms. */
const faultMsMin = 100
const faultMsMax = 2000

/**
 * Injects the seed's faults over time: every so often it draws one of the plan's fault kinds
 * and applies it to the world, then heals it after a while. `stop` heals everything at once:
 * partitions go, paused hosts resume, crashed hosts restart, disks are fast again.
 */
export class Nemesis {
  private readonly world: World
  private readonly random: Random
  private readonly kinds: readonly FaultKind[]
  private readonly peers: () => readonly PeerId[]
  private readonly timers = new Set<TimerHandle>()
  private readonly heals = new Map<string, () => void>()
  private stopped = false

  /** `peers` lists everyone a partition may split (hosts and clients). */
  constructor(world: World, random: Random, peers: () => readonly PeerId[]) {
    this.world = world
    this.random = random
    this.kinds = world.plan.kinds
    this.peers = peers
  }

  /** Starts injecting faults (nothing happens when the plan has no fault kinds). */
  start(): void {
    if (this.kinds.length > 0) this.scheduleNext()
  }

  /** Stops injecting and heals every fault now. */
  stop(): void {
    this.stopped = true
    for (const timer of this.timers) this.world.clock.clearTimeout(timer)
    this.timers.clear()
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
      this.healLater('network', () => {
        world.network.heal()
        world.trace.add('heal network')
      })
    } else if (kind === 'crash' || kind === 'crash-without-disk') {
      if (hosts.length === 0) return false
      const id = pick(this.random, hosts)
      world.crash(id, kind === 'crash')
      this.healLater(id, () => world.restart(id))
    } else if (kind === 'pause') {
      if (hosts.length === 0) return false
      const id = pick(this.random, hosts)
      world.pause(id)
      this.healLater(id, () => world.resume(id))
    } else {
      const id = pick(this.random, world.hostIds)
      if (this.heals.has(`disk:${id}`)) return false
      world.setSlowDisk(id, true)
      this.healLater(`disk:${id}`, () => world.setSlowDisk(id, false))
    }
    world.count(kind)
    return true
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
    const timer = this.world.clock.setTimeout(() => {
      this.timers.delete(timer)
      if (!this.stopped) fn()
    }, ms)
    this.timers.add(timer)
  }
}
