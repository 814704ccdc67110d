// Probe: CPU per durable update across all threads (3 hosts, client, file journals). LEVEL, REPLICAS, INFLIGHT, ROUNDS, NODIR (memory journals). Run after npm run build: npx tsx bench/probes/strong1024.ts
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { troupe } from '../lib/troupe.ts'
const cluster = await troupe.Cluster.start({ actors: new URL('../../dist/actors/examples/index.js', import.meta.url), hosts: 3, replicas: Number(process.env.REPLICAS ?? 2), consistency: (process.env.LEVEL ?? 'strong') as 'strong', ...(process.env.NODIR ? {} : { dataDir: mkdtempSync(join(tmpdir(), "s1024-")) }) })
const refs = Array.from({ length: 4096 }, (_, i) => cluster.actor<{ increment(by: number): Promise<number> }>('Counter', `c${i}`))
let next = 0, done = 0, stop = false
async function loop() { while (!stop) { await refs[next++ % 4096].increment(1); done++ } }
const inFlight = Number(process.env.INFLIGHT ?? 1024)
for (let i = 0; i < inFlight; i++) void loop()
await new Promise((r) => setTimeout(r, 1000))
for (let round = 0; round < Number(process.env.ROUNDS ?? 2); round++) {
  done = 0; const t = performance.now(); const c0 = process.cpuUsage(); const e0 = performance.eventLoopUtilization()
  await new Promise((r) => setTimeout(r, 1000))
  const c = process.cpuUsage(c0); const e = performance.eventLoopUtilization(e0)
  console.log(`${process.env.LEVEL ?? 'strong'} @${inFlight}: ${Math.round(done / (performance.now() - t) * 1000)} updates/s, cpu ${((c.user + c.system) / done).toFixed(1)} µs/update (sys ${(c.system / done).toFixed(1)}), main elu ${e.utilization.toFixed(2)}`)
}
stop = true
await new Promise((r) => setTimeout(r, 500))
await cluster.stop()
