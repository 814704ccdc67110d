import type { Consistency } from '../runtime/durability/consistency.ts'
import { loadPointHasher, type PointHasher } from '../runtime/hash.ts'
import type { Host, HostEvent } from '../runtime/host.ts'
import { resolveLimits, type Limits } from '../runtime/limits.ts'
import { Placement } from '../runtime/ring.ts'
import { ShardHolders } from '../runtime/shard-holders.ts'
import { ActorRegistry } from '../runtime/registry.ts'
import { SimulatedClock } from '../runtime/simulated-clock.ts'
import type { Random } from '../runtime/random.ts'
import type { HostId, View } from '../runtime/view.ts'
import { SimulatedNetwork } from '../transport/simulated.ts'
import type { PeerId } from '../transport/transport.ts'
import { simActorClasses, type SimEffect } from './actors.ts'
import { ActivationLog } from './activation-log.ts'
import type { FaultPlan } from './faults.ts'
import { GatedTransport } from './gated-transport.ts'
import type { DiskBehaviour } from './journal-storage.ts'
import { SimHost, type HostEnvironment } from './sim-host.ts'
import { componentRandom, intBetween, QuietableRandom } from './seed.ts'
import { Trace } from './trace.ts'

/** The limits every simulated host and client runs with: short timeouts, so runs end in simulated seconds (each seed also draws its idle timeout, 100–3,000 ms, so passivation happens). */
export const simLimits: Readonly<Partial<Limits>> = Object.freeze({
  callTimeoutMs: 1000,
  callRetryMs: 250,
  replicationRetryMs: 100,
  idleTimeoutMs: 1500,
  shardCount: 64,
  vnodesPerHost: 16,
})

/** How a world is built. */
export interface WorldOptions {
  readonly seed: number
  readonly plan: FaultPlan
  /** Hosts in the cluster; default: drawn from the seed, 3 to 5. */
  readonly hostCount: number
  /** Keep the trace's lines (for `--trace` and tests), not only its hash. */
  readonly keepTrace?: boolean
  /** Backups per actor; default 2. */
  readonly replicas?: number
  /** The hosts' default consistency level; default 'strong'. */
  readonly consistency?: Consistency
  /**
   * A simulated supervisor changes views: it removes a crashed or hung host from the view
   * (epoch + 1) once it has been down for `detectionMs`, and adds it back (epoch + 1) when it
   * restarts or resumes. Views reach each live host and client after a control-plane delay.
   * Default: off (a crashed host keeps its id in the view, and comes back with it).
   */
  readonly viewChanges?: boolean
  /** How long a host must be down or hung before the supervisor removes it; default 500. */
  readonly detectionMs?: number
  /**
   * With view changes: the supervisor pauses a shard whose every holder is out of the view but
   * coming back with its state (down with its disk, or hung), as the real one does with a dataDir
   * (see `ShardHolders`). Default: on with view changes.
   */
  readonly shardHolders?: boolean
  /** Limits that override the seed's (named scenarios). */
  readonly limits?: Partial<Limits>
}


/** How long after a view (and between checks) the simulated supervisor asks whether its hosts re-replicated. */
const confirmHoldersMs = 200

let hasherLoading: Promise<PointHasher> | undefined

/**
 * A whole cluster in one JS realm: real `Host`s on one `SimulatedClock`, each with its own
 * transport on one seeded `SimulatedNetwork` and its own simulated disk. One seed decides every
 * draw. The world crashes, restarts, pauses and partitions hosts on request (the nemesis asks),
 * and records what the checkers need: activation events, effects, and the trace.
 */
export class World {
  readonly seed: number
  readonly plan: FaultPlan
  readonly clock = new SimulatedClock()
  readonly trace: Trace
  readonly network: SimulatedNetwork
  readonly limits: Limits
  readonly replicas: number
  readonly consistency: Consistency
  readonly viewChanges: boolean
  readonly hasher: PointHasher
  readonly activations = new ActivationLog()
  readonly effects: SimEffect[] = []
  /** Faults injected so far, by kind. */
  readonly faults = new Map<string, number>()
  private readonly networkRandom: QuietableRandom
  private readonly registry = new ActorRegistry()
  private readonly hosts = new Map<HostId, SimHost>()
  private readonly diskBehaviour: DiskBehaviour
  private readonly allHosts: readonly HostId[]
  private readonly members: Set<HostId>
  private currentView: View
  private readonly viewListeners: Array<(view: View) => void> = []
  /** Views a hung host will see when it resumes (the newest only). */
  private readonly heldViews = new Map<HostId, View>()
  private readonly detectionMs: number
  private readonly supervisorRandom: Random
  private lyingSync = false
  /** The supervisor's count of which hosts hold each shard (see `WorldOptions.shardHolders`). */
  private readonly holders: ShardHolders | undefined
  /** Hosts down now, and whether each kept its disk. */
  private readonly downWithDisk = new Map<HostId, boolean>()

