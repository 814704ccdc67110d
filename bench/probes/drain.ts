// Probe: N Counter actors written once on 4 hosts (memory journals; DISK=1 for file journals), then drain one host and add one, timed; every count read back. Run after npm run build: N=5000 npx tsx bench/probes/drain.ts
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { troupe } from '../lib/troupe.ts'
const N = Number(process.env.N ?? 5000)
const root = mkdtempSync(join(tmpdir(), 'dr-'))
const cluster = await troupe.Cluster.start({ actors: new URL('../../dist/actors/examples/index.js', import.meta.url), hosts: 4, ...(process.env.DISK ? { dataDir: join(root, 'd') } : {}) })
let t = performance.now()
const lanes = 64
await Promise.all(Array.from({ length: lanes }, async (_, l) => { for (let i = l; i < N; i += lanes) await cluster.call(`Counter/c${i}`, 'increment', [1]) }))
console.log(`wrote ${N} in ${(performance.now() - t).toFixed(0)} ms`)
const hosts = await cluster.hosts()
console.log(hosts.map((h) => `${h.id}:${h.activations}/${h.replicas}`).join(' '))
t = performance.now()
await cluster.drain(hosts[1]!.id)
console.log(`drain ${(performance.now() - t).toFixed(0)} ms`)
t = performance.now()
await cluster.addHost()
console.log(`addHost ${(performance.now() - t).toFixed(0)} ms`)
let bad = 0
await Promise.all(Array.from({ length: lanes }, async (_, l) => { for (let i = l; i < N; i += lanes) if (await cluster.call(`Counter/c${i}`, 'get', []) !== 1) bad++ }))
console.log(`bad ${bad}`)
await cluster.stop()
