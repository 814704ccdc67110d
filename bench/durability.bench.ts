/**
 * Durable updates per consistency level, against the disk they are made durable on, in one run
 * (issue 4, "Benchmarks"): Counter.increment on 4,096 actor ids through a cluster of 3 hosts with
 * 2 replicas (every actor on all three) journaling to files under os.tmpdir() (fdatasync), at
 * `memory`, `local`, `quorum` and `strong`, 1 / 64 / 1,024 in flight; beside raw write +
 * fdatasync per 100-byte record and raw group commit (1,000 records, one write + one fdatasync)
 * in the same directory. Closed loop, best of interleaved rounds after a warm-up (lib/closed-loop.ts);
 * troupe is the built runtime in dist/. Run: `npm run build`, then
 * `node --import tsx bench/durability.bench.ts`; results go to bench/results/durability.json.
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bench, group, run, summary } from 'mitata'
import type { Counter } from '../actors/examples/counter.ts'
import type { ActorRef, Cluster } from '../index.ts'
import { bestOfRounds, type Measurement } from './lib/closed-loop.ts'
import { rawDurableWrites, type DiskMeasurement } from './lib/disk-baselines.ts'
import { ratioOf, writeResults, type ResultRatio, type ResultRow } from './lib/results.ts'
import { summarize } from './lib/samples.ts'
import { troupe } from './lib/troupe.ts'

const levels = ['memory', 'local', 'quorum', 'strong'] as const
type Level = (typeof levels)[number]
const inFlightLevels = [1, 64, 1024] as const
const hosts = 3
const replicas = 2
/** Distinct Counter ids the calls rotate over, so concurrent calls meet different mailboxes. */
const actorIdCount = 4096
const recordBytes = 100
const groupCommitRecords = 1000
const durationMs = Number(process.env.BENCH_DURATION_MS ?? 600)
const warmupMs = Number(process.env.BENCH_WARMUP_MS ?? 300)
const rounds = Number(process.env.BENCH_ROUNDS ?? 2)

const root = mkdtempSync(join(tmpdir(), 'troupe-durability-bench-'))
const actorsUrl = new URL('../dist/actors/examples/index.js', import.meta.url)

interface Contender {
  cluster: Cluster
  refs: Array<ActorRef<Counter>>
  /** Increments acknowledged so far (every one must be in the final counts). */
  acknowledged: number
  next: number
}

const contenders = new Map<Level, Contender>()
for (const level of levels) {
  const cluster = await troupe.Cluster.start({ actors: actorsUrl, hosts, replicas, consistency: level, dataDir: join(root, level) })
  const refs = Array.from({ length: actorIdCount }, (_, i) => cluster.actor<Counter>('Counter', `c${i}`))
  contenders.set(level, { cluster, refs, acknowledged: 0, next: 0 })
}

function increments(level: Level): () => Promise<number> {
  const c = contenders.get(level)!
  return async () => {
    const value = await c.refs[c.next++ % actorIdCount]!.increment(1)
    c.acknowledged++
    return value
  }
}
const issue = new Map(levels.map((level) => [level, increments(level)]))

// Activate every actor first (cold activations are not what this measures), 256 at a time.
for (const level of levels) await closedLoopCalls(issue.get(level)!, actorIdCount, 256)

/** Best (highest records/s) of the disk baselines, measured between the troupe rounds. */
const disk = { perRecord: undefined as DiskMeasurement | undefined, groupCommit: undefined as DiskMeasurement | undefined }
function measureDisk(): void {
  const perRecord = rawDurableWrites(root, 'raw-per-record.log', recordBytes, 1, durationMs)
  const groupCommit = rawDurableWrites(root, 'raw-group-commit.log', recordBytes, groupCommitRecords, durationMs)
  if (!disk.perRecord || perRecord.recordsPerSecond > disk.perRecord.recordsPerSecond) disk.perRecord = perRecord
  if (!disk.groupCommit || groupCommit.recordsPerSecond > disk.groupCommit.recordsPerSecond) disk.groupCommit = groupCommit
  log('raw write + fdatasync per record', perRecord.recordsPerSecond, perRecord.p50Us, perRecord.p99Us, 'records/s')
  log(`raw group commit (${groupCommitRecords} records)`, groupCommit.recordsPerSecond, groupCommit.p50Us, groupCommit.p99Us, 'records/s')
}