  /** Builds a world and starts its hosts. */
  static async create(options: WorldOptions): Promise<World> {
    hasherLoading ??= loadPointHasher()
    return new World(options, await hasherLoading)
  }

  private constructor(options: WorldOptions, hasher: PointHasher) {
    this.seed = options.seed
    this.plan = options.plan
    this.hasher = hasher
    this.trace = new Trace(() => this.clock.now(), options.keepTrace ?? false)
    const limitsRandom = componentRandom(this.seed, 'limits')
    this.limits = resolveLimits({ ...simLimits, idleTimeoutMs: intBetween(limitsRandom, 100, 3000), replicationRetryMs: intBetween(limitsRandom, 30, 300), ...options.limits })
    this.replicas = options.replicas ?? 2
    this.consistency = options.consistency ?? 'strong'
    this.viewChanges = options.viewChanges ?? false
    this.detectionMs = options.detectionMs ?? 500
    this.supervisorRandom = componentRandom(this.seed, 'supervisor')
    const { plan } = options
    this.networkRandom = new QuietableRandom(componentRandom(this.seed, 'network'))
    this.network = new SimulatedNetwork({
      clock: this.clock,
      random: this.networkRandom,
      delayMsMin: plan.delayMsMin,
      delayMsMax: plan.delayMsMax,
      dropProbability: plan.loss,
      duplicateProbability: plan.duplication,
      reorder: plan.reorder,
    })
    this.diskBehaviour = { latencyMsMax: 2, slowLatencyMsMin: 20, slowLatencyMsMax: 400, corruptReadProbability: plan.corruptRead }
    for (const actorClass of simActorClasses((effect) => this.effect(effect))) this.registry.register(actorClass)
    const hostIds = Array.from({ length: options.hostCount }, (_, i) => `host-${i}`)
    this.allHosts = hostIds
    this.members = new Set(hostIds)
    this.currentView = { epoch: 1, hosts: hostIds }
    this.holders = this.viewChanges && (options.shardHolders ?? true) ? new ShardHolders(this.placementOf(this.currentView), this.replicas + 1) : undefined
    const env: HostEnvironment = {
      seed: this.seed, clock: this.clock, network: this.network, trace: this.trace, registry: this.registry, hasher,
      view: () => this.currentView, limits: this.limits, disk: this.diskBehaviour,
      replicas: this.replicas, consistency: this.consistency, lyingSync: () => this.lyingSync,
      count: (kind, n) => this.count(kind, n),
      event: (event) => this.hostEvent(event),
    }
    for (const id of hostIds) this.hosts.set(id, new SimHost(id, env))
  }

  /** Every host's id (in the view or not), in the first view's order. */
  get hostIds(): readonly HostId[] {
    return this.allHosts
  }

  /** The newest view the supervisor published (the first view when views never change). */
  get view(): View {
    return this.currentView
  }

  /** Tells `listener` (a client) of every new view, after the control-plane delay. */
  onView(listener: (view: View) => void): void {
    this.viewListeners.push(listener)
  }

  /** The live `Host` with this id, or undefined while it is crashed. */
  host(id: HostId): Host | undefined {
    return this.simHost(id).host
  }

  /** True while the host is crashed (not yet restarted). */
  isDown(id: HostId): boolean {
    return this.simHost(id).host === undefined
  }

  /** True while the host is paused. */
  isPaused(id: HostId): boolean {
    return this.simHost(id).isPaused
  }

  isDiskFull(id: HostId): boolean {
    return this.simHost(id).isDiskFull
  }

  /** A new transport on the network for a client, traced like the hosts'. */
  connectClient(id: PeerId): GatedTransport {
    return new GatedTransport(this.network.connect(id), (line) => this.trace.add(line))
  }

  /** Kills a host: its timers, disk writes and links die with it; `keepDisk` false also loses its disk. */
  crash(id: HostId, keepDisk: boolean): void {
    const sim = this.simHost(id)
    if (sim.host === undefined) return
    const outcome = sim.crash(keepDisk)
    this.downWithDisk.set(id, keepDisk)
    if (!keepDisk && this.holders !== undefined) {
      // The supervisor learns the disk is gone: a shard that waited for it alone resumes (without it).
      const paused = this.holders.paused.length
      this.holders.forget(id)
      if (this.holders.paused.length !== paused) this.publish(this.nextView())
    }
    this.activations.hostDied(id, this.clock.now())
    this.heldViews.delete(id)
    if (outcome === undefined) this.trace.add(`crash ${id} without disk`)
    else {
      this.count('unsynced-writes-lost', outcome.lost)
      this.count('torn-writes', outcome.torn)
      this.trace.add(`crash ${id} with disk: unsynced lost ${outcome.lost} kept ${outcome.kept} torn ${outcome.torn}`)
    }
    this.suspect(id)
  }

