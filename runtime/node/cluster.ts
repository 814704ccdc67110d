import * as Comlink from 'comlink'
import { existsSync, mkdirSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { resolve as resolvePath } from 'node:path'
import { pathToFileURL } from 'node:url'
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads'
import type { ActorRef } from '../../actors/ref.ts'
import { nodeEndpoint } from '../../transport/node-endpoint.ts'
import { PortTransport } from '../../transport/port.ts'
import { ClusterClient, type ActorTarget } from '../client.ts'
import { parseConsistency, type Consistency } from '../durability/consistency.ts'
import { TroupeError } from '../errors.ts'
import { loadPointHasher } from '../hash.ts'
import type { HostStats } from '../host.ts'
import { resolveLimits, type Limits } from '../limits.ts'
import { randomId, systemRandom } from '../random.ts'
import type { HostId, View } from '../view.ts'
import { comlinkEndpoint } from './comlink-endpoint.ts'
import type { HostControl, HostWorkerData } from './host-control.ts'

/** Options of `Cluster.start`; every field documents its default. */
export interface ClusterOptions {
  /** The module whose exported `Actor` classes the hosts run: a URL, a file URL string, or a path. */
  actors: URL | string
  /** How many host worker threads to start. Default: the machine's available parallelism. */
  hosts?: number
  /** Backups per actor; each record is shipped to this many hosts. Default 2 (3 copies in all). */
  replicas?: number
  /** When a call's result is released: `memory`, `local`, `quorum` or `strong`. Default `strong`. */
  consistency?: Consistency
  /** A directory where each host journals to files; a cluster restarted on it recovers every actor. Default: journals in memory. */
  dataDir?: string
  /** Overrides of the runtime limits (see `Limits`). */
  limits?: Partial<Limits>
}

/** One host as the cluster sees it. */
export interface HostInfo extends HostStats {
  state: 'up' | 'down'
}

/** Something the cluster did or saw. */
export type ClusterEvent =
  | { kind: 'host-down'; host: HostId; reason: string }
  | { kind: 'view'; view: View }

interface HostHandle {
  id: HostId
  worker: Worker
  control: Comlink.Remote<HostControl>
  state: 'up' | 'down'
}

interface Settings {
  actorsUrl: string
  hostCount: number
  replicas: number
  consistency: Consistency
  dataDir: string | undefined
  limits: Limits
}

/** Most hosts one cluster starts on one machine. */
export const hostsMax = 256

/**
 * A cluster of hosts on Node worker threads, and a client in this thread that calls them.
 * Hosts talk to each other and to the client over a full mesh of MessageChannels (the data
 * plane, batched per tick) and to this thread's control plane over comlink. When a host's
 * worker exits, the cluster publishes a view without it (epoch + 1): its backups take over.
 */
export class Cluster {
  private readonly client: ClusterClient
  private readonly handles: HostHandle[]
  private readonly listeners = new Set<(event: ClusterEvent) => void>()
  private stopped = false

  private constructor(client: ClusterClient, handles: HostHandle[]) {
    this.client = client
    this.handles = handles
    for (const handle of handles) {
      handle.worker.on('exit', (code) => this.hostDown(handle, `exited with code ${code}`))
      handle.worker.on('error', (error) => this.hostDown(handle, `crashed: ${error.message}`))
    }
  }

  /** Starts the hosts, loads the actors module in each, and resolves when all serve calls. */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const settings = validate(options)
    const hostIds = Array.from({ length: settings.hostCount }, (_, i) => `host-${i}`)
    const clientId = `client-${randomId(systemRandom, 1)}`
    const view: View = { epoch: 1, hosts: hostIds }
    const peerPorts = new Map<HostId, Array<[string, MessagePort]>>(hostIds.map((id) => [id, []]))
    const clientLinks: Array<[string, MessagePort]> = []
    for (let i = 0; i < hostIds.length; i++) {
      for (let j = i + 1; j < hostIds.length; j++) {
        const { port1, port2 } = new MessageChannel()
        peerPorts.get(hostIds[i]!)!.push([hostIds[j]!, port1])
        peerPorts.get(hostIds[j]!)!.push([hostIds[i]!, port2])
      }
      const { port1, port2 } = new MessageChannel()
      peerPorts.get(hostIds[i]!)!.push([clientId, port1])
      clientLinks.push([hostIds[i]!, port2])
    }
    if (settings.dataDir !== undefined) mkdirSync(settings.dataDir, { recursive: true })
    const workerUrl = hostWorkerUrl()
    const handles = hostIds.map((id) => spawnHost(workerUrl, id, settings, view, peerPorts.get(id)!))
    let types: string[]
    try {
      const ready = await Promise.all(handles.map((h) => whenReady(h)))
      types = ready[0]!.types
    } catch (error) {
      await Promise.all(handles.map((h) => h.worker.terminate()))
      throw error
    }
    const hasher = await loadPointHasher()
    const transport = new PortTransport(clientId, clientLinks.map(([peer, port]) => [peer, nodeEndpoint(port)]), { schedule: setImmediate })
    const client = new ClusterClient({ id: clientId, transport, hasher, view, limits: settings.limits, knownTypes: types })
    return new Cluster(client, handles)
  }

  /** A typed proxy to the actor `id` of the given class or type name. */
  actor<T>(target: ActorTarget<T>, id: string): ActorRef<T> {
    return this.client.actor(target, id)
  }

  /**
   * Calls `method` on `Type/id` with untyped arguments (what the HTTP gateway and CLI use). With
   * a `requestId`, a repeat of the call returns the first result instead of running again.
   */
  call(key: string, method: string, args: unknown[], options: { requestId?: string; timeoutMs?: number } = {}): Promise<unknown> {
    return this.client.callKey(key, method, args, options)
  }

  /** The host that runs the actor now. */
  ownerOf<T>(target: ActorTarget<T>, id: string): HostId | undefined {
    return this.client.ownerOf(target, id)
  }

  /** Primary then backups of an actor in the current view. */
  ownersOf<T>(target: ActorTarget<T>, id: string, n = 3): HostId[] {
    return this.client.owners(`${typeof target === 'string' ? target : this.client.typeOf(target)}/${id}`, n)
  }

  /** The membership view: epoch and host ids. */
  get view(): View {
    return this.client.view
  }

  /** Listens to cluster events (host down, new view); returns a function that stops listening. */
  on(listener: (event: ClusterEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Each host with its counters (activations, turns, ...). */
  async hosts(): Promise<HostInfo[]> {
    return Promise.all(this.handles.map(async (h): Promise<HostInfo> => {
      if (h.state === 'down') return { ...emptyStats(h.id), state: 'down' }
      const stats = await h.control.stats().catch(() => undefined)
      return stats ? { ...stats, state: 'up' } : { ...emptyStats(h.id), state: 'down' }
    }))
  }

  /** Chaos: terminates a host's worker abruptly, as a crash would. Resolves once the new view is out. */
  async kill(hostId: HostId): Promise<void> {
    const handle = this.handles.find((h) => h.id === hostId)
    if (!handle) throw new TroupeError('InvalidArgument', `no host ${hostId} (hosts: ${this.handles.map((h) => h.id).join(', ')})`)
    if (handle.state === 'down') return
    await handle.worker.terminate()
    await this.hostDown(handle, 'killed')
  }

  /** Stops every host gracefully (draining actors first) and fails calls still pending. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.client.stop()
    // Drain every host before closing any: a primary's last records need its backups' acks.
    await Promise.all(this.handles.map((h) => (h.state === 'up' ? h.control.drain().catch(() => undefined) : undefined)))
    await Promise.all(this.handles.map(async (h) => {
      if (h.state === 'up') await h.control.stop().catch(() => undefined)
      h.state = 'down'
      await h.worker.terminate()
      h.control[Comlink.releaseProxy]()
    }))
  }

  private pendingView: Promise<void> = Promise.resolve()

  /** A host is gone: publish the view without it to every live host and to the client. */
  private hostDown(handle: HostHandle, reason: string): Promise<void> {
    if (handle.state === 'down' || this.stopped) return this.pendingView
    handle.state = 'down'
    this.emit({ kind: 'host-down', host: handle.id, reason })
    const view: View = { epoch: this.client.view.epoch + 1, hosts: this.client.view.hosts.filter((h) => h !== handle.id) }
    this.client.setView(view)
    this.emit({ kind: 'view', view })
    this.pendingView = Promise.all(this.handles.filter((h) => h.state === 'up').map((h) => h.control.setView(view).catch(() => false))).then(() => undefined)
    return this.pendingView
  }

  private emit(event: ClusterEvent): void {
    for (const listener of this.listeners) listener(event)
  }
}

function validate(options: ClusterOptions): Settings {
  if (typeof options !== 'object' || options === null) throw new TroupeError('InvalidArgument', 'Cluster.start needs an options object')
  const { actors, hosts = availableParallelism(), limits, replicas = 2, consistency = 'strong', dataDir } = options
  let actorsUrl: string
  if (actors instanceof URL) actorsUrl = actors.href
  else if (typeof actors === 'string' && actors.length > 0) actorsUrl = actors.startsWith('file:') ? actors : pathToFileURL(actors).href
  else throw new TroupeError('InvalidArgument', 'options.actors must be a URL or a path to the actors module')
  if (!existsSync(new URL(actorsUrl))) throw new TroupeError('InvalidArgument', `options.actors: no module at ${actorsUrl}`)
  if (typeof hosts !== 'number' || !Number.isInteger(hosts) || hosts < 1 || hosts > hostsMax) {
    throw new TroupeError('InvalidArgument', `options.hosts must be an integer from 1 to ${hostsMax}`)
  }
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0 || replicas > 7) {
    throw new TroupeError('InvalidArgument', 'options.replicas must be an integer from 0 to 7')
  }
  if (dataDir !== undefined && (typeof dataDir !== 'string' || dataDir.length === 0)) throw new TroupeError('InvalidArgument', 'options.dataDir must be a directory path')
  let resolved: Limits
  try {
    resolved = resolveLimits(limits)
  } catch (error) {
    throw new TroupeError('InvalidArgument', `options.limits: ${(error as Error).message}`)
  }
  return {
    actorsUrl,
    hostCount: hosts,
    replicas,
    consistency: parseConsistency(consistency, 'options.consistency'),
    dataDir: dataDir === undefined ? undefined : resolvePath(dataDir),
    limits: resolved,
  }
}

function hostWorkerUrl(): URL {
  // From source (tests, tsx), workers still run the built JavaScript: it starts far faster.
  const url = import.meta.url.endsWith('.ts')
    ? new URL('../../dist/runtime/node/host-worker.js', import.meta.url)
    : new URL('./host-worker.js', import.meta.url)
  if (!existsSync(url)) throw new TroupeError('InvalidArgument', `host worker not built at ${url.pathname}: run npm run build`)
  return url
}

function spawnHost(url: URL, id: HostId, settings: Settings, view: View, peers: Array<[string, MessagePort]>): HostHandle {
  const { port1, port2 } = new MessageChannel()
  const data: HostWorkerData = {
    hostId: id, actorsUrl: settings.actorsUrl, limits: settings.limits, view, peers, control: port2,
    replicas: settings.replicas, consistency: settings.consistency, dataDir: settings.dataDir,
  }
  const worker = new Worker(url, { workerData: data, transferList: [port2, ...peers.map(([, port]) => port)], name: id })
  return { id, worker, control: Comlink.wrap<HostControl>(comlinkEndpoint(port1)), state: 'up' }
}

function whenReady(handle: HostHandle): Promise<{ types: string[] }> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(new TroupeError('HostUnavailable', `${handle.id} failed to start: ${error.message}`))
    const onExit = (code: number): void => reject(new TroupeError('HostUnavailable', `${handle.id} exited with code ${code} while starting`))
    handle.worker.once('error', onError)
    handle.worker.once('exit', onExit)
    handle.control.ready().then((ready) => {
      handle.worker.off('error', onError)
      handle.worker.off('exit', onExit)
      resolve(ready)
    }, reject)
  })
}

function emptyStats(id: HostId): HostStats {
  return { id, epoch: 0, activations: 0, replicas: 0, turns: 0, callsReceived: 0, redirectsSent: 0, malformedReceived: 0, activationsTotal: 0, passivationsTotal: 0, dedupedCalls: 0, recordsShipped: 0, fencedWrites: 0 }
}
