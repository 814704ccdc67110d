import type { Clock } from '../runtime/clock.ts'
import { TroupeError } from '../runtime/errors.ts'
import { nextFloat, nextInt, type Random } from '../runtime/random.ts'
import type { Envelope } from './envelope.ts'
import { InProcessTransport, type InProcessNetwork } from './in-process.ts'
import type { PeerId } from './transport.ts'

/**
 * A seeded, simulated network: like `MemoryNetwork`, but every frame is delivered by a timer
 * on the injected clock after a random delay, and faults (loss, duplication, reordering,
 * partitions) are drawn from the injected `Random`. With a `SimulatedClock` nothing arrives
 * until the clock moves, and one seed gives one delivery order, byte for byte.
 */
export interface SimulatedNetworkOptions {
  /** Time source for delivery timers (a `SimulatedClock` in simulations). Required. */
  clock: Clock
  /** Source of every fault decision (`seededRandom(seed)` in simulations). Required. */
  random: Random
  /** Shortest delivery delay of a frame, in ms. Default 1. */
  delayMsMin?: number
  /** Longest delivery delay of a frame, in ms (integers in [min, max] are uniform). Default 1. */
  delayMsMax?: number
  /** Chance each envelope is lost, in [0, 1]. Default 0. */
  dropProbability?: number
  /** Chance each delivered envelope is delivered a second time (with its own delay), in [0, 1]. Default 0. */
  duplicateProbability?: number
  /**
   * Whether frames on one link may overtake each other when their random delays differ.
   * When false, each link is FIFO: a frame never arrives before one sent earlier. Default true.
   */
  reorder?: boolean
}

/** Faults the network injected so far, counted in envelopes. */
export interface SimulatedNetworkStats {
  /** Envelopes handed to a receiver (duplicates included). */
  delivered: number
  /** Envelopes lost to `dropProbability`. */
  dropped: number
  /** Extra copies sent because of `duplicateProbability`. */
  duplicated: number
  /** Envelopes given a delay longer than `delayMsMin` (the jitter that lets frames overtake). */
  delayed: number
  /** Envelopes lost to a partition, at send time or while in flight. */
  partitioned: number
}

type ResolvedOptions = Required<Omit<SimulatedNetworkOptions, 'clock' | 'random'>>

const defaults: Readonly<ResolvedOptions> = Object.freeze({
  delayMsMin: 1,
  delayMsMax: 1,
  dropProbability: 0,
  duplicateProbability: 0,
  reorder: true,
})

/** The network: connects peers, injects faults, and holds the partitions. */
export class SimulatedNetwork implements InProcessNetwork {
  readonly clock: Clock
  private readonly random: Random
  private readonly options: ResolvedOptions
  private readonly members = new Map<PeerId, SimulatedTransport>()
  /** Blocked directions, as `from\u0000to`. */
  private readonly blocked = new Set<string>()
  /** Latest due time per link, for FIFO links when `reorder` is false. */
  private readonly linkDueMs = new Map<string, number>()
  private readonly counters: SimulatedNetworkStats = { delivered: 0, dropped: 0, duplicated: 0, delayed: 0, partitioned: 0 }
  private inTransit = 0

  constructor(options: SimulatedNetworkOptions) {
    this.clock = options.clock
    this.random = options.random
    const resolved: ResolvedOptions = { ...defaults }
    for (const key of Object.keys(defaults) as (keyof ResolvedOptions)[]) {
      if (options[key] !== undefined) (resolved as Record<string, unknown>)[key] = options[key]
    }
    this.options = resolved
    validate(resolved)
  }

  /** Creates the transport of a new peer on this network. */
  connect(self: PeerId): SimulatedTransport {
    if (this.members.has(self)) throw new TroupeError('InvalidArgument', `peer ${self} is already connected`)
    const transport = new SimulatedTransport(self, this)
    this.members.set(self, transport)
    return transport
  }

  /** Connected peers, in connection order. */
  peers(): PeerId[] {
    return [...this.members.keys()]
  }

