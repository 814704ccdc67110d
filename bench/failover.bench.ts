/**
 * Failover, activation and start-up times, each beside its raw baseline in the same run
 * (issue 5, "Benchmarks"):
 *
 * - failover: 4 hosts, replicas 2, `strong`, journals under os.tmpdir(). Each round warms a fresh
 *   actor (so both backups hold a warm copy), kills its primary with `cluster.kill` (terminate)
 *   and polls the actor (`where()`, which names the serving host) until a call is answered by
 *   another host: the time from just before the kill to that reply. Also a real crash: the
 *   actor throws an uncaught error in its host at an announced moment (`crashIn`), timed from
 *   that moment. Baseline: a bare worker's uncaught throw to its `exit` event, and terminate()
 *   to `exit`.
 * - activation, first call on an actor: cold (never run), warm-backup takeover (primary killed,
 *   view published), journal replay (passivated after N records, `idleTimeoutMs` small).
 * - host cold start: `Cluster.start({ hosts: 1 })` until it serves calls, against a bare ESM
 *   worker from spawn to its first message.
 *
 * Run: `npm run build`, then `node --import tsx bench/failover.bench.ts`; results go to
 * bench/results/failover.json. Rounds: BENCH_FAILOVERS (20, for kills and for crashes each), BENCH_STARTS (10).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import type { Cluster, ClusterEvent } from '../index.ts'
import { ratioOf, writeResults, type ResultRatio, type ResultRow } from './lib/results.ts'
import { summarize, type Summary } from './lib/samples.ts'
import { troupe } from './lib/troupe.ts'

const failovers = Number(process.env.BENCH_FAILOVERS ?? 20)
const crashes = failovers
const starts = Number(process.env.BENCH_STARTS ?? 10)
const replayRecords = [1, 500] as const
const replayActors = 10
const hostCount = 4

const root = mkdtempSync(join(tmpdir(), 'troupe-failover-bench-'))
const probeActors = new URL('./fixtures/failover-actors.js', import.meta.url)
const exampleActors = new URL('../dist/actors/examples/index.js', import.meta.url)
const bareWorker = new URL('./fixtures/bare-worker.js', import.meta.url)
/** One clock for every thread of this process, in ms. */
const now = (): number => performance.timeOrigin + performance.now()

interface Where { host: string; count: number }
const where = (cluster: Cluster, id: string): Promise<Where> => cluster.call(`Probe/${id}`, 'where', []) as Promise<Where>
const increment = (cluster: Cluster, id: string): Promise<unknown> => cluster.call(`Probe/${id}`, 'increment', [1])

const samples = new Map<string, number[]>()
function record(name: string, ms: number): void {
  let list = samples.get(name)
  if (!list) samples.set(name, (list = []))
  list.push(ms)
}

// --- failover ---------------------------------------------------------------------------------

const cluster = await troupe.Cluster.start({
  actors: probeActors, hosts: hostCount, replicas: 2, consistency: 'strong', dataDir: join(root, 'failover'),
  // Every kill is followed by a replacement: allow them all (the default gives up after 5 in 5 s).
  supervision: { intensity: 10_000, periodMs: 1000 },
})
const seen: Array<{ at: number; event: ClusterEvent }> = []
cluster.on((event) => seen.push({ at: now(), event }))

// Some load in the background state: 1,024 actors with a record each, and JIT warm-up.
await Promise.all(Array.from({ length: 1024 }, (_, i) => increment(cluster, `bg-${i}`)))
for (let i = 0; i < 2000; i++) await where(cluster, `bg-${i % 1024}`)

let nextId = 0
/** A fresh actor whose primary is `host` (any host when undefined), warmed with `writes` increments. */
async function warmActor(prefix: string, host: string | undefined, writes: number): Promise<string> {
  let id: string
  do id = `${prefix}-${nextId++}`
  while (host !== undefined && cluster.ownerOf('Probe', id) !== host)
  for (let i = 0; i < writes; i++) await increment(cluster, id)
  return id
}

/** Waits until every host is up in a view of `hostCount` hosts, then lets re-replication settle. */
async function steady(): Promise<void> {
  const deadline = performance.now() + 30_000
  for (;;) {
    const hosts = await cluster.hosts()
    if (cluster.view.hosts.length === hostCount && hosts.every((h) => h.state === 'up')) break
    if (performance.now() > deadline) throw new Error(`cluster not steady: ${JSON.stringify(hosts.map((h) => [h.id, h.state]))}`)
    await sleep(5)
  }
  await sleep(50)
}

/** Polls `id` until a host other than `dead` answers; returns when (ms, `now()` clock) and the reply. */
async function firstReplyElsewhere(id: string, dead: string): Promise<{ at: number; reply: Where; attempts: number }> {
  for (let attempts = 1; ; attempts++) {
    try {
      const reply = await where(cluster, id)
      if (reply.host !== dead) return { at: now(), reply, attempts }
    } catch {
      // the old primary is gone and the view has not moved yet: try again
    }
    await yieldToLoop()
  }
}

