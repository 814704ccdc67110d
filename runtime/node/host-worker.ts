/**
 * Entry point of a host in a Node worker thread: loads the user's actors module (TypeScript
 * through tsx's `tsImport`, JavaScript directly), starts a Host on the ports it was given, and
 * exposes its control plane with comlink.
 */
import * as Comlink from 'comlink'
import { parentPort, workerData } from 'node:worker_threads'
import { nodeEndpoint } from '../../transport/node-endpoint.ts'
import { PortTransport } from '../../transport/port.ts'
import { loadPointHasher } from '../hash.ts'
import { Host } from '../host.ts'
import { adoptPointCaches } from '../ring.ts'
import { ActorRegistry } from '../registry.ts'
import { comlinkEndpoint } from './comlink-endpoint.ts'
import type { CrashReport, HostControl, HostWorkerData } from './host-control.ts'
import { importActors } from './import-actors.ts'
import { hostSpins } from './spin-gate.ts'
import { MemoryJournalStorage } from '../journal/memory-storage.ts'
import type { JournalStorage } from '../journal/storage.ts'

const data = workerData as HostWorkerData
if (!parentPort) throw new Error('host-worker must run in a worker thread')
adoptPointCaches(data.pointCaches)

const [hasher, namespace, storage] = await Promise.all([
  loadPointHasher(),
  importActors(data.actorsUrl),
  data.dataDir === undefined ? new MemoryJournalStorage() : openFileJournal(data.dataDir, data.hostId),
])
const registry = ActorRegistry.fromModule(namespace)
const fence = new Int32Array(data.fence)
const spinGate = new Int32Array(data.spinGate)
const transport = new PortTransport(data.hostId, data.peers.map(([peer, port]) => [peer, nodeEndpoint(port)]), {
  schedule: setImmediate,
  eagerFirst: true,
  silenced: () => Atomics.load(fence, 0) !== 0,
  // More calls, shipments or acks are likely soon after a burst; the policy backs off when not.
  ...(data.spinWaitUs > 0 ? { spinWait: { budgetUs: data.spinWaitUs, awaiting: () => hostSpins(Atomics.load(spinGate, 0)), now: () => performance.now() } } : {}),
})
const host = new Host({
  id: data.hostId, transport, registry, hasher, view: data.view, limits: data.limits,
  replicas: data.replicas, consistency: data.consistency, storage, restartedWithoutState: data.restartedWithoutState, restartedWithState: data.restartedWithState,
  // Escalation: this host gives up and exits; its supervisor in the main thread replaces it.
  onEscalate: (reason) => {
    console.error(`troupe: ${data.hostId} escalates: ${reason}`)
    process.exit(70)
  },
})

const control: HostControl = {
  ready: () => ({
    types: registry.names(),
    journaled: registry.names().some((name) => (registry.get(name)!.consistency ?? data.consistency) !== 'memory'),
    epochMax: (storage as JournalStorage).epochMax?.() ?? 0,
  }),
  setView: (view) => host.setView(view),
  replicated: () => host.replicated(),
  ping: (leaseMs) => {
    host.renewLease(leaseMs)
    return true
  },
  stats: () => ({ ...host.stats(), ...(data.spinWaitUs > 0 ? { spinsCaught: transport.spins.caught, spinsMissed: transport.spins.missed } : {}) }),
  activeKeys: () => host.activeKeys(),
  journal: (key) => host.journal(key),
  connect: (peer, port) => transport.connect(peer, nodeEndpoint(port)),
  disconnect: (peer) => transport.disconnect(peer),
  drain: () => host.drain(),
  async stop() {
    await host.stop()
    setImmediate(() => process.exit(0))
  },
}
Comlink.expose(control, comlinkEndpoint(data.control))

// A crash once serving: this host silences itself at once and reports to its supervisor, which
// fails over, then terminates this worker. Letting the worker tear down right away would take a
// core for several ms from the hosts taking over. (A crash while starting, or a heap limit
// abort, ends the worker as usual; the supervisor sees its error or exit event.)
const port = parentPort
process.on('uncaughtException', (error: unknown) => {
  if (Atomics.load(fence, 0) !== 0) return
  Atomics.store(fence, 0, 1)
  const report: CrashReport = { crashed: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }
  port.postMessage(report)
})

/** The file journal and node:fs load only for a host that has a data directory. */
async function openFileJournal(dataDir: string, hostId: string): Promise<JournalStorage> {
  const [{ FileJournalStorage }, { join }] = await Promise.all([import('../journal/file-storage.ts'), import('node:path')])
  return FileJournalStorage.open({ dir: join(dataDir, hostId) })
}