  /** Cuts every link between a peer of `a` and a peer of `b`, both ways. */
  partition(a: readonly PeerId[], b: readonly PeerId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.partitionOneWay(x, y)
        this.partitionOneWay(y, x)
      }
    }
  }

  /** Cuts the link from `from` to `to` only; `to` can still reach `from`. */
  partitionOneWay(from: PeerId, to: PeerId): void {
    this.blocked.add(linkKey(from, to))
  }

  /** Frames sent and not yet arrived (or lost on arrival): 0 when nothing is on the wire. */
  get framesInTransit(): number {
    return this.inTransit
  }

  /** Removes every partition. Frames lost to them stay lost. */
  heal(): void {
    this.blocked.clear()
  }

  /** True when a frame from `from` to `to` would pass (no partition between them). */
  reachable(from: PeerId, to: PeerId): boolean {
    return !this.blocked.has(linkKey(from, to))
  }

  /** A copy of the fault counters. */
  stats(): SimulatedNetworkStats {
    return { ...this.counters }
  }

  /** @internal */
  has(peer: PeerId): boolean {
    return this.members.has(peer)
  }

  /** @internal */
  member(peer: PeerId): SimulatedTransport | undefined {
    return this.members.get(peer)
  }

  /** @internal */
  leave(peer: PeerId): void {
    this.members.delete(peer)
  }

  /** @internal Applies the faults to a frame already cloned, and schedules what survives. */
  transmit(from: PeerId, to: PeerId, frame: Envelope[]): void {
    if (!this.reachable(from, to)) {
      this.counters.partitioned += frame.length
      return
    }
    const kept: Envelope[] = []
    const copies: Envelope[] = []
    for (const envelope of frame) {
      if (this.chance(this.options.dropProbability)) {
        this.counters.dropped++
        continue
      }
      kept.push(envelope)
      if (this.chance(this.options.duplicateProbability)) copies.push(structuredClone(envelope))
    }
    this.counters.duplicated += copies.length
    if (kept.length > 0) this.schedule(from, to, kept)
    if (copies.length > 0) this.schedule(from, to, copies)
  }

  private schedule(from: PeerId, to: PeerId, frame: Envelope[]): void {
    const { delayMsMin, delayMsMax, reorder } = this.options
    const delayMs = delayMsMin + nextInt(this.random, delayMsMax - delayMsMin + 1)
    if (delayMs > delayMsMin) this.counters.delayed += frame.length
    let dueMs = this.clock.now() + delayMs
    if (!reorder) {
      const key = linkKey(from, to)
      dueMs = Math.max(dueMs, this.linkDueMs.get(key) ?? 0)
      this.linkDueMs.set(key, dueMs)
    }
    this.inTransit++
    this.clock.setTimeout(() => this.arrive(from, to, frame), dueMs - this.clock.now())
  }

  private arrive(from: PeerId, to: PeerId, frame: Envelope[]): void {
    this.inTransit--
    if (!this.reachable(from, to)) {
      this.counters.partitioned += frame.length
      return
    }
    const target = this.members.get(to)
    if (!target) return
    this.counters.delivered += frame.length
    target.deliver(from, frame)
  }

  private chance(probability: number): boolean {
    return probability > 0 && nextFloat(this.random) < probability
  }
}

/** One peer's transport on a `SimulatedNetwork`: frames go out through its seeded faults. */
export class SimulatedTransport extends InProcessTransport {
  protected transmit(to: PeerId, frame: Envelope[]): void {
    (this.network as SimulatedNetwork).transmit(this.self, to, frame)
  }
}

function linkKey(from: PeerId, to: PeerId): string {
  return `${from}\u0000${to}`
}

function validate(options: ResolvedOptions): void {
  const { delayMsMin, delayMsMax, dropProbability, duplicateProbability } = options
  const ok = Number.isSafeInteger(delayMsMin) && delayMsMin >= 0 && Number.isSafeInteger(delayMsMax) && delayMsMax >= delayMsMin
  if (!ok) throw new TroupeError('InvalidArgument', `delays must be integers with 0 <= delayMsMin <= delayMsMax, got ${delayMsMin}..${delayMsMax}`)
  for (const [name, p] of [['dropProbability', dropProbability], ['duplicateProbability', duplicateProbability]] as const) {
    if (!(typeof p === 'number' && p >= 0 && p <= 1)) throw new TroupeError('InvalidArgument', `${name} must be in [0, 1], got ${String(p)}`)
  }
  if (typeof options.reorder !== 'boolean') throw new TroupeError('InvalidArgument', 'reorder must be a boolean')
}