  /** Starts a new incarnation of a crashed host, with the same id, on what is left of its disk. */
  restart(id: HostId): void {
    const sim = this.simHost(id)
    if (sim.host !== undefined) return
    const rejoin = this.viewChanges && !this.members.has(id)
    if (rejoin) this.members.add(id)
    this.downWithDisk.delete(id)
    const view = rejoin ? this.nextView() : undefined
    sim.restart()
    this.trace.add(`restart ${id} incarnation ${sim.incarnation}`)
    if (view !== undefined) this.publish(view)
  }

  /** Freezes a host (a hang): it neither runs timers nor takes or sends messages until `resume`. */
  pause(id: HostId): void {
    if (!this.simHost(id).setPaused(true)) return
    this.trace.add(`pause ${id}`)
    this.suspect(id)
  }

  /** Thaws a paused host. */
  resume(id: HostId): void {
    const sim = this.simHost(id)
    if (!sim.setPaused(false)) return
    this.trace.add(`resume ${id}`)
    // A hung host wakes up believing what it believed: the views it missed reach it a little later.
    const held = this.heldViews.get(id)
    this.heldViews.delete(id)
    if (held !== undefined) this.deliverView(id, held)
    if (this.viewChanges && !this.members.has(id)) {
      this.members.add(id)
      this.publish(this.nextView())
    }
  }

  /** Fills a host's disk (its writes fail with StorageFull) or frees it. */
  setDiskFull(id: HostId, full: boolean): void {
    this.simHost(id).setDiskFull(full)
    this.trace.add(`${full ? 'full' : 'freed'} disk ${id}`)
  }

  /** Makes a host's disk slow (or normal again). */
  setSlowDisk(id: HostId, slow: boolean): void {
    this.simHost(id).setSlowDisk(slow)
    this.trace.add(`${slow ? 'slow' : 'normal'} disk ${id}`)
  }

  /** Sets the chance that a disk read comes back corrupted, on every host. */
  setCorruptReads(probability: number): void {
    this.diskBehaviour.corruptReadProbability = probability
  }

  /** Plants a bug for checker demonstrations: every disk's fsync acknowledges writes without making them durable (takes effect on each host's next incarnation). */
  plantLyingSync(): void {
    this.lyingSync = true
    this.trace.add('planted bug: fsync lies')
  }

  /** Silences the network's randomness: no loss, no duplication, one fixed delay (the liveness phase). */
  quietNetwork(): void {
    this.networkRandom.setQuiet(true)
    this.trace.add('network quiet')
  }

  /**
   * Nothing on the wire, no call queued or running on any live host, and no active actor with an
   * unfinished turn (one whose call failed with an unknown outcome; the host's idle sweep runs it
   * again): a turn a client gave up on (its frame still delayed in the network, or its host still
   * running it, or to run it again) has finished.
   */
  quiescent(): boolean {
    if (this.network.framesInTransit > 0) return false
    for (const sim of this.hosts.values()) {
      if (sim.host && (sim.host.callsInFlight() > 0 || sim.host.unfinishedTurns() > 0)) return false
    }
    return true
  }

  /** Resolves after `ms` of simulated time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms))
  }

  /** Runs the world until `done()` holds or `limitMs` of simulated time pass; true when `done()` held. */
  async runUntil(done: () => boolean, limitMs: number, stepMs = 10): Promise<boolean> {
    const end = this.clock.now() + limitMs
    while (!done()) {
      if (this.clock.now() >= end) return false
      await this.clock.run(Math.min(end, this.clock.now() + stepMs))
    }
    return true
  }

  /** Adds `n` to the count of fault `kind`. */
  count(kind: string, n = 1): void {
    if (n > 0) this.faults.set(kind, (this.faults.get(kind) ?? 0) + n)
  }

  /** Records the end of every activation a host dropped without reporting it (see `SimHost.sweepActivations`); call before checking. */
  sweepActivations(): void {
    for (const sim of this.hosts.values()) sim.sweepActivations()
  }

  /** Stops everything: no timer of any host fires again. */
  dispose(): void {
    for (const sim of this.hosts.values()) sim.dispose()
  }

  /** The supervisor: a host down or hung for `detectionMs` leaves the view (never the last one). */
  private suspect(id: HostId): void {
    if (!this.viewChanges) return
    this.clock.setTimeout(() => {
      if (!(this.isDown(id) || this.isPaused(id)) || !this.members.has(id) || this.members.size <= 1) return
      this.members.delete(id)
      this.trace.add(`supervisor: ${id} is down, removing it`)
      this.publish(this.nextView())
    }, this.detectionMs)
  }

