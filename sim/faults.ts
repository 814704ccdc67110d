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
  /** Chance a seed runs with a supervisor that changes views (removes down hosts, adds them back): failover and fencing. */
  readonly viewChanges: number
  /** Chance a seed's hosts use 'quorum' consistency instead of 'strong'. */
  readonly quorum: number
  /** Chance a seed runs with 1 backup per actor instead of 2. */
  readonly oneBackup: number
  /** Whether a run of this profile is expected to pass on today's runtime. */
  readonly expectClean: boolean
  /** Chance a seed's disks fill up now and then (writes refused with StorageFull for a while); drawn last. */
  readonly diskFull: number
}

const calm = { lossMax: 0, duplicationMax: 0, delayMsMax: 1, kinds: [], corruptReadMax: 0, transfers: false, retries: false, viewChanges: 0, quorum: 0, oneBackup: 0, diskFull: 0 }

/** Every profile by name; `ci` is the default. */
export const faultProfiles: Readonly<Record<string, FaultProfile>> = Object.freeze({
  none: { ...calm, name: 'none', description: 'no faults at all', swarmProbability: 1, expectClean: true },
  ci: {
    ...calm,
    name: 'ci',
    description: 'what today\'s runtime must survive: loss, duplication, delay and reordering, partitions, pauses, crashes with disk, crashes without disk (within the fault budget), slow and corrupting disks, retries; strong or quorum, 1 or 2 backups',
    swarmProbability: 0.6,
    lossMax: 0.3,
    duplicationMax: 0.5,
    delayMsMax: 40,
    kinds: ['partition', 'one-way-partition', 'pause', 'slow-disk', 'crash', 'crash-without-disk'],
    corruptReadMax: 0.05,
    retries: true,
    quorum: 0.3,
    oneBackup: 0.3,
    expectClean: true,
  },
  'ci-1': {
    ...calm,
    name: 'ci-1',
    description: 'the ci profile before disk loss joined it (the older regression seeds replay on it, with the schedules they were found with)',
    swarmProbability: 0.6,
    lossMax: 0.3,
    duplicationMax: 0.5,
    delayMsMax: 40,
    kinds: ['partition', 'one-way-partition', 'pause', 'slow-disk', 'crash'],
    corruptReadMax: 0.05,
    retries: true,
    quorum: 0.3,
    oneBackup: 0.3,
    expectClean: true,
  },
  duplication: {
    ...calm,
    name: 'duplication',
    description: 'duplicated messages only (request ids deduplicate them)',
    swarmProbability: 1,
    duplicationMax: 0.5,
    delayMsMax: 20,
    expectClean: true,
  },
  crash: {
    ...calm,
    name: 'crash',
    description: 'host crashes and restarts, with and without disk (no view changes: a host comes back with its id)',
    swarmProbability: 1,
    delayMsMax: 20,
    kinds: ['crash', 'crash-without-disk'],
    expectClean: true,
  },
  failover: {
    ...calm,
    name: 'failover',
    description: 'crashes and hangs with a supervisor that changes views: failover to warm backups, rejoin, fencing of stale primaries',
    swarmProbability: 1,
    delayMsMax: 20,
    kinds: ['crash', 'pause'],
    viewChanges: 1,
    quorum: 0.3,
    oneBackup: 0.3,
    expectClean: true,
  },
  full: {
    ...calm,
    name: 'full',
    description: 'every fault and workload feature: duplication, crashes with and without disk, view changes, retries, transfers',
    swarmProbability: 0.6,
    lossMax: 0.3,
    duplicationMax: 0.5,
    delayMsMax: 40,
    kinds: ['partition', 'one-way-partition', 'crash', 'crash-without-disk', 'pause', 'slow-disk'],
    corruptReadMax: 0.05,
    transfers: true,
    retries: true,
    viewChanges: 0.5,
    quorum: 0.3,
    oneBackup: 0.3,
    diskFull: 0.3,
    expectClean: true,
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
  /** A supervisor changes views (failover, rejoin, fencing). */
  readonly viewChanges: boolean
  readonly consistency: 'strong' | 'quorum'
  /** Backups per actor. */
  readonly replicas: number
  /** Disks fill up now and then (see `DiskFiller`). */
  readonly diskFull: boolean
}

/** Draws a seed's fault plan from a profile (swarm style: each seed its own mix and rates). */
export function drawFaultPlan(profile: FaultProfile, random: Random): FaultPlan {
  const on = (): boolean => chance(random, profile.swarmProbability)
  const rate = (max: number): number => (max > 0 && on() ? roundRate(floatBetween(random, 0, max)) : 0)
  // Drawn in this order (a profile's seeds keep their plans when fields are added after these).
  const loss = rate(profile.lossMax)
  const duplication = rate(profile.duplicationMax)
  const delayMsMin = intBetween(random, 0, 2)
  const delayMsMax = delayMsMin + (profile.delayMsMax > 1 ? intBetween(random, 0, profile.delayMsMax) : 0)
  const drawn = profile.kinds.filter(() => on())
  const reorder = chance(random, 0.7)
  const faultIntervalMs = intBetween(random, 300, 1500)
  const corruptRead = rate(profile.corruptReadMax)
  const viewChanges = chance(random, profile.viewChanges)
  const consistency = chance(random, profile.quorum) ? 'quorum' : 'strong'
  const replicas = chance(random, profile.oneBackup) ? 1 : 2
  // Drawn last, and only by profiles that have it: older seeds keep their plans.
  const diskFull = profile.diskFull > 0 && chance(random, profile.diskFull)
  return {
    profile: profile.name, loss, duplication, delayMsMin, delayMsMax, reorder, kinds: drawn, faultIntervalMs, corruptRead,
    transfers: profile.transfers, retries: profile.retries, viewChanges, consistency, replicas, diskFull,
  }
}

/** A one-line summary of a plan, for the trace and `--verbose`. */
export function describePlan(plan: FaultPlan): string {
  const pct = (p: number): string => `${Math.round(p * 1000) / 10}%`
  const kinds = plan.kinds.length > 0 ? plan.kinds.join(',') : 'none'
  return `profile ${plan.profile}: loss ${pct(plan.loss)} dup ${pct(plan.duplication)} delay ${plan.delayMsMin}..${plan.delayMsMax}ms` +
    `${plan.reorder ? ' reorder' : ' fifo'} faults ${kinds} every ~${plan.faultIntervalMs}ms corrupt-read ${pct(plan.corruptRead)}` +
    `${plan.transfers ? ' transfers' : ''}${plan.retries ? ' retries' : ''} ${plan.consistency} replicas ${plan.replicas}${plan.viewChanges ? ' view-changes' : ''}${plan.diskFull ? ' disk-full' : ''}`
}

function roundRate(p: number): number {
  return Math.round(p * 10000) / 10000
}
