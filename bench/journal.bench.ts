/**
 * Journal storage on disk, against its baselines in the same run (BASELINES.md, disk):
 * 100-byte records; raw write + fdatasync per record; raw group commit (1,000 records in one
 * write + one fdatasync); and FileJournalStorage at 1, 64 and 1,024 concurrent appends (each
 * to its own key). Run: `npx tsx bench/journal.bench.ts`; results also go to
 * bench/results/journal.json as records per second and p50 per iteration.
 */
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bench, group, run } from 'mitata'
import { FileJournalStorage } from '../runtime/journal/file-storage.ts'
import type { JournalRecord } from '../runtime/journal/storage.ts'
import { v8Codec } from '../runtime/journal/v8-codec.ts'

const recordBytes = 100
const coalescedRecords = 1000
const concurrencies = [1, 64, 1024] as const
const root = mkdtempSync(join(tmpdir(), 'troupe-journal-bench-'))

const padding = 'x'.repeat(recordBytes - v8Codec.encode({ seq: 1, epoch: 1, requestId: 'r-0000000000', patch: '', result: 0 }).byteLength)

/** A record whose encoded form is about `recordBytes` bytes (exactly at small seqs). */
function record(seq: number): JournalRecord {
  return { seq, epoch: 1, requestId: 'r-0000000000', patch: padding, result: 0 }
}

const rawFd = openSync(join(root, 'raw.log'), 'w')
const oneRecord = new Uint8Array(recordBytes).fill(7)
const coalesced = new Uint8Array(recordBytes * coalescedRecords).fill(7)
const storage = await FileJournalStorage.open({ dir: join(root, 'journal') })
const nextSeq = new Map<string, number>()
const keysFor = (n: number): string[] => Array.from({ length: n }, (_, i) => `Bench/c${n}-k${i}`)
const keySets = new Map(concurrencies.map((n) => [n, keysFor(n)]))

/** Records each iteration of a benchmark makes durable, to turn time per iteration into records/s. */
const recordsPerIteration = new Map<string, number>()

group(`disk, ${recordBytes}-byte records`, () => {
  recordsPerIteration.set('raw write + fdatasync per record', 1)
  bench('raw write + fdatasync per record', () => {
    writeSync(rawFd, oneRecord)
    fdatasyncSync(rawFd)
  }).baseline(true)

  recordsPerIteration.set(`raw group commit (${coalescedRecords} records, one write + one fdatasync)`, coalescedRecords)
  bench(`raw group commit (${coalescedRecords} records, one write + one fdatasync)`, () => {
    writeSync(rawFd, coalesced)
    fdatasyncSync(rawFd)
  })

  for (const n of concurrencies) {
    const name = `FileJournalStorage, ${n} concurrent appends`
    recordsPerIteration.set(name, n)
    bench(name, async () => {
      await Promise.all(keySets.get(n)!.map((key) => {
        const seq = (nextSeq.get(key) ?? 0) + 1
        nextSeq.set(key, seq)
        return storage.append(key, [record(seq)])
      }))
    })
  }
})

const results = await run()
await storage.close()
closeSync(rawFd)
rmSync(root, { recursive: true, force: true })

const figures = results.benchmarks.flatMap((trial) => trial.runs.flatMap((r) => {
  if (r.stats === undefined) return []
  const perIteration = recordsPerIteration.get(r.name) ?? 1
  return [{
    name: r.name,
    recordsPerIteration: perIteration,
    recordsPerSecond: Math.round((perIteration * 1e9) / r.stats.avg),
    iterationAvgUs: r.stats.avg / 1000,
    iterationP50Us: r.stats.p50 / 1000,
    iterationP99Us: r.stats.p99 / 1000,
  }]
}))
const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'journal.json')
mkdirSync(dirname(out), { recursive: true })
writeFileSync(out, JSON.stringify({ recordBytes, runtime: results.context.runtime, figures }, null, 2) + '\n')
for (const f of figures) console.log(`${f.name}: ${f.recordsPerSecond.toLocaleString('en')} records/s, p50 ${f.iterationP50Us.toFixed(1)} µs/iteration`)