  private nextView(): View {
    const view: View = { epoch: this.currentView.epoch + 1, hosts: this.allHosts.filter((h) => this.members.has(h)) }
    const paused = this.holders?.next(this.placementOf(view), (h) => this.awaited(h)) ?? []
    this.currentView = paused.length === 0 ? view : { ...view, paused }
    return this.currentView
  }

  /** Whether the supervisor pauses shards whose holders are all out (see `WorldOptions.shardHolders`). */
  get holdsShards(): boolean {
    return this.holders !== undefined
  }

  private placementOf(view: View): Placement {
    return Placement.build(view, this.limits, this.hasher)
  }

  /** A host out of the view that comes back with its state: down with its disk, or hung. */
  private awaited(id: HostId): boolean {
    return this.isPaused(id) || this.downWithDisk.get(id) === true
  }

  /**
   * The supervisor's check, a moment after a view: once every host of the view re-replicated for
   * it, its owners hold each shard, and a paused shard whose holders are all back resumes in a
   * new view. A re-replication cut short gets a new view when a paused shard waits on it alone.
   */
  private confirmHolders(view: View): void {
    const holders = this.holders
    if (holders === undefined || holders.settled) return
    this.clock.setTimeout(() => {
      if (this.currentView !== view) return
      const live = view.hosts.map((id) => this.simHost(id)).filter((sim) => sim.host !== undefined && !sim.isPaused)
      if (live.length < view.hosts.length || live.some((sim) => sim.host!.view.epoch !== view.epoch)) return this.confirmHolders(view)
      // A host that crashes meanwhile never settles its run: asked again after a while (its next incarnation runs another).
      const late = new Promise<undefined>((resolve) => this.clock.setTimeout(() => resolve(undefined), confirmHoldersMs * 10))
      void Promise.race([Promise.all(live.map((sim) => sim.host!.replicated())), late]).then((reports) => {
        if (this.currentView !== view) return
        if (reports === undefined) return this.confirmHolders(view)
        const placement = this.placementOf(view)
        this.trace.add(`supervisor: view ${view.epoch} re-replicated ${reports.map((r) => `${r.epoch}${r.complete ? '' : ' incomplete'}`).join(', ')}`)
        if (reports.every((r) => r.epoch === view.epoch && r.complete)) {
          if (holders.replicated(placement)) this.publish(this.nextView())
        } else if (holders.resumable(placement)) this.publish(this.nextView())
      })
    }, confirmHoldersMs)
  }

  /** Sends a new view to every live host and every client, each after its own control-plane delay. */
  private publish(view: View): void {
    this.count('view-changes')
    if (view.paused !== undefined) this.count('paused-views')
    this.trace.add(`view ${view.epoch} [${view.hosts.join(' ')}]${view.paused === undefined ? '' : ` paused ${view.paused.length < 16 ? view.paused.join(',') : view.paused.length}`}`)
    this.confirmHolders(view)
    for (const id of this.allHosts) this.deliverView(id, view)
    for (const listener of this.viewListeners) {
      this.clock.setTimeout(() => listener(view), intBetween(this.supervisorRandom, 0, 30))
    }
  }

  private deliverView(id: HostId, view: View): void {
    const sim = this.simHost(id)
    const incarnation = sim.incarnation
    this.clock.setTimeout(() => {
      const host = sim.host
      if (host === undefined || sim.incarnation !== incarnation) return // a restarted host starts with the newest view
      if (sim.isPaused) {
        const held = this.heldViews.get(id)
        if (held === undefined || held.epoch < view.epoch) this.heldViews.set(id, view)
        return
      }
      if (host.setView(view)) this.trace.add(`${id} adopts view ${view.epoch}`)
    }, intBetween(this.supervisorRandom, 0, 30))
  }

  private hostEvent(event: HostEvent): void {
    if (event.kind === 'fenced') this.count('fenced')
    if (event.kind !== 'activate' && event.kind !== 'deactivate') {
      this.trace.add(`host event ${JSON.stringify(event)}`)
      return
    }
    this.trace.add(`${event.kind} ${event.key} on ${event.host} epoch ${event.epoch}`)
    this.activations.record({ key: event.key, hostId: event.host, epoch: event.epoch, kind: event.kind, time: event.atMs })
  }

  private effect(effect: SimEffect): void {
    if (this.isDown(effect.host)) {
      // A crashed host's last microtasks: nothing it does escapes the dead process.
      this.trace.add(`zombie effect ignored ${effect.tag} ${effect.key}.${effect.method} on ${effect.host}`)
      return
    }
    this.trace.add(`effect ${effect.tag} ${effect.key}.${effect.method} on ${effect.host}`)
    this.effects.push(effect)
  }

  private simHost(id: HostId): SimHost {
    const sim = this.hosts.get(id)
    if (sim === undefined) throw new RangeError(`no host ${id} in this world`)
    return sim
  }
}
