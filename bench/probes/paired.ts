// Probe: one update alone against one raw write + fdatasync, alternating, p50 of each (LEVEL, REPLICAS, N). Run after npm run build: npx tsx bench/probes/paired.ts
import { mkdtempSync, openSync, writeSync, fdatasyncSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { troupe } from '../lib/troupe.ts'
const root = mkdtempSync(join(tmpdir(), 'paired-'))
const cluster = await troupe.Cluster.start({ actors: new URL('../../dist/actors/examples/index.js', import.meta.url), hosts: 3, replicas: Number(process.env.REPLICAS ?? 2), consistency: (process.env.LEVEL ?? 'strong') as 'strong', dataDir: join(root, 'd') })
for (let i = 0; i < 500; i++) await cluster.call(`Counter/w${i % 64}`, 'increment', [1])
const fd = openSync(join(root, 'raw'), 'w'); const buf = new Uint8Array(100)
const raw: number[] = [], upd: number[] = []
for (let i = 0; i < Number(process.env.N ?? 1500); i++) {
  let t = performance.now(); writeSync(fd, buf); fdatasyncSync(fd); raw.push(performance.now() - t)
  t = performance.now(); await cluster.call(`Counter/w${i % 64}`, 'increment', [1]); upd.push(performance.now() - t)
}
const p50 = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]! * 1000
console.log(`raw ${p50(raw).toFixed(0)} ${process.env.LEVEL ?? 'strong'} ${p50(upd).toFixed(0)} ratio ${(p50(upd) / p50(raw)).toFixed(2)}`)
await cluster.stop()
