import type { Limits } from '../runtime/limits.ts'
import { Placement } from '../runtime/ring.ts'
import type { HostId } from '../runtime/view.ts'
import type { FaultPlan } from './faults.ts'
import { componentRandom } from './seed.ts'
import { clusterClientPort, retryingPort, type CallPort } from './sim-client.ts'
import { World } from './world.ts'

/** A fault plan with no faults (a named scenario applies its own by hand). */
export function calmPlan(overrides: Partial<FaultPlan> = {}): FaultPlan {
  return {
    profile: 'scenario', loss: 0, duplication: 0, delayMsMin: 1, delayMsMax: 1, reorder: false, kinds: [],
    faultIntervalMs: 1000, corruptRead: 0, transfers: false, retries: false, viewChanges: false, consistency: 'strong', replicas: 2, diskFull: false, ...overrides,
  }
}

/** How a call settled, without throwing. */
export type Settled = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown }

/**
 * A world for a named scenario: no random workload and no nemesis; the test makes the calls
 * and applies the faults itself, and moves simulated time with `settle` and `run`.
 */
export class Scenario {
  readonly world: World

  private constructor(world: World) {
    this.world = world
  }

  /** The placement of the world's current view. */
  private get placement(): Placement {
    return Placement.build(this.world.view, this.world.limits, this.world.hasher)
  }

  /** Builds a scenario world of `hostCount` hosts (default 3) under `plan` (default: calm). */
  static async create(options: { seed?: number; hostCount?: number; plan?: Partial<FaultPlan>; keepTrace?: boolean; limits?: Partial<Limits> } = {}): Promise<Scenario> {
    const seed = options.seed ?? 1
    const plan = calmPlan(options.plan)
    const world = await World.create({ seed, plan, hostCount: options.hostCount ?? 3, keepTrace: options.keepTrace ?? true, replicas: plan.replicas, consistency: plan.consistency, viewChanges: plan.viewChanges, limits: options.limits })
    return new Scenario(world)
  }

  /** A client on the network; `retrying` gives one that can reuse a request id. */
  client(id: string, retrying = true): CallPort {
    const random = componentRandom(this.world.seed, `scenario-client:${id}`)
    return retrying ? retryingPort(this.world, id, random) : clusterClientPort(this.world, id, random)
  }

  /** The primary of `key`. */
  primaryOf(key: string): HostId {
    return this.placement.primary(key)!
  }

  /** The first key `Type/prefixN` whose primary is `host` (or is not `host`, with `not`). */
  keyOn(type: string, host: HostId, not = false, prefix = 'k'): string {
    for (let i = 0; ; i++) {
      const key = `${type}/${prefix}${i}`
      if ((this.primaryOf(key) === host) !== not) return key
    }
  }

  /** Runs the world until `promise` settles (at most `limitMs` of simulated time) and returns how it settled. */
  async settle(promise: Promise<unknown>, limitMs = 10_000): Promise<Settled> {
    let result: Settled | undefined
    promise.then((value) => { result = { ok: true, value } }, (error: unknown) => { result = { ok: false, error } })
    await this.world.runUntil(() => result !== undefined, limitMs)
    if (result === undefined) throw new Error(`the call did not settle within ${limitMs} simulated ms`)
    return result
  }

  /** Runs the world for `ms` of simulated time. */
  async run(ms: number): Promise<void> {
    await this.world.clock.runFor(ms)
  }

  /** Effects the actors reported for `tag`. */
  effectsOf(tag: string): number {
    return this.world.effects.filter((e) => e.tag === tag).length
  }

  /** Stops every host's timers. */
  dispose(): void {
    this.world.dispose()
  }
}