const measured = new Map<string, Measurement>()
const rows: ResultRow[] = []
const updatesGroup = `durable updates (Counter.increment, ${hosts} hosts, replicas ${replicas}, journals on ${root.startsWith('/tmp') ? '/tmp' : 'os.tmpdir()'}), updates/s at N in flight`

measureDisk()
for (const inFlight of inFlightLevels) {
  const best = await bestOfRounds(levels.map((level) => ({ key: level, issue: issue.get(level)!, options: { inFlight, durationMs } })), rounds, warmupMs)
  for (const level of levels) {
    const m = best.get(level)!
    measured.set(`${level}, ${inFlight}`, m)
    rows.push({ group: updatesGroup, name: `${level}, ${inFlight} in flight`, value: m.callsPerSecond, unit: 'updates/s', p50Us: m.p50Us, p99Us: m.p99Us })
    log(`${level}, ${inFlight} in flight`, m.callsPerSecond, m.p50Us, m.p99Us, 'updates/s')
  }
  if (inFlight === 64) measureDisk()
}
measureDisk()

const diskGroup = `the same disk and directory, ${recordBytes}-byte records`
rows.push({ group: diskGroup, name: 'raw write + fdatasync per record', value: disk.perRecord!.recordsPerSecond, unit: 'records/s', p50Us: disk.perRecord!.p50Us, p99Us: disk.perRecord!.p99Us, baseline: true, documented: '5.7k/s, p50 168 µs' })
rows.push({ group: diskGroup, name: `raw group commit (${groupCommitRecords.toLocaleString('en')} records: one write + one fdatasync; latency per batch)`, value: disk.groupCommit!.recordsPerSecond, unit: 'records/s', p50Us: disk.groupCommit!.p50Us, p99Us: disk.groupCommit!.p99Us, baseline: true, documented: '1.6M records/s' })

// One update alone against one raw fdatasync at the same moments: the disk's latency here swings
// by 10x within a minute (other work on the machine), so the 1-in-flight ratio pairs them: each
// step is one raw write + fdatasync, then one increment per level, one after another.
const pairedGroup = 'one update alone vs one raw fdatasync, alternating (same moments)'
const pairedSteps = Number(process.env.BENCH_PAIRED_STEPS ?? 400)
const pairedRaw = rawSyncer(join(root, 'raw-paired.log'))
const paired = new Map<string, number[]>([['raw', []], ...levels.map((level): [string, number[]] => [level, []])])
for (let step = 0; step < pairedSteps; step++) {
  let t0 = performance.now()
  pairedRaw.sync()
  paired.get('raw')!.push((performance.now() - t0) * 1000)
  for (const level of levels) {
    t0 = performance.now()
    await issue.get(level)!()
    paired.get(level)!.push((performance.now() - t0) * 1000)
  }
}
pairedRaw.close()
const pairedStats = new Map([...paired].map(([name, values]) => [name, summarize(values)]))
for (const [name, st] of pairedStats) {
  const raw = name === 'raw'
  rows.push({ group: pairedGroup, name: raw ? 'raw write + fdatasync per record' : `${name}, Counter.increment`, value: 1e6 / st.p50, unit: raw ? 'records/s at p50' : 'updates/s at p50', p50Us: st.p50, p99Us: st.p99, baseline: raw })
  log(`paired: ${name}`, 1e6 / st.p50, st.p50, st.p99, 'ops/s at p50')
}

