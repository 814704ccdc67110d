import type { PointHasher } from '../runtime/hash.ts'
import { Host, type HostEvent } from '../runtime/host.ts'
import type { Limits } from '../runtime/limits.ts'
import type { ActorRegistry } from '../runtime/registry.ts'
import type { SimulatedClock } from '../runtime/simulated-clock.ts'
import type { HostId, View } from '../runtime/view.ts'
import type { SimulatedNetwork } from '../transport/simulated.ts'
import { GatedTransport } from './gated-transport.ts'
import { HostClock } from './host-clock.ts'
import { componentRandom } from './seed.ts'
import { SimDisk, SimStore, type CrashOutcome, type DiskBehaviour } from './storage.ts'
import type { Trace } from './trace.ts'

/** What a simulated host needs from its world. */
export interface HostEnvironment {
  readonly seed: number
  readonly clock: SimulatedClock
  readonly network: SimulatedNetwork
  readonly trace: Trace
  readonly registry: ActorRegistry
  readonly hasher: PointHasher
  readonly view: View
  readonly limits: Limits
  readonly disk: DiskBehaviour
  count(kind: string, n?: number): void
  /** Events of the live incarnation only. */
  event(event: HostEvent): void
}

/**
 * One host id of the world across its incarnations: the real `Host` of the live incarnation,
 * with its own clock facade, gated transport and store, and the disk that outlives it.
 */
export class SimHost {
  readonly id: HostId
  private readonly env: HostEnvironment
  private disk = new SimDisk()
  private incarnation = 0
  private live: { host: Host; clock: HostClock; transport: GatedTransport; store: SimStore } | undefined
  private paused = false
  private slowDisk = false

  constructor(id: HostId, env: HostEnvironment) {
    this.id = id
    this.env = env
    this.start()
  }

  /** The live `Host`, or undefined while crashed. */
  get host(): Host | undefined {
    return this.live?.host
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
    live.store.kill()
    live.transport.close()
    this.live = undefined
    this.paused = false
    if (!keepDisk) {
      this.disk = new SimDisk()
      return undefined
    }
    return this.disk.crash(componentRandom(this.env.seed, `crash:${this.id}:${this.incarnation}`))
  }

  /** Starts the next incarnation on what is left of the disk; returns the torn records recovery dropped. */
  restart(): number {
    if (this.live !== undefined) return 0
    const dropped = this.disk.recover()
    this.start()
    return dropped
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

  /** Makes the disk slow (or normal again), for this and later incarnations. */
  setSlowDisk(slow: boolean): void {
    this.slowDisk = slow
    this.live?.store.setSlow(slow)
  }

  /** Stops the live incarnation's timers and links for good. */
  dispose(): void {
    this.live?.clock.kill()
    this.live?.store.kill()
    this.live?.transport.close()
  }

  private start(): void {
    const env = this.env
    const incarnation = ++this.incarnation
    const clock = new HostClock(env.clock)
    const transport = new GatedTransport(env.network.connect(this.id), (line) => env.trace.add(line))
    const store = new SimStore(this.disk, clock, componentRandom(env.seed, `disk:${this.id}:${incarnation}`), env.disk, (key) => {
      env.count('corrupt-reads')
      env.trace.add(`corrupt read ${this.id} ${key}`)
    })
    store.setSlow(this.slowDisk)
    this.paused = false
    const host = new Host({
      id: this.id,
      transport,
      registry: env.registry,
      hasher: env.hasher,
      view: env.view,
      limits: env.limits,
      clock,
      random: componentRandom(env.seed, `host:${this.id}:${incarnation}`),
      store,
      onEvent: (event) => {
        if (this.incarnation === incarnation && this.live !== undefined) env.event(event) // else: a dead incarnation's last words
      },
    })
    this.live = { host, clock, transport, store }
  }
}
