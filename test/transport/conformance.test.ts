import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { seededRandom } from '../../runtime/random.ts'
import { SimulatedClock } from '../../runtime/simulated-clock.ts'
import { MemoryNetwork, type MemoryTransport } from '../../transport/memory.ts'
import { nodeEndpoint } from '../../transport/node-endpoint.ts'
import { PortTransport } from '../../transport/port.ts'
import { SimulatedNetwork, type SimulatedTransport } from '../../transport/simulated.ts'
import { toWire } from '../../transport/wire.ts'
import type { Envelope } from '../../transport/envelope.ts'
import { describeTransportConformance, type ConformanceHarness } from './conformance.ts'

type FrameEntry = Envelope | { junk: unknown }

/** The in-process transports carry frames as arrays of envelope objects. */
const objectFrame = (entries: FrameEntry[]): unknown => entries.map((e) => ('junk' in e ? e.junk : e))

/** Ports carry the compact wire form: `[version, ...tuples]`. */
const wireFrame = (entries: FrameEntry[]): unknown => [1, ...entries.map((e) => ('junk' in e ? e.junk : toWire([e])[1]))]

type Id = 'a' | 'b' | 'c'
const ids: readonly Id[] = ['a', 'b', 'c']
const pairs: readonly [Id, Id][] = [['a', 'b'], ['a', 'c'], ['b', 'c']]

describeTransportConformance('MemoryNetwork', () => {
  const network = new MemoryNetwork()
  const [a, b, c] = ids.map((id) => network.connect(id)) as [MemoryTransport, MemoryTransport, MemoryTransport]
  const transports = { a, b, c }
  return {
    transports,
    injectRaw: (from, to, raw) => queueMicrotask(() => transports[to].deliver(from, structuredClone(raw))),
    frame: objectFrame,
    settle: () => new Promise<void>((resolve) => setImmediate(resolve)),
  }
})

describeTransportConformance('SimulatedNetwork without faults', () => {
  const clock = new SimulatedClock()
  const network = new SimulatedNetwork({ clock, random: seededRandom(1), delayMsMin: 1, delayMsMax: 20, reorder: false })
  const [a, b, c] = ids.map((id) => network.connect(id)) as [SimulatedTransport, SimulatedTransport, SimulatedTransport]
  const transports = { a, b, c }
  return {
    transports,
    injectRaw: (from, to, raw) => clock.setTimeout(() => transports[to].deliver(from, structuredClone(raw)), 1),
    frame: objectFrame,
    settle: async () => {
      await clock.run()
    },
  }
})

/** A full mesh of PortTransports; `link(x, y)` gives the two ends of the x-y link, x's first. */
function portMesh(link: (x: Id, y: Id) => [MessagePort, MessagePort]): Pick<ConformanceHarness, 'transports' | 'injectRaw' | 'frame'> {
  const transports = { a: new PortTransport('a'), b: new PortTransport('b'), c: new PortTransport('c') }
  const ends = new Map<string, MessagePort>()
  for (const [x, y] of pairs) {
    const [px, py] = link(x, y)
    ends.set(`${x}>${y}`, px)
    ends.set(`${y}>${x}`, py)
    transports[x].connect(y, nodeEndpoint(px))
    transports[y].connect(x, nodeEndpoint(py))
  }
  return { transports, injectRaw: (from, to, raw) => ends.get(`${from}>${to}`)!.postMessage(raw), frame: wireFrame }
}

describeTransportConformance('PortTransport over worker_threads MessageChannel', () => {
  const mesh = portMesh(() => {
    const { port1, port2 } = new MessageChannel()
    return [port1, port2]
  })
  return { ...mesh, settle: () => sleep(5) }
})

describeTransportConformance('PortTransport through a relaying Worker thread', async () => {
  const workerPairs: MessagePort[][] = []
  const mesh = portMesh(() => {
    // x <-> worker <-> y: two channels, the worker holds one end of each and relays between them.
    const left = new MessageChannel()
    const right = new MessageChannel()
    workerPairs.push([left.port2, right.port1])
    return [left.port1, right.port2]
  })
  const transfer = workerPairs.flat()
  const worker = new Worker(new URL('./fixtures/relay-worker.mjs', import.meta.url), { workerData: { pairs: workerPairs }, transferList: transfer })
  await once(worker, 'message')
  return { ...mesh, settle: () => sleep(10), dispose: async () => void (await worker.terminate()) }
})