const writesBeforeKill = 3
for (let round = 0; round < failovers; round++) {
  await steady()
  // Cold activation: the first call on an actor that never ran.
  const cold = `cold-${round}`
  let t = now()
  await where(cluster, cold)
  record('activation: cold', now() - t)

  const victim = await warmActor('victim', undefined, writesBeforeKill)
  const primary = cluster.ownerOf('Probe', victim)!
  const takeover = await warmActor('takeover', primary, writesBeforeKill)
  const mark = seen.length

  const t0 = now()
  const killed = cluster.kill(primary)
  const first = await firstReplyElsewhere(victim, primary)
  await killed
  const resolved = now()
  if (first.reply.count !== writesBeforeKill) throw new Error(`${victim}: ${writesBeforeKill} increments acknowledged, new primary has ${first.reply.count}`)
  record('failover: kill → first call answered by the new primary', first.at - t0)
  record('failover: kill → cluster.kill resolved (worker exited)', resolved - t0)
  const events = seen.slice(mark)
  const down = events.find((e) => e.event.kind === 'host-down' && e.event.host === primary)
  const view = events.find((e) => e.event.kind === 'view' && !e.event.view.hosts.includes(primary))
  if (down) record('failover: kill → host-down event', down.at - t0)
  if (view) record('failover: kill → view without the host (client)', view.at - t0)

  // Warm-backup takeover: the first call on another actor of the dead primary, view published.
  t = now()
  const moved = await where(cluster, takeover)
  record('activation: warm-backup takeover', now() - t)
  if (moved.host === primary || moved.count !== writesBeforeKill) throw new Error(`${takeover}: served by ${moved.host} with ${moved.count}`)
}

// A real crash: an uncaught error thrown in the primary's worker at an announced moment.
for (let round = 0; round < crashes; round++) {
  await steady()
  const victim = await warmActor('crash-victim', undefined, writesBeforeKill)
  const primary = cluster.ownerOf('Probe', victim)!
  const bystander = await warmActor('crasher', primary, 0)
  const mark = seen.length
  const at = (await cluster.call(`Probe/${bystander}`, 'crashIn', [20])) as number
  while (now() < at - 1) await sleep(0)
  const first = await firstReplyElsewhere(victim, primary)
  if (first.reply.count !== writesBeforeKill) throw new Error(`${victim}: ${writesBeforeKill} increments acknowledged, new primary has ${first.reply.count}`)
  record('failover: uncaught throw in the host → first call answered by the new primary', first.at - at)
  const down = seen.slice(mark).find((e) => e.event.kind === 'host-down' && e.event.host === primary)
  if (down) record('failover: uncaught throw in the host → host-down event', down.at - at)
}
await steady()
await cluster.stop()

// --- baseline: crash detection of a bare worker -------------------------------------------------

async function bareWorker_(): Promise<Worker> {
  const worker = new Worker(bareWorker)
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve())
    worker.once('error', reject)
  })
  return worker
}

for (let round = 0; round < failovers; round++) {
  {
    const worker = await bareWorker_()
    let thrownAt = Number.NaN
    let errorAt = Number.NaN
    worker.on('message', (at: number) => (thrownAt = at))
    worker.on('error', () => (errorAt = now()))
    const exited = new Promise<number>((resolve) => worker.once('exit', () => resolve(now())))
    worker.postMessage('throw')
    const exitAt = await exited
    record('raw: uncaught throw → worker error event', errorAt - thrownAt)
    record('raw: uncaught throw → worker exit event', exitAt - thrownAt)
  }
  {
    const worker = await bareWorker_()
    const exited = new Promise<number>((resolve) => worker.once('exit', () => resolve(now())))
    const t0 = now()
    const terminated = worker.terminate().then(() => now())
    record('raw: terminate() → worker exit event', (await exited) - t0)
    record('raw: terminate() → promise resolved', (await terminated) - t0)
  }
}

// --- activation: journal replay after passivation ---------------------------------------------

const idleTimeoutMs = 200
const replay = await troupe.Cluster.start({
  actors: probeActors, hosts: 3, replicas: 2, consistency: 'strong', dataDir: join(root, 'replay'), limits: { idleTimeoutMs },
})
const passivations = async (): Promise<number> => (await replay.hosts()).reduce((sum, h) => sum + h.passivationsTotal, 0)
for (const n of replayRecords) {
  const ids = Array.from({ length: replayActors }, (_, i) => `replay-${n}-${i}`)
  await Promise.all(ids.map(async (id) => {
    for (let i = 0; i < n; i++) await replay.call(`Probe/${id}`, 'increment', [1])
  }))
  // Wait until all of them were passivated (no call reaches them meanwhile).
  const before = await passivations()
  const deadline = performance.now() + 10_000
  const target = before + ids.length
  while ((await passivations()) < target && performance.now() < deadline) await sleep(idleTimeoutMs / 4)
  const passivated = (await passivations()) >= target
  if (!passivated) console.warn(`replay, ${n} records: not every actor was passivated in time`)
  await sleep(idleTimeoutMs)
  for (const id of ids) {
    const t = now()
    const reply = (await replay.call(`Probe/${id}`, 'where', [])) as Where
    record(`activation: journal replay, ${n} record${n === 1 ? '' : 's'}`, now() - t)
    if (reply.count !== n) throw new Error(`${id}: ${n} increments acknowledged, replay has ${reply.count}`)
  }
}
await replay.stop()