// One update alone, through mitata, as a cross-check of the 1-in-flight loop.
const mitataGroup = 'one update alone, 1 in flight (mitata)'
const rawFd = rawSyncer(join(root, 'raw-mitata.log'))
group(mitataGroup, () => {
  summary(() => {
    bench('raw write + fdatasync per record', () => rawFd.sync()).baseline(true)
    for (const level of ['memory', 'strong'] as const) bench(`${level}, Counter.increment`, issue.get(level)!)
  })
})
const mitata = await run()
rawFd.close()
for (const trial of mitata.benchmarks) {
  for (const r of trial.runs) {
    if (!r.stats) continue
    rows.push({ group: mitataGroup, name: r.name, value: 1e9 / r.stats.avg, unit: 'ops/s', p50Us: r.stats.p50 / 1000, p99Us: r.stats.p99 / 1000, baseline: r.name.startsWith('raw') })
  }
}

// Every acknowledged increment must be in the counts (a sanity check, not a fault test).
for (const level of levels) {
  const c = contenders.get(level)!
  const counts = await Promise.all(c.refs.map((ref) => ref.get()))
  const total = counts.reduce((a, b) => a + b, 0)
  if (total < c.acknowledged) throw new Error(`${level}: ${c.acknowledged} increments acknowledged, ${total} counted`)
  console.log(`${level}: ${c.acknowledged.toLocaleString('en')} increments acknowledged, ${total.toLocaleString('en')} counted`)
}
await Promise.all([...contenders.values()].map((c) => c.cluster.stop()))
rmSync(root, { recursive: true, force: true })

const strong1024 = measured.get('strong, 1024')
const ratios: ResultRatio[] = [
  { name: 'strong, 1,024 in flight: thousand updates/s', value: (strong1024?.callsPerSecond ?? Number.NaN) / 1000, op: '>=', target: 150 },
  { name: 'strong, 1,024 in flight: p99 in ms', value: (strong1024?.p99Us ?? Number.NaN) / 1000, op: '<=', target: 10 },
  { name: 'strong, one update alone p50 / one raw fdatasync p50 (alternating)', value: ratioOf(pairedStats.get('strong')?.p50, pairedStats.get('raw')?.p50), op: '<=', target: 3 },
  { name: 'strong, 1 in flight p50 (closed loop) / raw fdatasync p50 (best of 3 windows)', value: ratioOf(measured.get('strong, 1')?.p50Us, disk.perRecord?.p50Us), op: '<=' },
]
for (const level of ['memory', 'local', 'quorum'] as const) {
  ratios.push({ name: `${level}, one update alone p50 / one raw fdatasync p50 (alternating)`, value: ratioOf(pairedStats.get(level)?.p50, pairedStats.get('raw')?.p50), op: '<=' })
}
for (const level of levels) {
  ratios.push({ name: `raw group commit records/s / ${level} updates/s, 1,024 in flight (how far below the disk)`, value: ratioOf(disk.groupCommit?.recordsPerSecond, measured.get(`${level}, 1024`)?.callsPerSecond), op: '<=' })
}
console.log(`wrote ${writeResults('durability', rows, ratios)}`)

/** Runs `total` calls of `issue`, `inFlight` at a time. */
async function closedLoopCalls(call: () => Promise<unknown>, total: number, inFlight: number): Promise<void> {
  let issued = 0
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (issued < total) {
      issued++
      await call()
    }
  }))
}

/** One 100-byte record written and fdatasync'ed per `sync()`, in the file at `path`. */
function rawSyncer(path: string): { sync(): void; close(): void } {
  const fd = openSync(path, 'w')
  const record = new Uint8Array(recordBytes).fill(7)
  return {
    sync() {
      writeSync(fd, record)
      fdatasyncSync(fd)
    },
    close() {
      closeSync(fd)
    },
  }
}

function log(label: string, rate: number, p50Us: number, p99Us: number, unit: string): void {
  console.log(`${label.padEnd(40)} ${Math.round(rate).toLocaleString('en').padStart(11)} ${unit}  p50 ${p50Us.toFixed(1).padStart(8)} µs  p99 ${p99Us.toFixed(1).padStart(8)} µs`)
}
