/**
 * Calls across threads, side by side in one run (BASELINES.md, "Crossing a worker boundary"):
 * raw MessagePort request/response, raw postMessage batched per microtask, comlink 4.4.2, and
 * troupe actor calls from this thread to hosts on worker threads (1 and 2 hosts), each at 1, 64,
 * 256 and 1,024 in flight; then actor-to-actor calls inside a cluster, on one host and across
 * two. Each figure is calls/s with per-call latency p50/p99, closed loop, best of interleaved
 * rounds after a warm-up; troupe is the built runtime in dist/. Run: `npm run build`, then
 * `node --import tsx bench/calls.bench.ts`; results go to bench/results/calls.json.
 */
import { bench, group, run, summary } from 'mitata'
import type { Counter } from '../actors/examples/counter.ts'
import type { ActorRef, Cluster } from '../index.ts'
import { bestOfRounds, type ClosedLoopOptions, type Measurement } from './lib/closed-loop.ts'
import { startEchoClients } from './lib/echo-clients.ts'
import { ratioOf, writeResults, type ResultRatio, type ResultRow } from './lib/results.ts'
import { troupe } from './lib/troupe.ts'

const inFlightLevels = [1, 64, 256, 1024] as const
/** Distinct Counter ids the troupe calls rotate over, so concurrent calls meet different mailboxes. */
const actorIdCount = 1024
/** Calls one Relay turn makes to its Sink. */
const innerCallsPerTurn = 256
const durationMs = Number(process.env.BENCH_DURATION_MS ?? 600)
const warmupMs = Number(process.env.BENCH_WARMUP_MS ?? 300)
const rounds = Number(process.env.BENCH_ROUNDS ?? 2)

/** Figures of BASELINES.md for the same configurations (another run: a sanity check only). */
const documented: Record<string, string> = {
  'raw MessagePort, 1': '35k/s, p50 29 µs',
  'raw MessagePort, 256': '186k/s',
  'batched raw postMessage, 64': '462k/s (B = 64)',
  'batched raw postMessage, 256': '275k/s p50 0.9 ms (prototype); 559k/s (B = 256)',
  'batched raw postMessage, 1024': '570k/s (B = 1024)',
  'comlink, 1': '17k/s, p50 52 µs',
  'comlink, 256': '54k/s',
}

const actorsUrl = new URL('./fixtures/actors.js', import.meta.url)
const echo = await startEchoClients()
// The call path alone (routing, mailbox, turn, state tracking): journaling and replication are
// measured per consistency level in durability.bench.ts.
const one = await troupe.Cluster.start({ actors: actorsUrl, hosts: 1, consistency: 'memory' })
const two = await troupe.Cluster.start({ actors: actorsUrl, hosts: 2, consistency: 'memory' })

/** Calls Counter.increment on the cluster, rotating over `actorIdCount` ids. */
function counterCalls(cluster: Cluster): () => Promise<number> {
  const refs: Array<ActorRef<Counter>> = Array.from({ length: actorIdCount }, (_, i) => cluster.actor<Counter>('Counter', `c${i}`))
  let next = 0
  return () => refs[next++ % actorIdCount]!.increment(1)
}

const contenders = {
  'raw MessagePort': { issue: () => echo.raw(1), levels: inFlightLevels },
  'batched raw postMessage': { issue: () => echo.batched(1), levels: [64, 256, 1024] },
  'comlink': { issue: () => echo.comlink(1), levels: inFlightLevels },
  'troupe, 1 host': { issue: counterCalls(one), levels: inFlightLevels },
  'troupe, 2 hosts': { issue: counterCalls(two), levels: inFlightLevels },
} satisfies Record<string, { issue: () => Promise<unknown>; levels: readonly number[] }>
type ContenderName = keyof typeof contenders

const measured = new Map<string, Measurement>()
const rows: ResultRow[] = []
const crossGroup = 'client → worker thread, calls/s at N in flight'

for (const inFlight of inFlightLevels) {
  const here = (Object.keys(contenders) as ContenderName[]).filter((name) => (contenders[name].levels as readonly number[]).includes(inFlight))
  const best = await bestOfRounds(here.map((name) => ({ key: name, issue: contenders[name].issue, options: { inFlight, durationMs } })), rounds, warmupMs)
  for (const name of here) {
    const m = best.get(name)!
    const label = `${name}, ${inFlight}`
    measured.set(label, m)
    rows.push({ group: crossGroup, name: `${name}, ${inFlight} in flight`, value: m.callsPerSecond, unit: 'calls/s', p50Us: m.p50Us, p99Us: m.p99Us, baseline: !name.startsWith('troupe'), documented: documented[label] })
    log(label, m)
  }
}

// Actor-to-actor: a Relay's turn makes `innerCallsPerTurn` calls to a Sink on its own host or
// on the other one; the client only starts turns. Pairs are picked with cluster.ownerOf.
const relayHost = 'host-0'
const relayIds = idsOn(two, 'Relay', relayHost, 64)
const sameHostSinks = idsOn(two, 'Sink', relayHost, 64)
const otherHostSinks = idsOn(two, 'Sink', two.view.hosts.find((h) => h !== relayHost)!, 64)

function relayTurns(sinks: string[], method: 'sequential' | 'parallel'): () => Promise<unknown> {
  let next = 0
  return () => {
    const i = next++ % relayIds.length
    return two.call(`Relay/${relayIds[i]}`, method, [sinks[i], innerCallsPerTurn])
  }
}

