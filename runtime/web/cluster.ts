/**
 * A cluster of hosts on Web module workers (Deno, browsers), and a client in this realm that
 * calls them: the Web-standard twin of `runtime/node/cluster.ts`. Uses only `Worker` with
 * `{ type: 'module' }`, `MessageChannel` and postMessage: no Deno.* and no node: APIs.
 */
import { webEndpoint, type WebMessagePort } from '../../transport/endpoint.ts'
import { PortTransport } from '../../transport/port.ts'
import { ClusterClient } from '../client.ts'
import { TroupeError } from '../errors.ts'
import { loadPointHasher } from '../hash.ts'
import type { HostStats } from '../host.ts'
import { resolveLimits, type Limits } from '../limits.ts'
import { randomId, systemRandom } from '../random.ts'
import type { HostId, View } from '../view.ts'
import type { WebHostInit, WebHostMessage, WebHostRequest } from './host-worker.ts'

export interface WebClusterOptions {
  /** The actors module the hosts import (must be loadable by the workers' `import()`). */
  actors: URL | string
  /** How many host workers to start (1 to 256). */
  hosts: number
  /** The host worker module. Default: `host-worker.ts` (or `.js` when built) next to this file. */
  workerUrl?: URL | string
  limits?: Partial<Limits>
  /** How long a host may take to load and answer ready. Default 30,000 ms. */
  startTimeoutMs?: number
}

export interface WebCluster {
  readonly client: ClusterClient
  readonly view: View
  readonly hostIds: readonly HostId[]
  /** Actor types the hosts loaded. */
  readonly types: readonly string[]
  /** Each host's counters. */
  stats(): Promise<HostStats[]>
  /** The keys active on each host now. */
  activeKeys(): Promise<Map<HostId, string[]>>
  /** Stops the client, then every host gracefully (passivating actors), then terminates the workers. */
  stop(): Promise<void>
}

/** The parts of a Web `Worker` this file uses (DOM and Deno agree on them). */
interface WebWorker {
  postMessage(message: unknown, transfer: unknown[]): void
  onmessage: ((event: { data: unknown }) => void) | null
  onerror: ((event: { message?: string; preventDefault(): void }) => void) | null
  terminate(): void
}
type WorkerConstructor = new (url: string | URL, options: { type: 'module'; name?: string }) => WebWorker

interface HostHandle {
  id: HostId
  worker: WebWorker
  ready: Promise<string[]>
  request(op: DistributiveOmit<WebHostRequest, 'id'>, transfer?: unknown[]): Promise<unknown>
  dead: boolean
}
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

const hostsMax = 256
const stopTimeoutMs = 10_000

