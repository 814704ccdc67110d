/**
 * Placement, against its baselines in the same run (BASELINES.md, "Hashing and placement"):
 * `placement.primary(key)` on distinct keys (keyHash + array read, nothing cached), a cached
 * Map hit, keyHash alone, the ring lookup it replaced (binary search over 1,024 points on a
 * pre-hashed key), hash-wasm xxhash64 per key, and building a Placement for 8 hosts; troupe is
 * the built runtime in dist/. Run: `node --import tsx bench/placement.bench.ts`; results go to bench/results/placement.json.
 */
import { bench, do_not_optimize, group, run, summary } from 'mitata'
import type { HostId, View } from '../index.ts'
import { ratioOf, writeResults, type ResultRatio, type ResultRow } from './lib/results.ts'
import { troupe } from './lib/troupe.ts'

const { defaultLimits, keyHash, loadPointHasher, Placement } = troupe
/** Lookups per benchmark iteration, so the loop, not mitata's call, is what is timed. */
const lookupsPerIteration = 1024
/** Distinct keys cycled through (about 20 bytes each, as in BASELINES.md): a hot set that fits in cache. */
const keyCount = 1 << 12
const hostCount = 8
const ringPointCount = 1024
const uncachedTargetPerSecond = 5_000_000

const keys = Array.from({ length: keyCount }, (_, i) => `Counter/user-${String(i).padStart(7, '0')}`)
const view: View = { epoch: 1, hosts: Array.from({ length: hostCount }, (_, i) => `host-${i}`) }
const ringOptions = { shardCount: defaultLimits.shardCount, vnodesPerHost: defaultLimits.vnodesPerHost }
const hasher = await loadPointHasher()
const placement = Placement.build(view, ringOptions, hasher)
const cache = new Map<string, HostId>(keys.map((k) => [k, placement.primary(k)!]))
const ring = referenceRing(hasher)
const preHashed = Uint32Array.from(keys, keyHash)

let offset = 0
/** The next `lookupsPerIteration` keys, wrapping around the key set. */
function nextBlock(): number {
  offset = (offset + lookupsPerIteration) & (keyCount - 1)
  return offset
}

const perLookup = new Map<string, number>()
/** Benchmarks `lookup(i)` over the next block of key indexes. */
function lookups(name: string, lookup: (i: number) => unknown, baseline = false): void {
  perLookup.set(name, lookupsPerIteration)
  bench(name, () => {
    const from = nextBlock()
    for (let i = from; i < from + lookupsPerIteration; i++) do_not_optimize(lookup(i))
  }).baseline(baseline)
}

group(`lookups, ${lookupsPerIteration} distinct keys per iteration`, () => {
  summary(() => {
    lookups('placement.primary(key), uncached', (i) => placement.primary(keys[i]!))
    lookups('cached placement (Map hit)', (i) => cache.get(keys[i]!), true)
    lookups('keyHash (MurmurHash3, plain JS)', (i) => keyHash(keys[i]!))
    lookups(`binary search over ${ringPointCount} ring points, pre-hashed key`, (i) => ring.lookup(preHashed[i]!))
    lookups('hash-wasm xxhash64 per key (reused hasher, binary digest)', (i) => hasher(keys[i]!))
  })
})

group(`building a Placement: ${hostCount} hosts × ${ringOptions.vnodesPerHost} vnodes, ${ringOptions.shardCount} shards`, () => {
  bench('Placement.build', () => Placement.build(view, ringOptions, hasher))
})

const results = await run()

const documented: Record<string, string> = {
  'placement.primary(key), uncached': 'target ≥ 5M/s',
  'cached placement (Map hit)': '38M/s',
  'keyHash (MurmurHash3, plain JS)': '11.9M/s',
  [`binary search over ${ringPointCount} ring points, pre-hashed key`]: '11.9M/s',
  'hash-wasm xxhash64 per key (reused hasher, binary digest)': '1.8M/s',
}
const rows: ResultRow[] = []
const rate = new Map<string, number>()
for (const trial of results.benchmarks) {
  for (const r of trial.runs) {
    if (!r.stats) continue
    const n = perLookup.get(r.name)
    if (n === undefined) {
      rows.push({ group: 'building a placement', name: `${r.name}, ${hostCount} hosts`, value: 1e9 / r.stats.avg, unit: 'builds/s', p50Us: r.stats.p50 / 1000, p99Us: r.stats.p99 / 1000 })
      continue
    }
    const perSecond = (n * 1e9) / r.stats.avg
    rate.set(r.name, perSecond)
    rows.push({ group: 'lookups', name: r.name, value: perSecond, unit: 'lookups/s', baseline: !r.name.startsWith('placement'), documented: documented[r.name] })
  }
}
const loads = [...placement.shardsPerHost().values()]
const mean = ringOptions.shardCount / hostCount
rows.push({ group: 'building a placement', name: `primary shards per host, max / min vs mean (documented 1.10 / 0.87)`, value: Math.max(...loads) / mean, unit: `× mean (min ${(Math.min(...loads) / mean).toFixed(2)})` })

const uncached = rate.get('placement.primary(key), uncached')
const ratios: ResultRatio[] = [
  { name: 'placement.primary uncached, M lookups/s', value: (uncached ?? Number.NaN) / 1e6, op: '>=', target: uncachedTargetPerSecond / 1e6 },
  { name: 'placement.primary uncached / hash-wasm xxhash64 per key', value: ratioOf(uncached, rate.get('hash-wasm xxhash64 per key (reused hasher, binary digest)')), op: '>=' },
  { name: 'placement.primary uncached / cached Map hit', value: ratioOf(uncached, rate.get('cached placement (Map hit)')), op: '>=' },
]
console.log(`wrote ${writeResults('placement', rows, ratios)}`)

/** The older design: a sorted ring of points, binary search per lookup (the baseline's 11.9M/s). */
function referenceRing(hash: (label: string) => number): { lookup(position: number): number } {
  const points = Uint32Array.from({ length: ringPointCount }, (_, i) => hash(`host-${i % hostCount}#${i}`)).sort()
  const owners = Int32Array.from({ length: ringPointCount }, (_, i) => i % hostCount)
  return {
    lookup(value: number): number {
      let lo = 0, hi = points.length
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (points[mid]! < value) lo = mid + 1
        else hi = mid
      }
      return owners[lo % points.length]!
    },
  }
}
