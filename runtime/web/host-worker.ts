/**
 * Entry point of a host in a Web module worker (Deno workers, browsers): the Web-standard twin
 * of `runtime/node/host-worker.ts`. Uses only `self.onmessage`, `self.postMessage`, `self.close`,
 * dynamic `import()` and transferred MessagePorts: no Deno.* and no node: APIs.
 *
 * Protocol (plain postMessage, structured clone):
 * - the first message is the init, `WebHostInit`, with the data-plane ports transferred;
 *   the worker answers `{ ready: true, types }` or `{ ready: false, error }`;
 * - every later message is a `WebHostRequest` `{ id, op, ... }`, answered `{ id, ok, value | error }`.
 *   After `stop` is answered the worker closes itself.
 */
import { webEndpoint, type WebMessagePort } from '../../transport/endpoint.ts'
import { PortTransport } from '../../transport/port.ts'
import { loadPointHasher } from '../hash.ts'
import { Host } from '../host.ts'
import type { Limits } from '../limits.ts'
import { ActorRegistry } from '../registry.ts'
import { parseView, type HostId, type View } from '../view.ts'

/** What the cluster posts a host worker first. */
export interface WebHostInit {
  hostId: HostId
  /** URL of the actors module: anything this realm's `import()` loads (`.ts` in Deno, `.js` in browsers). */
  actorsUrl: string
  limits: Partial<Limits>
  view: View
  /** Data-plane links: one transferred port per peer (other hosts and clients). */
  peers: Array<[string, WebMessagePort]>
}

/** Control-plane requests, after the init. */
export type WebHostRequest =
  | { id: number; op: 'stats' }
  | { id: number; op: 'activeKeys' }
  | { id: number; op: 'setView'; view: View }
  | { id: number; op: 'connect'; peer: string; port: WebMessagePort }
  | { id: number; op: 'drain' }
  | { id: number; op: 'stop' }

export interface WebHostFailure { name: string; message: string }

/** Everything a host worker posts back. */
export type WebHostMessage =
  | { ready: true; types: string[] }
  | { ready: false; error: WebHostFailure }
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: WebHostFailure }

/** The slice of a dedicated worker's global scope this adapter uses (no WebWorker lib needed). */
interface WorkerScope {
  onmessage: ((event: { data: unknown }) => void) | null
  postMessage(message: WebHostMessage): void
  close(): void
}

interface Started { host: Host; transport: PortTransport; registry: ActorRegistry }

const scope = globalThis as unknown as WorkerScope
let started: Promise<Started> | undefined

scope.onmessage = (event) => {
  if (!started) {
    started = start(event.data)
    started.then(
      ({ registry }) => scope.postMessage({ ready: true, types: registry.names() }),
      (error: unknown) => scope.postMessage({ ready: false, error: describe(error) }),
    )
    return
  }
  const request = event.data as WebHostRequest
  started.then((s) => handle(s, request)).then(
    (value) => scope.postMessage({ id: request.id, ok: true, value }),
    (error: unknown) => scope.postMessage({ id: request.id, ok: false, error: describe(error) }),
  ).then(() => {
    if (request.op === 'stop') scope.close()
  })
}

async function start(data: unknown): Promise<Started> {
  const init = data as Partial<WebHostInit> | null
  if (typeof init !== 'object' || init === null) throw new TypeError('host-worker: the first message must be the init object')
  const { hostId, actorsUrl, limits = {}, peers } = init
  if (typeof hostId !== 'string' || hostId.length === 0) throw new TypeError('host-worker: init.hostId must be a non-empty string')
  if (typeof actorsUrl !== 'string') throw new TypeError('host-worker: init.actorsUrl must be a URL string')
  if (!Array.isArray(peers)) throw new TypeError('host-worker: init.peers must be an array of [peerId, MessagePort]')
  const view = parseView(init.view)
  const [hasher, namespace] = await Promise.all([loadPointHasher(), import(actorsUrl) as Promise<Record<string, unknown>>])
  const registry = ActorRegistry.fromModule(namespace)
  const transport = new PortTransport(hostId, peers.map(([peer, port]) => [peer, webEndpoint(port)]))
  const host = new Host({ id: hostId, transport, registry, hasher, view, limits })
  return { host, transport, registry }
}

async function handle({ host, transport }: Started, request: WebHostRequest): Promise<unknown> {
  switch (request.op) {
    case 'stats': return host.stats()
    case 'activeKeys': return host.activeKeys()
    case 'setView': return host.setView(parseView(request.view))
    case 'connect': return transport.connect(request.peer, webEndpoint(request.port))
    case 'drain': return host.drain()
    case 'stop': return host.stop()
    default: throw new TypeError(`host-worker: unknown request ${JSON.stringify((request as { op?: unknown }).op)}`)
  }
}

function describe(error: unknown): WebHostFailure {
  if (error instanceof Error) return { name: error.name, message: error.message }
  return { name: 'Error', message: String(error) }
}
