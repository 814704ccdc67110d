import { afterEach, expect, test } from 'vitest'
import { Actor } from '../index.ts'
import { ClusterClient } from '../runtime/client.ts'
import { loadPointHasher } from '../runtime/hash.ts'
import { Host } from '../runtime/host.ts'
import { ActorRegistry } from '../runtime/registry.ts'
import { MemoryNetwork } from '../transport/memory.ts'
import { decode } from '../transport/envelope.ts'

class G extends Actor<{ n: number }> {
  initialState() { return { n: 0 } }
  bump() { return ++this.state.n }
}

const rejections: unknown[] = []
const onRejection = (reason: unknown): void => { rejections.push(reason) }
process.on('unhandledRejection', onRejection)
afterEach(() => { rejections.length = 0 })

test('a view from the wire that pauses a shard past shardCount is ignored, not a crash', async () => {
  const hasher = await loadPointHasher()
  const network = new MemoryNetwork()
  const registry = new ActorRegistry()
  registry.register(G)
  const view = { epoch: 1, hosts: ['h0'] }
  const host = new Host({ id: 'h0', transport: network.connect('h0'), registry, hasher, view })
  const client = new ClusterClient({ id: 'client', transport: network.connect('client'), hasher, view })
  // Well-formed by the codec (shards below 2^20), but past this ring's 4096 shards.
  const envelope = decode({ v: 1, t: 'fetch', id: 'f1', epoch: 9, view: { epoch: 9, hosts: ['h0', 'h7'], paused: [5000] }, key: 'G/a', lastEpoch: 0, seq: 0 })
  expect(() => host.receive('h7', envelope)).not.toThrow()
  expect(() => client.setView({ epoch: 9, hosts: ['h0', 'h7'], paused: [5000] })).not.toThrow()
  await new Promise((resolve) => setTimeout(resolve, 30))
  expect(rejections).toEqual([])
  expect(host.view.epoch).toBe(1)
  expect(await client.actor(G, 'a').bump()).toBe(1)
})
