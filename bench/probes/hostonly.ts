// Probe: host cost alone: call envelopes fed straight to a Host's transport handlers (no cloning), replies counted.
import { loadPointHasher } from '../../runtime/hash.ts'
import { Host } from '../../runtime/host.ts'
import { ActorRegistry } from '../../runtime/registry.ts'
import { Counter } from '../../actors/examples/counter.ts'
import type { Transport, TransportHandlers } from '../../transport/transport.ts'
const hasher = await loadPointHasher()
const registry = new ActorRegistry()
registry.register(Counter)
const view = { epoch: 1, hosts: ['h0'] }
let handlers!: TransportHandlers
let replies = 0
const transport: Transport = { self: 'h0', send: (_to, e) => { if (e.t === 'reply') replies++; else throw new Error(e.t) }, listen: (h) => { handlers = h }, peers: () => [], close: () => {} }
const host = new Host({ id: 'h0', transport, registry, hasher, view, consistency: (process.env.LEVEL ?? 'memory') as 'memory', limits: { requestsMax: Number(process.env.RMAX ?? 1024) } })
const batch = Number(process.env.BATCH ?? 256)
let seq = 0
const keys = Array.from({ length: Number(process.env.KEYS ?? 1024) }, (_, i) => `Counter/c${i}`)
async function round(): Promise<void> {
  for (let i = 0; i < batch; i++) { const n = seq++; handlers.envelope('client', { v: 1, t: 'call', id: `client.abcdefgh:${n.toString(36)}`, epoch: 1, key: keys[n % keys.length]!, method: 'increment', args: [1] }) }
  await new Promise((r) => setImmediate(r))
}
const end0 = performance.now() + 500
while (performance.now() < end0) await round()
for (let r = 0; r < Number(process.env.ROUNDS ?? 3); r++) {
  const r0 = replies, t = performance.now(), c0 = process.cpuUsage()
  while (performance.now() < t + 1000) await round()
  const c = process.cpuUsage(c0)
  console.log(`host only: ${Math.round((replies - r0) / (performance.now() - t) * 1000)} calls/s, ${((c.user + c.system) / (replies - r0)).toFixed(2)} cpu µs/call`)
}
await host.stop()
