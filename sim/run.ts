import { buggifyStats, disableBuggify, enableBuggify } from '../runtime/buggify.ts'
import type { Operation } from './checker/history.ts'
import { checkRun, type SimViolation } from './check.ts'
import { describePlan, drawFaultPlan, faultProfiles, type FaultPlan, type FaultProfile } from './faults.ts'
import { DiskFiller, Nemesis } from './nemesis.ts'
import { drawKeyspace } from './operations.ts'
import { componentRandom, intBetween } from './seed.ts'
import { clusterClientPort, retryingPort, type CallPort } from './sim-client.ts'
import { Workload } from './workload.ts'
import { World } from './world.ts'

/** How to run one seed. */
export interface RunOptions {
  readonly seed: number
  /** A profile name from `faultProfiles`, or a profile; default `ci`. */
  readonly profile?: string | FaultProfile
  /** Simulated time with faults and load, in ms; default 8,000. */
  readonly safetyMs?: number
  /** Keep the trace's lines in the result. */
  readonly keepTrace?: boolean
  /** Hosts; default drawn from the seed (3 to 5). */
  readonly hostCount?: number
  /** Called with the world once it is built, before load starts (named scenarios aim faults here). */
  readonly setup?: (world: World, nemesis: Nemesis) => void
}

/** Everything one seed produced. */
export interface RunResult {
  readonly seed: number
  readonly plan: FaultPlan
  readonly hostCount: number
  readonly clientCount: number
  readonly history: readonly Operation[]
  readonly finals: ReadonlyMap<string, unknown>
  readonly faults: ReadonlyMap<string, number>
  readonly violations: readonly SimViolation[]
  readonly inconclusive: readonly string[]
  readonly traceDigest: string
  readonly traceLines: readonly string[]
  readonly simulatedMs: number
}

/** Liveness bounds: after faults stop, pending calls must end, and every key be readable, within these. */
const settleMs = 3_000
const finalReadMs = 5_000
const finalReadAttempts = 3
/** Rounds of final reads at most (one more each time turns ran during the last). */
const finalReadRounds = 3

/** Runs one seed: build the world, load it under faults (safety), stop faults (liveness), check. */
export async function runSeed(options: RunOptions): Promise<RunResult> {
  const { seed } = options
  const profile = typeof options.profile === 'object' ? options.profile : faultProfiles[options.profile ?? 'ci']
  if (profile === undefined) throw new RangeError(`unknown fault profile ${String(options.profile)}; known: ${Object.keys(faultProfiles).join(', ')}`)
  const shape = componentRandom(seed, 'shape')
  const plan = drawFaultPlan(profile, componentRandom(seed, 'plan'))
  const hostCount = options.hostCount ?? intBetween(shape, 3, 5)
  const clientCount = intBetween(shape, 2, 4)
  const world = await World.create({
    seed, plan, hostCount, keepTrace: options.keepTrace ?? false,
    replicas: plan.replicas, consistency: plan.consistency, viewChanges: plan.viewChanges,
    detectionMs: intBetween(componentRandom(seed, 'detection'), 200, 800),
  })
  let nemesis: Nemesis | undefined
  enableBuggify({
    random: componentRandom(seed, 'buggify'),
    onFire: (point, subject) => {
      world.count(`buggify:${point}`)
      world.trace.add(subject === undefined ? `buggify ${point}` : `buggify ${point} ${subject}`)
      if (point === 'replication.drop-shipment' && subject !== undefined) nemesis?.shipmentLost(subject)
    },
  })
  try {
    world.trace.add(`seed ${seed} hosts ${hostCount} clients ${clientCount} ${describePlan(plan)}`)
    const makePort = plan.retries ? retryingPort : clusterClientPort
    const clients = Array.from({ length: clientCount }, (_, i) => ({ port: makePort(world, `client-${i}`, componentRandom(seed, `client-id:${i}`)), random: componentRandom(seed, `client:${i}`) }))
    const workload = new Workload(world, drawKeyspace(shape, plan.transfers), plan.retries)
    nemesis = new Nemesis(world, componentRandom(seed, 'nemesis'), () => [...world.hostIds, ...clients.map((c) => c.port.id)])
    const diskFiller = plan.diskFull ? new DiskFiller(world, nemesis, componentRandom(seed, 'disk-full')) : undefined
    options.setup?.(world, nemesis)
    workload.start(clients)
    nemesis.start()
    diskFiller?.start()
    await world.clock.run(options.safetyMs ?? 8_000)
    diskFiller?.stop()
    const liveness = await livenessPhase(world, workload, nemesis, clients.map((c) => c.port))
    world.sweepActivations()
    const report = checkRun({
      history: workload.history(),
      families: workload.families,
      finals: workload.finals,
      finalTags: workload.finalTags,
      activations: world.activations.events,
    })
    world.count('buggify-points-fired', buggifyStats().filter((p) => p.fired > 0).length)
    for (const [kind, n] of Object.entries(world.network.stats())) if (kind !== 'delivered') world.count(kind, n)
    const violations = [...classifyStuck(world, liveness), ...report.violations]
    for (const v of violations) world.trace.add(`violation ${v.invariant} ${v.key ?? ''}: ${v.message}`)
    return {
      seed, plan, hostCount, clientCount,
      history: workload.history(),
      finals: workload.finals,
      faults: world.faults,
      violations,
      inconclusive: report.inconclusive,
      traceDigest: world.trace.digest(),
      traceLines: world.trace.lines(),
      simulatedMs: world.clock.now(),
    }
  } finally {
    disableBuggify()
    world.dispose()
  }
}