// --- host cold start ---------------------------------------------------------------------------

for (let round = -2; round < starts; round++) {
  // Two rounds of each first, not recorded (the first start in a process loads modules here too);
  // a pause after each teardown, so a worker still exiting does not slow the next start.
  let t = now()
  const worker = new Worker(bareWorker)
  await new Promise<void>((resolve) => worker.once('message', () => resolve()))
  const bare = now() - t
  await worker.terminate()
  await sleep(20)
  t = now()
  const started = await troupe.Cluster.start({ actors: exampleActors, hosts: 1 })
  const ready = now() - t
  t = now()
  await started.call('Counter/c', 'get', [])
  const firstCall = now() - t
  await started.stop()
  await sleep(20)
  if (round >= 0) {
    record('raw: bare ESM worker, spawn → first message', bare)
    record('cold start: Cluster.start({ hosts: 1 }) → ready', ready)
    record('cold start: then the first call (a cold activation)', firstCall)
  }
}
rmSync(root, { recursive: true, force: true })

// --- results -----------------------------------------------------------------------------------

const stats = new Map<string, Summary>([...samples].map(([name, values]) => [name, summarize(values)]))
const groups: Array<[string, string[]]> = [
  [`failover (${hostCount} hosts, replicas 2, strong, file journals): ms from the crash`, [
    'failover: kill → first call answered by the new primary',
    'failover: kill → host-down event',
    'failover: kill → view without the host (client)',
    'failover: kill → cluster.kill resolved (worker exited)',
    'failover: uncaught throw in the host → host-down event',
    'failover: uncaught throw in the host → first call answered by the new primary',
    'raw: uncaught throw → worker error event',
    'raw: uncaught throw → worker exit event',
    'raw: terminate() → worker exit event',
    'raw: terminate() → promise resolved',
  ]],
  ['activation, first call on an actor (strong, 3–4 hosts, file journals)', [
    'activation: cold',
    'activation: warm-backup takeover',
    ...replayRecords.map((n) => `activation: journal replay, ${n} record${n === 1 ? '' : 's'}`),
  ]],
  ['host cold start', [
    'cold start: Cluster.start({ hosts: 1 }) → ready',
    'cold start: then the first call (a cold activation)',
    'raw: bare ESM worker, spawn → first message',
  ]],
]
/** Figures of shared/BASELINES.md (another run: a sanity check only). */
const documented: Record<string, string> = {
  'raw: uncaught throw → worker error event': '1.9 ms',
  'raw: uncaught throw → worker exit event': '4.2 ms',
  'raw: terminate() → promise resolved': '2.4 ms',
  'raw: bare ESM worker, spawn → first message': '50 ms',
}
const rows: ResultRow[] = []
for (const [group, names] of groups) {
  for (const name of names) {
    const s = stats.get(name)
    if (!s) continue
    rows.push({ group, name: `${name.replace(/^raw: /, '')} (n = ${s.count})`, unit: 'ms', p50Us: s.p50 * 1000, p99Us: s.p99 * 1000, baseline: name.startsWith('raw: '), documented: documented[name] })
    console.log(`${name.padEnd(84)} n=${String(s.count).padStart(3)}  p50 ${s.p50.toFixed(2).padStart(8)} ms  p99 ${s.p99.toFixed(2).padStart(8)} ms  min ${s.min.toFixed(2)}  max ${s.max.toFixed(2)}`)
  }
}
const p50 = (name: string): number | undefined => stats.get(name)?.p50
const ratios: ResultRatio[] = [
  { name: 'failover to a warm backup (kill → first call on the new primary), p50 in ms', value: p50('failover: kill → first call answered by the new primary') ?? Number.NaN, op: '<=', target: 10 },
  { name: 'failover p50 / raw terminate() → exit p50', value: ratioOf(p50('failover: kill → first call answered by the new primary'), p50('raw: terminate() → worker exit event')), op: '<=' },
  { name: 'failover after an uncaught throw, p50 in ms', value: p50('failover: uncaught throw in the host → first call answered by the new primary') ?? Number.NaN, op: '<=', target: 10 },
  { name: 'failover after an uncaught throw p50 / raw throw → exit p50', value: ratioOf(p50('failover: uncaught throw in the host → first call answered by the new primary'), p50('raw: uncaught throw → worker exit event')), op: '<=' },
  { name: 'cold start p50 / bare ESM worker p50', value: ratioOf(p50('cold start: Cluster.start({ hosts: 1 }) → ready'), p50('raw: bare ESM worker, spawn → first message')), op: '<=', target: 1.3 },
]
console.log(`wrote ${writeResults('failover', rows, ratios)}`)
