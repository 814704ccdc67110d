import type { Random } from '../runtime/random.ts'
import { chance, floatBetween, intBetween } from './seed.ts'

/** The kinds of fault the nemesis injects over time (the network's loss, duplication and delay are rates, not events). */
export type FaultKind = 'partition' | 'one-way-partition' | 'crash' | 'crash-without-disk' | 'pause' | 'slow-disk'

/** A named fault profile: which faults a seed may draw, and which workload features it runs. */
export interface FaultProfile {
  readonly name: string
  readonly description: string
  /** Swarm testing: each allowed fault is switched on per seed with this chance (1 = always). */
  readonly swarmProbability: number
  readonly lossMax: number
  readonly duplicationMax: number
  readonly delayMsMax: number
  readonly kinds: readonly FaultKind[]
  readonly corruptReadMax: number
  /** Bank transfers (Account.transfer), checked by conservation of money. */
  readonly transfers: boolean
  /** Clients retry a timed-out call once with the same request id. */
  readonly retries: boolean
  /** Whether a run of this profile is expected to pass on today's runtime. */
  readonly expectClean: boolean
}

const calm = { lossMax: 0, duplicationMax: 0, delayMsMax: 1, kinds: [], corruptReadMax: 0, transfers: false, retries: false }

/** Every profile by name; `ci` is the default. */
export const faultProfiles: Readonly<Record<string, FaultProfile>> = Object.freeze({
  none: { ...calm, name: 'none', description: 'no faults at all', swarmProbability: 1, expectClean: true },
  ci: {
    ...calm,
    name: 'ci',
    description: 'what today\'s runtime must survive: loss, delay and reordering, partitions, pauses, slow and corrupting disks',
    swarmProbability: 0.6,
    lossMax: 0.3,
    delayMsMax: 40,
    kinds: ['partition', 'one-way-partition', 'pause', 'slow-disk'],
    corruptReadMax: 0.05,
    expectClean: true,
  },
  duplication: {
    ...calm,
    name: 'duplication',
    description: 'duplicated messages only (finds double-applied turns until requests are deduplicated)',
    swarmProbability: 1,
    duplicationMax: 0.5,
    delayMsMax: 20,
    expectClean: false,
  },
  crash: {
    ...calm,
    name: 'crash',
    description: 'host crashes and restarts, with and without disk (finds lost writes until durability lands)',
    swarmProbability: 1,
    delayMsMax: 20,
    kinds: ['crash', 'crash-without-disk'],
    expectClean: false,
  },
  full: {
    ...calm,
    name: 'full',
    description: 'every fault and workload feature: duplication, crashes, retries, transfers',
    swarmProbability: 0.6,
    lossMax: 0.3,
    duplicationMax: 0.5,
    delayMsMax: 40,
    kinds: ['partition', 'one-way-partition', 'crash', 'crash-without-disk', 'pause', 'slow-disk'],
    corruptReadMax: 0.05,
    transfers: true,
    retries: true,
    expectClean: false,
  },
})

/** What one seed drew from its profile: rates, delays and the fault kinds it injects. */
export interface FaultPlan {
  readonly profile: string
  readonly loss: number
  readonly duplication: number
  readonly delayMsMin: number
  readonly delayMsMax: number
  readonly reorder: boolean
  readonly kinds: readonly FaultKind[]
  /** Mean simulated time between two nemesis events, in ms. */
  readonly faultIntervalMs: number
  readonly corruptRead: number
  readonly transfers: boolean
  readonly retries: boolean
}

/** Draws a seed's fault plan from a profile (swarm style: each seed its own mix and rates). */
export function drawFaultPlan(profile: FaultProfile, random: Random): FaultPlan {
  const on = (): boolean => chance(random, profile.swarmProbability)
  const rate = (max: number): number => (max > 0 && on() ? roundRate(floatBetween(random, 0, max)) : 0)
  const loss = rate(profile.lossMax)
  const duplication = rate(profile.duplicationMax)
  const delayMsMin = intBetween(random, 0, 2)
  const delayMsMax = delayMsMin + (profile.delayMsMax > 1 ? intBetween(random, 0, profile.delayMsMax) : 0)
  const kinds = profile.kinds.filter(() => on())
  return {
    profile: profile.name,
    loss,
    duplication,
    delayMsMin,
    delayMsMax,
    reorder: chance(random, 0.7),
    kinds,
    faultIntervalMs: intBetween(random, 300, 1500),
    corruptRead: rate(profile.corruptReadMax),
    transfers: profile.transfers,
    retries: profile.retries,
  }
}

/** A one-line summary of a plan, for the trace and `--verbose`. */
export function describePlan(plan: FaultPlan): string {
  const pct = (p: number): string => `${Math.round(p * 1000) / 10}%`
  const kinds = plan.kinds.length > 0 ? plan.kinds.join(',') : 'none'
  return `profile ${plan.profile}: loss ${pct(plan.loss)} dup ${pct(plan.duplication)} delay ${plan.delayMsMin}..${plan.delayMsMax}ms` +
    `${plan.reorder ? ' reorder' : ' fifo'} faults ${kinds} every ~${plan.faultIntervalMs}ms corrupt-read ${pct(plan.corruptRead)}` +
    `${plan.transfers ? ' transfers' : ''}${plan.retries ? ' retries' : ''}`
}

function roundRate(p: number): number {
  return Math.round(p * 10000) / 10000
}
