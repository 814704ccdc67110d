import type { Consistency } from '../runtime/durability/consistency.ts'
import type { PointHasher } from '../runtime/hash.ts'
import { Host, type HostEvent } from '../runtime/host.ts'
import type { Limits } from '../runtime/limits.ts'
import type { ActorRegistry } from '../runtime/registry.ts'
import type { SimulatedClock } from '../runtime/simulated-clock.ts'
import type { HostId, View } from '../runtime/view.ts'
import type { SimulatedNetwork } from '../transport/simulated.ts'
import { GatedTransport } from './gated-transport.ts'
import { HostClock } from './host-clock.ts'
import { SimJournalDisk, SimJournalStorage, type CrashOutcome, type DiskBehaviour } from './journal-storage.ts'
import { componentRandom } from './seed.ts'
import type { Trace } from './trace.ts'

/** What a simulated host needs from its world. */
export interface HostEnvironment {
  readonly seed: number
  readonly clock: SimulatedClock
  readonly network: SimulatedNetwork
  readonly trace: Trace
  readonly registry: ActorRegistry
  readonly hasher: PointHasher
  /** The view a (re)starting incarnation begins with. */
  view(): View
  readonly limits: Limits
  readonly disk: DiskBehaviour
  readonly replicas: number
  readonly consistency: Consistency
  /** The planted lying-fsync bug is on (see `World.plantLyingSync`). */
  lyingSync(): boolean
  count(kind: string, n?: number): void
  /** Events of the live incarnation only. */
  event(event: HostEvent): void
}

/**
 * One host id of the world across its incarnations: the real `Host` of the live incarnation,
 * with its own clock facade, gated transport and journal storage, and the simulated disk that
 * outlives it (unless a crash takes the disk too).
 */
export class SimHost {
  readonly id: HostId
  private readonly env: HostEnvironment
  private disk = new SimJournalDisk()
  /** Set once a crash took the disk: later incarnations may have forgotten acknowledged state. */
  private lostDisk = false
  private incarnationCount = 0
  private live: { host: Host; clock: HostClock; transport: GatedTransport; storage: SimJournalStorage } | undefined
  private paused = false
  private slowDisk = false
  /** The live incarnation's activations reported open, per key, oldest first (see `hostEvent`). */
  private readonly tracked = new Map<string, TrackedActivation[]>()

  constructor(id: HostId, env: HostEnvironment) {
    this.id = id
    this.env = env
    this.start()
  }

  /** The live `Host`, or undefined while crashed. */
  get host(): Host | undefined {
    return this.live?.host
  }

  /** The live incarnation's number (1 for the first), counting restarts. */
  get incarnation(): number {
    return this.incarnationCount
  }

  /** True while paused. */
  get isPaused(): boolean {
    return this.paused
  }

  /** Kills the live incarnation; its disk survives (minus unsynced writes) or, without `keepDisk`, is lost. */
  crash(keepDisk: boolean): CrashOutcome | undefined {
    const live = this.live
    if (live === undefined) return undefined
    live.clock.kill()
    live.storage.kill()
    live.transport.close()
    this.live = undefined
    this.paused = false
    this.tracked.clear() // the world closes the dead incarnation's activations at the crash
    if (!keepDisk) {
      this.lostDisk = true
      this.disk = new SimJournalDisk()
      return undefined
    }
    return this.disk.crash(componentRandom(this.env.seed, `crash:${this.id}:${this.incarnationCount}`))
  }

  /** Starts the next incarnation on what is left of the disk. */
  restart(): void {
    if (this.live === undefined) this.start()
  }

  /** Freezes (true) or thaws (false) the live incarnation; false when there is nothing to change. */
  setPaused(paused: boolean): boolean {
    if (this.live === undefined || this.paused === paused) return false
    this.paused = paused
    if (paused) {
      this.live.clock.pause()
      this.live.transport.pause()
    } else {
      this.live.clock.resume()
      this.live.transport.resume()
    }
    return true
  }

  /** Fills the disk (writes refused with StorageFull) or frees it; a lost disk comes back empty, not full. */
  setDiskFull(full: boolean): void {
    this.disk.full = full
  }

  /** True while the disk refuses writes. */
  get isDiskFull(): boolean {
    return this.disk.full
  }

  /** Makes the disk slow (or normal again), for this and later incarnations. */
  setSlowDisk(slow: boolean): void {
    this.slowDisk = slow
    this.live?.storage.setSlow(slow)
  }

