/**
 * Deno smoke test: the unchanged core (runtime/, actors/, transport/) on 2 Deno Web Workers,
 * through the Web-standard adapter (runtime/web/). Calls Counter on 50 ids, checks every count,
 * checks every actor ran on `client.ownerOf(...)` (each host's active keys against the client's
 * ring and against a placement built independently from the same view), then prints one JSON
 * line of known-answer placements and key hashes for test/deno/deno-smoke.test.ts to compare
 * with Node. Diagnostics go to stderr; stdout carries only that JSON line.
 *
 * Run from the repo root:
 *   node_modules/.bin/deno run --no-prompt --no-lock --allow-read=runtime,transport,actors test/deno/counter-smoke.ts
 * Read access is the only permission: the main module graph loads without it, but Deno checks
 * read permission for every local module a Worker loads (its entry, its static imports and the
 * actors module it imports dynamically). hash-wasm resolves from package.json + node_modules
 * with no flag and no read grant. `deno run` does not type-check, so no --no-check either.
 * The script itself uses no Deno.* API: every failed check throws, and an uncaught error exits the
 * process with code 1.
 */
import { Counter } from '../../actors/examples/counter.ts'
import { keyHash, loadPointHasher } from '../../runtime/hash.ts'
import { Placement } from '../../runtime/ring.ts'
import { startWebCluster } from '../../runtime/web/cluster.ts'
import { knownIds, pointLabels } from './known-answers.ts'

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`counter-smoke: ${message}`)
}

const t0 = performance.now()
const cluster = await startWebCluster({ actors: new URL('../../actors/examples/counter.ts', import.meta.url), hosts: 2 })
const tStarted = performance.now()
try {
  const { client, view } = cluster
  check(cluster.types.includes('Counter'), `hosts loaded ${cluster.types.join(', ')}`)
  const ids = [...knownIds, ...Array.from({ length: 50 - knownIds.length }, (_, i) => `c${i}`)]

  // Each id i gets increment(i + 1), then increment() twice, all concurrently: count = i + 3.
  const first = await Promise.all(ids.map((id, i) => client.actor(Counter, id).increment(i + 1)))
  first.forEach((value, i) => check(value === i + 1, `${ids[i]}: first increment returned ${value}, expected ${i + 1}`))
  await Promise.all(ids.flatMap((id) => [client.actor(Counter, id).increment(), client.actor(Counter, id).increment()]))
  const counts = await Promise.all(ids.map((id) => client.actor(Counter, id).get()))
  counts.forEach((value, i) => check(value === i + 3, `${ids[i]}: count ${value}, expected ${i + 3}`))

  // Where each call ran: the hosts' active keys against the client's ring and an independent one.
  const independent = await Placement.create(view, client.limits)
  const active = await cluster.activeKeys()
  const ranOn = new Map<string, string>()
  for (const [host, keys] of active) for (const key of keys) {
    check(!ranOn.has(key), `${key} is active on both ${ranOn.get(key)} and ${host}`)
    ranOn.set(key, host)
  }
  for (const id of ids) {
    const key = `Counter/${id}`
    const owner = client.ownerOf(Counter, id)
    check(owner !== undefined && ranOn.get(key) === owner, `${key} ran on ${ranOn.get(key)}, ownerOf says ${owner}`)
    check(independent.primary(key) === owner, `${key}: independent placement says ${independent.primary(key)}, client says ${owner}`)
  }
  check(ranOn.size === ids.length, `${ranOn.size} active keys for ${ids.length} ids`)
  for (const host of view.hosts) check([...ranOn.values()].includes(host), `no actor landed on ${host}`)
  const stats = await cluster.stats()
  const calls = ids.length * 4
  check(stats.reduce((n, s) => n + s.turns, 0) === calls, `hosts ran ${stats.map((s) => s.turns).join('+')} turns for ${calls} calls`)
  for (const s of stats) check(s.redirectsSent === 0 && s.malformedReceived === 0, `${s.id}: ${JSON.stringify(s)}`)

  const hasher = await loadPointHasher()
  const result = {
    runtime: navigator.userAgent,
    view,
    ring: { shardCount: client.limits.shardCount, vnodesPerHost: client.limits.vnodesPerHost },
    placements: Object.fromEntries(knownIds.map((id) => [`Counter/${id}`, client.ownerOf(Counter, id)])),
    keyHashes: Object.fromEntries(knownIds.map((id) => [`Counter/${id}`, keyHash(`Counter/${id}`)])),
    pointHashes: Object.fromEntries(pointLabels.map((label) => [label, hasher(label)])),
    actorsPerHost: Object.fromEntries([...active].map(([host, keys]) => [host, keys.length])),
    calls,
    startMs: Math.round(tStarted - t0),
    callsMs: Math.round(performance.now() - tStarted),
  }
  console.log(JSON.stringify(result))
} finally {
  await cluster.stop()
}