/** Starts `hosts` module workers in a full mesh with one client; resolves once all serve calls. */
export async function startWebCluster(options: WebClusterOptions): Promise<WebCluster> {
  const { actors, hosts, limits: overrides, startTimeoutMs = 30_000 } = options
  if (!Number.isInteger(hosts) || hosts < 1 || hosts > hostsMax) throw new TroupeError('InvalidArgument', `options.hosts must be an integer from 1 to ${hostsMax}`)
  const actorsUrl = new URL(actors, import.meta.url).href
  const workerUrl = new URL(options.workerUrl ?? (import.meta.url.endsWith('.ts') ? './host-worker.ts' : './host-worker.js'), import.meta.url)
  const limits = resolveLimits(overrides)
  const hostIds = Array.from({ length: hosts }, (_, i) => `host-${i}`)
  const clientId = `client-${randomId(systemRandom, 1)}`
  const view: View = { epoch: 1, hosts: hostIds }

  const peerPorts = new Map<HostId, Array<[string, WebMessagePort]>>(hostIds.map((id) => [id, []]))
  const clientLinks: Array<[string, WebMessagePort]> = []
  for (let i = 0; i < hosts; i++) {
    for (let j = i + 1; j < hosts; j++) {
      const { port1, port2 } = new MessageChannel()
      peerPorts.get(hostIds[i]!)!.push([hostIds[j]!, port1 as unknown as WebMessagePort])
      peerPorts.get(hostIds[j]!)!.push([hostIds[i]!, port2 as unknown as WebMessagePort])
    }
    const { port1, port2 } = new MessageChannel()
    peerPorts.get(hostIds[i]!)!.push([clientId, port1 as unknown as WebMessagePort])
    clientLinks.push([hostIds[i]!, port2 as unknown as WebMessagePort])
  }

  const handles = hostIds.map((id) => spawnHost(workerUrl, { hostId: id, actorsUrl, limits, view, peers: peerPorts.get(id)! }))
  let types: string[]
  try {
    const ready = await withTimeout(Promise.all(handles.map((h) => h.ready)), startTimeoutMs, `hosts did not start within ${startTimeoutMs} ms`)
    types = ready[0]!
  } catch (error) {
    for (const h of handles) h.worker.terminate()
    for (const [, port] of clientLinks) port.close()
    throw error
  }
  const hasher = await loadPointHasher()
  const transport = new PortTransport(clientId, clientLinks.map(([peer, port]) => [peer, webEndpoint(port)]))
  const client = new ClusterClient({ id: clientId, transport, hasher, view, limits, knownTypes: types })
  let stopping: Promise<void> | undefined

  return {
    client,
    view,
    hostIds,
    types,
    stats: () => Promise.all(handles.map((h) => h.request({ op: 'stats' }) as Promise<HostStats>)),
    async activeKeys() {
      const keys = await Promise.all(handles.map((h) => h.request({ op: 'activeKeys' }) as Promise<string[]>))
      return new Map(handles.map((h, i) => [h.id, keys[i]!]))
    },
    stop() {
      stopping ??= (async () => {
        client.stop()
        // Drain every host before closing any: a primary's last records need its backups' acks.
        await Promise.all(handles.map((h) => (h.dead ? undefined : withTimeout(h.request({ op: 'drain' }), stopTimeoutMs, `${h.id} did not drain`).catch(() => undefined))))
        await Promise.all(handles.map(async (h) => {
          if (!h.dead) await withTimeout(h.request({ op: 'stop' }), stopTimeoutMs, `${h.id} did not stop`).catch(() => undefined)
          h.dead = true
          h.worker.terminate()
        }))
      })()
      return stopping
    },
  }
}

function spawnHost(url: URL, init: WebHostInit): HostHandle {
  const WorkerClass = (globalThis as unknown as { Worker?: WorkerConstructor }).Worker
  if (!WorkerClass) throw new TroupeError('InvalidArgument', 'this realm has no Web Worker')
  const worker = new WorkerClass(url, { type: 'module', name: init.hostId })
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  let nextId = 1
  let settleReady: { resolve(types: string[]): void; reject(error: Error): void } | undefined
  const handle: HostHandle = {
    id: init.hostId,
    worker,
    dead: false,
    ready: new Promise<string[]>((resolve, reject) => { settleReady = { resolve, reject } }),
    request(op, transfer = []) {
      if (handle.dead) return Promise.reject(new TroupeError('HostUnavailable', `${init.hostId} is down`))
      const id = nextId++
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject })
        worker.postMessage({ ...op, id }, transfer)
      })
    },
  }
  const fail = (error: Error): void => {
    handle.dead = true
    settleReady?.reject(error)
    settleReady = undefined
    for (const p of pending.values()) p.reject(error)
    pending.clear()
  }
  worker.onerror = (event) => {
    // Handled here: without preventDefault an error in a worker also throws in this realm.
    event.preventDefault()
    fail(new TroupeError('HostUnavailable', `${init.hostId} failed: ${event.message ?? 'worker error'}`))
  }
  worker.onmessage = (event) => {
    const message = event.data as WebHostMessage
    if ('ready' in message) {
      if (message.ready) settleReady?.resolve(message.types)
      else fail(new TroupeError('HostUnavailable', `${init.hostId} failed to start: ${message.error.name}: ${message.error.message}`))
      settleReady = undefined
      return
    }
    const p = pending.get(message.id)
    if (!p) return
    pending.delete(message.id)
    if (message.ok) p.resolve(message.value)
    else p.reject(new TroupeError('HostUnavailable', `${init.hostId}: ${message.error.name}: ${message.error.message}`))
  }
  worker.postMessage(init, init.peers.map(([, port]) => port))
  return handle
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new TroupeError('HostUnavailable', message)), ms) })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