const actorGroup = `actor → actor inside a turn (${innerCallsPerTurn} calls per turn), calls/s`
const relayOptions = (relays: number): ClosedLoopOptions => ({ inFlight: relays, durationMs, callsPerIssue: innerCallsPerTurn, innerLatenciesUs: (r) => r as Float64Array })
const actorConfigs = [
  { key: 'same host, 1 in flight', issue: relayTurns(sameHostSinks, 'sequential'), options: relayOptions(1) },
  { key: 'same host, 64 in flight', issue: relayTurns(sameHostSinks, 'sequential'), options: relayOptions(64) },
  { key: `same host, ${innerCallsPerTurn} in flight`, issue: relayTurns(sameHostSinks, 'parallel'), options: relayOptions(1) },
  { key: 'other host, 1 in flight', issue: relayTurns(otherHostSinks, 'sequential'), options: relayOptions(1) },
  { key: 'other host, 64 in flight', issue: relayTurns(otherHostSinks, 'sequential'), options: relayOptions(64) },
  { key: `other host, ${innerCallsPerTurn} in flight`, issue: relayTurns(otherHostSinks, 'parallel'), options: relayOptions(1) },
]
const actorBest = await bestOfRounds(actorConfigs, rounds, warmupMs)
for (const { key } of actorConfigs) {
  const m = actorBest.get(key)!
  measured.set(`troupe actor → actor, ${key}`, m)
  rows.push({ group: actorGroup, name: `troupe actor → actor, ${key}`, value: m.callsPerSecond, unit: 'calls/s', p50Us: m.p50Us, p99Us: m.p99Us })
  log(`actor → actor, ${key}`, m)
}

// The same round trips at 1 in flight through mitata, as a cross-check of the loop above.
const counterOne = counterCalls(one)
const counterTwo = counterCalls(two)
group('round trip, 1 in flight (mitata)', () => {
  summary(() => {
    bench('raw MessagePort', () => echo.raw(1)).baseline(true)
    bench('comlink', () => echo.comlink(1))
    bench('troupe, 1 host', () => counterOne())
    bench('troupe, 2 hosts', () => counterTwo())
  })
})
const mitata = await run()
for (const trial of mitata.benchmarks) {
  for (const r of trial.runs) {
    if (!r.stats) continue
    rows.push({ group: 'round trip, 1 in flight (mitata)', name: r.name, value: 1e9 / r.stats.avg, unit: 'calls/s', p50Us: r.stats.p50 / 1000, p99Us: r.stats.p99 / 1000, baseline: !r.name.startsWith('troupe') })
  }
}

await Promise.all([one.stop(), two.stop(), echo.stop()])

const rate = (label: string): number | undefined => measured.get(label)?.callsPerSecond
const ratios: ResultRatio[] = []
for (const hosts of ['1 host', '2 hosts']) {
  for (const n of [256, 1024]) {
    ratios.push({ name: `troupe, ${hosts} / comlink, ${n} in flight (calls/s)`, value: ratioOf(rate(`troupe, ${hosts}, ${n}`), rate(`comlink, ${n}`)), op: '>=', target: 7 })
    ratios.push({ name: `troupe, ${hosts} / raw MessagePort, ${n} in flight (calls/s)`, value: ratioOf(rate(`troupe, ${hosts}, ${n}`), rate(`raw MessagePort, ${n}`)), op: '>=', target: 2 })
    ratios.push({ name: `troupe, ${hosts} / batched raw postMessage, ${n} in flight (calls/s)`, value: ratioOf(rate(`troupe, ${hosts}, ${n}`), rate(`batched raw postMessage, ${n}`)), op: '>=' })
  }
  ratios.push({ name: `troupe, ${hosts} / raw MessagePort, p50 latency at 1 in flight`, value: ratioOf(measured.get(`troupe, ${hosts}, 1`)?.p50Us, measured.get('raw MessagePort, 1')?.p50Us), op: '<=', target: 1.2 })
}
ratios.push({ name: 'actor → actor same host / troupe client → 1 host, 1 in flight (calls/s)', value: ratioOf(rate('troupe actor → actor, same host, 1 in flight'), rate('troupe, 1 host, 1')), op: '>=' })
ratios.push({ name: `actor → actor same host / other host, ${innerCallsPerTurn} in flight (calls/s)`, value: ratioOf(rate(`troupe actor → actor, same host, ${innerCallsPerTurn} in flight`), rate(`troupe actor → actor, other host, ${innerCallsPerTurn} in flight`)), op: '>=' })

console.log(`wrote ${writeResults('calls', rows, ratios)}`)

function idsOn(cluster: Cluster, type: string, host: string, count: number): string[] {
  const ids: string[] = []
  for (let i = 0; ids.length < count; i++) {
    const id = `${type.toLowerCase()}-${i}`
    if (cluster.ownerOf(type, id) === host) ids.push(id)
  }
  return ids
}

function log(label: string, m: Measurement): void {
  console.log(`${label.padEnd(48)} ${Math.round(m.callsPerSecond).toLocaleString('en').padStart(11)} calls/s  p50 ${m.p50Us.toFixed(1).padStart(8)} µs  p99 ${m.p99Us.toFixed(1).padStart(8)} µs`)
}