/** Faults stop; every pending call must end and every key be readable within bounded simulated time. */
async function livenessPhase(world: World, workload: Workload, nemesis: Nemesis, ports: readonly CallPort[]): Promise<SimViolation[]> {
  const violations: SimViolation[] = []
  world.trace.add('liveness phase: faults stop')
  workload.stop()
  nemesis.stop()
  world.quietNetwork()
  world.setCorruptReads(0)
  const settled = await world.runUntil(() => workload.idle && ports.every((p) => p.inFlight === 0), settleMs)
  if (!settled) {
    const pending = ports.reduce((n, p) => n + p.inFlight, 0)
    violations.push({ invariant: 'liveness', key: undefined, message: `${pending} calls still pending ${settleMs} ms after the faults stopped` })
  }
  for (const port of ports) port.stop()
  // The final reads are one actor at a time, not a snapshot: they must not run while a turn is
  // still under way (a transfer between two accounts read halfway is neither lost nor created
  // money). A client may have given up on a call its host still runs, or whose frame is still
  // delayed in the network; the cluster has until then to finish it.
  // A read may itself activate an actor whose journal holds an unfinished turn, which then runs
  // first: when any turn ran during a round of reads, the cluster settles and they are read again.
  const reader = clusterClientPort(world, 'final-reader', componentRandom(world.seed, 'final-reader'))
  let unreachable: string[] | undefined
  let read = false
  for (let round = 0; round < finalReadRounds; round++) {
    const quiet = await world.runUntil(() => world.quiescent(), settleMs)
    if (!quiet) world.trace.add('liveness phase: still busy, final reads start anyway')
    const effectsBefore = world.effects.length
    unreachable = undefined
    const reading = workload.finalReads(reader, finalReadAttempts).then((keys) => { unreachable = keys })
    read = await world.runUntil(() => unreachable !== undefined, finalReadMs)
    await reading.catch(() => undefined)
    await world.runUntil(() => world.quiescent(), settleMs)
    if (!read || world.effects.length === effectsBefore) break
    world.trace.add('liveness phase: turns ran during the final reads; reading again')
  }
  reader.stop()
  if (!read) violations.push({ invariant: 'liveness', key: undefined, message: `final reads did not finish within ${finalReadMs} ms` })
  for (const key of unreachable ?? []) {
    violations.push({ invariant: 'liveness', key, message: `${key} could not be read in ${finalReadAttempts} attempts after the faults stopped` })
  }
  return violations
}

/**
 * A liveness violation on a key whose new activation still waits behind a passivation on the
 * same host that never ended says so (once a known bug, 'stuck-behind-passivation', now fixed:
 * were it back, its seeds fail as liveness with this note).
 */
function classifyStuck(world: World, liveness: readonly SimViolation[]): SimViolation[] {
  const stuck = world.activations.stuck()
  if (stuck.length === 0) return [...liveness]
  const keys = new Set(stuck.map((s) => s.key))
  const where = stuck.map((s) => `${s.key} on ${s.hostId}`).join(', ')
  return liveness.map((v) => (v.key === undefined || keys.has(v.key))
    ? { ...v, message: `${v.message} (a new activation waits behind a passivation that never ends: ${where})` }
    : v)
}