  /** Stops the live incarnation's timers and links for good. */
  dispose(): void {
    this.live?.clock.kill()
    this.live?.storage.kill()
    this.live?.transport.close()
  }

  private start(): void {
    const env = this.env
    const incarnation = ++this.incarnationCount
    const clock = new HostClock(env.clock)
    const transport = new GatedTransport(env.network.connect(this.id), (line) => env.trace.add(line))
    this.disk.lyingSync = env.lyingSync()
    const storage = new SimJournalStorage(this.disk, clock, componentRandom(env.seed, `disk:${this.id}:${incarnation}`), env.disk, (key) => {
      env.count('corrupt-reads')
      env.trace.add(`corrupt read ${this.id} ${key}`)
    })
    storage.setSlow(this.slowDisk)
    this.paused = false
    const host = new Host({
      id: this.id,
      transport,
      registry: env.registry,
      hasher: env.hasher,
      view: env.view(),
      limits: env.limits,
      clock,
      random: componentRandom(env.seed, `host:${this.id}:${incarnation}`),
      storage,
      replicas: env.replicas,
      consistency: env.consistency,
      restartedWithoutState: this.lostDisk,
      restartedWithState: incarnation > 1 && !this.lostDisk && env.view().hosts.some((h) => h !== this.id),
      onEvent: (event) => {
        if (this.incarnationCount === incarnation && this.live !== undefined) this.hostEvent(this.live.host, event) // else: a dead incarnation's last words
      },
    })
    this.live = { host, clock, transport, storage }
    this.tracked.clear()
  }

  /**
   * Ends, in the activation record, every activation of the live incarnation that is over
   * (status 'gone') without having said so, and returns how many: those a log failure dropped
   * (`Host.dropFailed` reports nothing). Called on every event of the host, and by the world
   * before the checkers run.
   */
  sweepActivations(): number {
    const live = this.live
    if (live === undefined) return 0
    let ended = 0
    for (const key of [...this.tracked.keys()]) ended += this.endGone(key, live.host.view.epoch, this.env.clock.now())
    return ended
  }

  /**
   * The host's activation events, made one-to-one with activations. Events carry no activation
   * identity, and the runtime reports some ends twice: `stepDown` of a passivating activation
   * reports `deactivate`, and its passivation reports it again when it ends; an activation fenced
   * during its recovery read is stepped down by the newer view (one `deactivate`) and then fails
   * to activate (another). A second report would close the next activation of the key on this
   * host in the activation log, whose own end then had nothing open ("deactivated without an open
   * activation", failover seeds 16, 3, 8). So each `activate` is tied to the `Activation` object the
   * host just stored, and a `deactivate` ends exactly the tracked activations that are now over;
   * a report that ends none is a duplicate and only traced.
   * (Suggested runtime fix: report `deactivate` once per activation — e.g. only on the transition
   * to 'gone' — and from `dropFailed` too.)
   */
  private hostEvent(host: Host, event: HostEvent): void {
    if (event.kind === 'activate') {
      this.sweepActivations()
      const activation = (host as unknown as HostInternals).activations.get(event.key)
      if (activation !== undefined) this.tracked.set(event.key, [...(this.tracked.get(event.key) ?? []), activation])
      this.env.event(event)
      return
    }
    if (event.kind !== 'deactivate') {
      this.env.event(event)
      return
    }
    if (this.endGone(event.key, event.epoch, event.atMs) === 0) this.env.trace.add(`deactivate ${event.key} on ${this.id} reported again (ignored)`)
    this.sweepActivations()
  }

  /** Reports `deactivate` for each tracked activation of `key` that is over; returns how many. */
  private endGone(key: string, epoch: number, atMs: number): number {
    const list = this.tracked.get(key) ?? []
    const gone = list.filter((a) => a.status === 'gone')
    if (gone.length === 0) return 0
    const left = list.filter((a) => a.status !== 'gone')
    if (left.length > 0) this.tracked.set(key, left)
    else this.tracked.delete(key)
    for (const _ of gone) this.env.event({ kind: 'deactivate', key, host: this.id, epoch, atMs })
    return gone.length
  }
}

/** The part of a `Host`'s private state the activation record reads: its activation objects, by key, as `activate` stored them. */
interface HostInternals {
  readonly activations: ReadonlyMap<string, TrackedActivation>
}

/** What the simulation reads of a runtime `Activation`: its lifecycle status. */
interface TrackedActivation {
  readonly status: 'activating' | 'active' | 'deactivating' | 'gone'
}
