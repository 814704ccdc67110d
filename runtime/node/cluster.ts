import * as Comlink from 'comlink'
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { pathToFileURL } from 'node:url'
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads'
import type { ActorRef } from '../../actors/ref.ts'
import { nodeEndpoint } from '../../transport/node-endpoint.ts'
import { PortTransport } from '../../transport/port.ts'
import { ClusterClient, type ActorTarget } from '../client.ts'
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
  /** Overrides of the runtime limits (see `Limits`). */
  limits?: Partial<Limits>
}

/** One host as the cluster sees it. */
export interface HostInfo extends HostStats {
  state: 'up' | 'down'
}

interface HostHandle {
  id: HostId
  worker: Worker
  control: Comlink.Remote<HostControl>
  state: 'up' | 'down'
}

/** Most hosts one cluster starts on one machine. */
export const hostsMax = 256

/**
 * A cluster of hosts on Node worker threads, and a client in this thread that calls them.
 * Hosts talk to each other and to the client over a full mesh of MessageChannels (the data
 * plane, batched per tick) and to this thread's control plane over comlink.
 */
export class Cluster {
  private readonly client: ClusterClient
  private readonly handles: HostHandle[]
  private stopped = false

  private constructor(client: ClusterClient, handles: HostHandle[]) {
    this.client = client
    this.handles = handles
  }

  /** Starts the hosts, loads the actors module in each, and resolves when all serve calls. */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const { actorsUrl, hostCount, limits } = validate(options)
    const hostIds = Array.from({ length: hostCount }, (_, i) => `host-${i}`)
    const clientId = `client-${randomId(systemRandom, 1)}`
    const view: View = { epoch: 1, hosts: hostIds }
    const peerPorts = new Map<HostId, Array<[string, MessagePort]>>(hostIds.map((id) => [id, []]))
    const clientLinks: Array<[string, MessagePort]> = []
    for (let i = 0; i < hostCount; i++) {
      for (let j = i + 1; j < hostCount; j++) {
        const { port1, port2 } = new MessageChannel()
        peerPorts.get(hostIds[i]!)!.push([hostIds[j]!, port1])
        peerPorts.get(hostIds[j]!)!.push([hostIds[i]!, port2])
      }
      const { port1, port2 } = new MessageChannel()
      peerPorts.get(hostIds[i]!)!.push([clientId, port1])
      clientLinks.push([hostIds[i]!, port2])
    }
    const workerUrl = hostWorkerUrl()
    const handles = hostIds.map((id) => spawnHost(workerUrl, id, actorsUrl, limits, view, peerPorts.get(id)!))
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
    const client = new ClusterClient({ id: clientId, transport, hasher, view, limits, knownTypes: types })
    return new Cluster(client, handles)
  }

  /** A typed proxy to the actor `id` of the given class or type name. */
  actor<T>(target: ActorTarget<T>, id: string): ActorRef<T> {
    return this.client.actor(target, id)
  }

  /** Calls `method` on `Type/id` with untyped arguments (what the HTTP gateway and CLI use). */
  call(key: string, method: string, args: unknown[]): Promise<unknown> {
    return this.client.callKey(key, method, args)
  }

  /** The host that runs the actor now. */
  ownerOf<T>(target: ActorTarget<T>, id: string): HostId | undefined {
    return this.client.ownerOf(target, id)
  }

  /** The membership view: epoch and host ids. */
  get view(): View {
    return this.client.view
  }

  /** Each host with its counters (activations, turns, ...). */
  async hosts(): Promise<HostInfo[]> {
    return Promise.all(this.handles.map(async (h): Promise<HostInfo> => {
      if (h.state === 'down') return { ...emptyStats(h.id), state: 'down' }
      return { ...(await h.control.stats()), state: 'up' }
    }))
  }

  /** Stops every host gracefully (passivating actors) and fails calls still pending. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.client.stop()
    await Promise.all(this.handles.map(async (h) => {
      if (h.state === 'up') await h.control.stop().catch(() => undefined)
      await h.worker.terminate()
      h.control[Comlink.releaseProxy]()
    }))
  }
}

function validate(options: ClusterOptions): { actorsUrl: string; hostCount: number; limits: Limits } {
  if (typeof options !== 'object' || options === null) throw new TroupeError('InvalidArgument', 'Cluster.start needs an options object')
  const { actors, hosts = availableParallelism(), limits } = options
  let actorsUrl: string
  if (actors instanceof URL) actorsUrl = actors.href
  else if (typeof actors === 'string' && actors.length > 0) actorsUrl = actors.startsWith('file:') ? actors : pathToFileURL(actors).href
  else throw new TroupeError('InvalidArgument', 'options.actors must be a URL or a path to the actors module')
  if (!existsSync(new URL(actorsUrl))) throw new TroupeError('InvalidArgument', `options.actors: no module at ${actorsUrl}`)
  if (typeof hosts !== 'number' || !Number.isInteger(hosts) || hosts < 1 || hosts > hostsMax) {
    throw new TroupeError('InvalidArgument', `options.hosts must be an integer from 1 to ${hostsMax}`)
  }
  let resolved: Limits
  try {
    resolved = resolveLimits(limits)
  } catch (error) {
    throw new TroupeError('InvalidArgument', `options.limits: ${(error as Error).message}`)
  }
  return { actorsUrl, hostCount: hosts, limits: resolved }
}

function hostWorkerUrl(): URL {
  // From source (tests, tsx), workers still run the built JavaScript: it starts far faster.
  const url = import.meta.url.endsWith('.ts')
    ? new URL('../../dist/runtime/node/host-worker.js', import.meta.url)
    : new URL('./host-worker.js', import.meta.url)
  if (!existsSync(url)) throw new TroupeError('InvalidArgument', `host worker not built at ${url.pathname}: run npm run build`)
  return url
}

function spawnHost(url: URL, id: HostId, actorsUrl: string, limits: Limits, view: View, peers: Array<[string, MessagePort]>): HostHandle {
  const { port1, port2 } = new MessageChannel()
  const data: HostWorkerData = { hostId: id, actorsUrl, limits, view, peers, control: port2 }
  const worker = new Worker(url, { workerData: data, transferList: [port2, ...peers.map(([, port]) => port)], name: id })
  const handle: HostHandle = { id, worker, control: Comlink.wrap<HostControl>(comlinkEndpoint(port1)), state: 'up' }
  worker.on('exit', () => { handle.state = 'down' })
  worker.on('error', () => { handle.state = 'down' })
  return handle
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
  return { id, epoch: 0, activations: 0, turns: 0, callsReceived: 0, redirectsSent: 0, malformedReceived: 0, activationsTotal: 0, passivationsTotal: 0 }
}
