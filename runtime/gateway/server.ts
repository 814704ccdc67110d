/**
 * The HTTP gateway: the cluster's serverless entry point and the control surface the `troupe`
 * CLI drives. node:http, JSON in and out, no framework.
 *
 *   POST /actors/:type/:id/:method   body: JSON array of arguments -> 200 and the JSON result
 *   GET  /healthz                    200 while at least one host is up, else 503
 *   GET  /status                     view, hosts and their counters, rates, ring share, events
 *   POST /hosts/:id/kill             chaos: terminate a host as a crash would
 *   POST /hosts/:id/drain            move every actor off a host, then stop it
 *   POST /scale                      body { "hosts": n }
 *   GET  /what-if?kill=:id           which shards and actors would move where (pure)
 *   GET  /journal/:type/:id          an actor's journal records and snapshots
 *
 * Errors answer `{ kind, message }` with a status per kind (see http-errors.ts). An
 * `Idempotency-Key` header becomes the call's request id: a repeat returns the first result. A
 * `Consistency` header (memory, local, quorum, strong) sets the call's own output gate.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { actorKey } from '../../actors/ref.ts'
import { parseConsistency, type Consistency } from '../durability/consistency.ts'
import { TroupeError } from '../errors.ts'
import { loadPointHasher, type PointHasher } from '../hash.ts'
import { defaultLimits } from '../limits.ts'
import type { HostInfo } from '../node/cluster.ts'
import { Placement, type RingOptions } from '../ring.ts'
import type { HostId, View } from '../view.ts'
import { requestIdProblem } from '../request-id.ts'
import { errorAnswer, HttpError } from './http-errors.ts'
import { toJson } from './json.ts'
import { LatencyWindow, RateTracker } from './metrics.ts'
import { whatIfKill } from './what-if.ts'

/** What the gateway needs of a cluster; `Cluster` provides it. Optional methods light up endpoints. */
export interface GatewayCluster {
  readonly view: View
  call(key: string, method: string, args: unknown[], options?: { requestId?: string; timeoutMs?: number; consistency?: Consistency }): Promise<unknown>
  ownerOf(type: string, id: string): HostId | undefined
  hosts(): Promise<HostInfo[]>
  kill(hostId: HostId): Promise<void>
  on(listener: (event: { kind: string }) => void): () => void
  addHost?(): Promise<HostId>
  drain?(hostId: HostId): Promise<void>
  scale?(n: number): Promise<void>
  journal?(key: string): unknown
  duplicateActivations?(): Promise<string[]>
}

/** How the cluster was started, shown by `/status`. */
export interface GatewayInfo {
  actors?: string
  replicas?: number
  consistency?: string
  dataDir?: string | undefined
}

export interface GatewayOptions {
  /** Largest request body accepted; larger ones get 413. Default 1 MiB. */
  bodyBytesMax?: number
  /** The ring the cluster places actors on (for ring shares and what-if). Default: the default limits. */
  ring?: RingOptions
  info?: GatewayInfo
  /** How often the hosts' counters are sampled for rates. Default 1,000 ms. */
  sampleEveryMs?: number
  /** Actor keys the gateway remembers (most recent calls) for what-if. Default 1,000. */
  knownKeysMax?: number
}

/** One host row of `/status`. */
export interface HostStatus extends Omit<HostInfo, 'replicationLag'> {
  /** Share of the ring's shards this host is primary of, 0..1 (0 when not in the view). */
  ringShare: number
  /** Calls received per second over the last sample interval; null before there are two samples. */
  callsPerSec: number | null
  /** 99th percentile latency (ms) of the calls the gateway sent to actors this host owned, last minute. */
  p99Ms: number | null
  /** Replication lag as the host reports it (records not yet acknowledged by backups); null when it does not. */
  replicationLag: number | null
  restarts: number
}

/** The body of `GET /status`. */
export interface ClusterStatus {
  view: View
  cluster: GatewayInfo & { uptimeMs: number; hostsUp: number; hostsDown: number }
  hosts: HostStatus[]
  /** Actors active on more than one host at once, when the hosts report it; null otherwise. */
  duplicateActivations: number | null
  events: Array<{ at: string; kind: string } & Record<string, unknown>>
  /** Which control endpoints this cluster supports. */
  supports: { kill: boolean; drain: boolean; scale: boolean; addHost: boolean; journal: boolean }
}

type Answer = { status: number; body: unknown; headers?: Record<string, string> }

/** The largest `bodyBytesMax`: a body is decoded into one string, and V8 strings stop short of 512 MiB. */
export const bodyBytesMaxMax = 256 * 1024 * 1024

const eventsMax = 50

export class Gateway {
  private readonly server: Server
  private readonly bodyBytesMax: number
  private readonly ring: RingOptions
  private readonly info: GatewayInfo
  private readonly sampleEveryMs: number
  private readonly knownKeysMax: number
  private readonly knownKeys = new Map<string, true>()
  private readonly latency = new LatencyWindow()
  private readonly rates = new RateTracker()
  private readonly events: ClusterStatus['events'] = []
  private readonly startedAt = performance.now()
  private cluster: GatewayCluster | undefined
  private hasher: PointHasher | undefined
  private placement: Placement | undefined
  private unlisten: (() => void) | undefined
  private sampler: ReturnType<typeof setInterval> | undefined
  private closing = false
  private inFlight = 0
  private idle: (() => void) | undefined
  private address: AddressInfo | undefined

  constructor(options: GatewayOptions = {}) {
    // A NaN or negative bodyBytesMax would disable the limit (no size compares above NaN).
    this.bodyBytesMax = integerOption(options.bodyBytesMax ?? 1024 * 1024, 1, bodyBytesMaxMax, 'bodyBytesMax')
    this.ring = options.ring ?? { shardCount: defaultLimits.shardCount, vnodesPerHost: defaultLimits.vnodesPerHost }
    this.info = options.info ?? {}
    this.sampleEveryMs = integerOption(options.sampleEveryMs ?? 1000, 1, 2_147_483_647, 'sampleEveryMs')
    this.knownKeysMax = integerOption(options.knownKeysMax ?? 1000, 0, 1_000_000, 'knownKeysMax')
    this.server = createServer({ requestTimeout: 120_000 }, (req, res) => void this.serve(req, res))
  }

  /** Listens on `port` (0 picks a free one) of `host` (default 127.0.0.1: the control endpoints are not for the open internet). */
  async listen(port: number, host = '127.0.0.1'): Promise<{ url: string; port: number }> {
    integerOption(port, 0, 65535, 'port')
    // Node reads an empty host as every interface: kill and drain would be open to the network.
    if (typeof host !== 'string' || host.length === 0) throw new TroupeError('InvalidArgument', 'the gateway host must be an address or a host name, e.g. 127.0.0.1')
    this.hasher = await loadPointHasher()
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    this.address = this.server.address() as AddressInfo
    return { url: this.url, port: this.address.port }
  }

  get url(): string {
    if (!this.address) throw new Error('the gateway is not listening')
    const host = this.address.family === 'IPv6' ? `[${this.address.address}]` : this.address.address
    return `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host}:${this.address.port}`
  }

  /** Starts serving `cluster` (until then every call answers 503). */
  attach(cluster: GatewayCluster): void {
    this.cluster = cluster
    this.unlisten = cluster.on((event) => this.recordEvent(event))
    this.sampler = setInterval(() => void this.sample(), this.sampleEveryMs)
    this.sampler.unref()
    void this.sample()
  }

  /**
   * Stops taking connections (the port closes: a client that connects now is refused; a request
   * on a connection still open answers 503 `ClusterStopped`), waits up to `graceMs` for those in
   * flight, then closes every connection. The cluster itself is the caller's to stop.
   */
  async close(graceMs = 5000): Promise<void> {
    if (this.closing) return
    this.closing = true
    if (this.sampler) clearInterval(this.sampler)
    this.unlisten?.()
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeIdleConnections()
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs)
        this.idle = () => { clearTimeout(timer); resolve() }
      })
    }
    this.server.closeAllConnections()
    await closed
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++
    let answer: Answer
    try {
      answer = await this.route(req)
    } catch (error) {
      const { status, headers, body } = errorAnswer(error)
      answer = { status, headers, body }
    }
    let text: string
    try {
      text = toJson(answer.body)
    } catch (error) {
      answer = { status: 500, body: null }
      text = toJson({ kind: 'Unserializable', message: `the result cannot be written as JSON: ${(error as Error).message}` })
    }
    const headers: Record<string, string | number> = {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(text),
      ...answer.headers,
    }
    // A body we did not read to its end: answer, then drop the connection rather than read on.
    if (!req.complete) headers['connection'] = 'close'
    res.writeHead(answer.status, headers)
    res.end(text, () => {
      if (!req.complete) req.destroy()
    })
    if (--this.inFlight === 0) this.idle?.()
  }

  private async route(req: IncomingMessage): Promise<Answer> {
    const { path, query } = requestTarget(req.url ?? '/')
    const parts = path.split('/').slice(1).map((part) => {
      try {
        return decodeURIComponent(part)
      } catch {
        throw new HttpError(400, 'InvalidArgument', `bad percent-encoding in path segment ${JSON.stringify(part)}`)
      }
    })
    if (parts.at(-1) === '' && parts.length > 1) parts.pop()
    const method = req.method ?? 'GET'
    const only = (allowed: string): void => {
      if (method !== allowed) throw new HttpError(405, 'MethodNotAllowed', `${method} is not allowed on ${path}; use ${allowed}`, { allow: allowed })
    }
    const [head, ...rest] = parts
    // HEAD too: load balancers probe with it (Node sends no body for HEAD).
    if (head === 'healthz' && rest.length === 0) {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'MethodNotAllowed', `${method} is not allowed on ${path}; use GET or HEAD`, { allow: 'GET, HEAD' })
      return this.health()
    }
    if (this.closing) throw new HttpError(503, 'ClusterStopped', 'the cluster is stopping', { 'retry-after': '1' })
    if (head === 'actors' && rest.length === 3) { only('POST'); return this.callActor(req, rest[0]!, rest[1]!, rest[2]!) }
    if (head === 'status' && rest.length === 0) { only('GET'); return { status: 200, body: await this.status() } }
    if (head === 'hosts' && rest.length === 2 && rest[1] === 'kill') { only('POST'); return this.kill(rest[0]!) }
    if (head === 'hosts' && rest.length === 2 && rest[1] === 'drain') { only('POST'); return this.drain(rest[0]!) }
    if (head === 'hosts' && rest.length === 0) { only('POST'); return this.addHost() }
    if (head === 'scale' && rest.length === 0) { only('POST'); return this.scale(req) }
    if (head === 'what-if' && rest.length === 0) { only('GET'); return this.whatIf(query) }
    if (head === 'journal' && rest.length === 2) { only('GET'); return this.journal(rest[0]!, rest[1]!) }
    throw new HttpError(404, 'NotFound', `no route ${method} ${path} (see GET /status, POST /actors/:type/:id/:method)`)
  }

  private live(): GatewayCluster {
    if (!this.cluster) throw new HttpError(503, 'HostUnavailable', 'the cluster is starting', { 'retry-after': '1' })
    return this.cluster
  }

  private async health(): Promise<Answer> {
    if (!this.cluster) return { status: 503, body: { status: 'starting' } }
    if (this.closing) return { status: 503, body: { status: 'stopping' } }
    const view = this.cluster.view
    return view.hosts.length > 0
      ? { status: 200, body: { status: 'ok', epoch: view.epoch, hosts: view.hosts.length } }
      : { status: 503, body: { status: 'down', epoch: view.epoch, hosts: 0 } }
  }

  private async callActor(req: IncomingMessage, type: string, id: string, method: string): Promise<Answer> {
    const cluster = this.live()
    const key = actorKey(type, id)
    if (method.length === 0) throw new HttpError(400, 'InvalidArgument', 'the method name is empty')
    const body = await readBody(req, this.bodyBytesMax)
    let args: unknown
    if (body.trim() === '') args = []
    else {
      try {
        args = JSON.parse(body)
      } catch (error) {
        throw new HttpError(400, 'InvalidArgument', `the body is not valid JSON: ${(error as Error).message}`)
      }
    }
    if (!Array.isArray(args)) throw new HttpError(400, 'InvalidArgument', 'the body must be a JSON array of arguments, e.g. [1, "two"]')
    const options: { requestId?: string; timeoutMs?: number; consistency?: Consistency } = {}
    const idempotencyKey = header(req, 'Idempotency-Key')
    if (idempotencyKey !== undefined) {
      const problem = idempotencyKeyProblem(idempotencyKey)
      if (problem !== undefined) throw new HttpError(400, 'InvalidArgument', `Idempotency-Key ${problem}`)
      options.requestId = idempotencyKey
    }
    const timeout = header(req, 'X-Timeout-Ms')
    if (timeout !== undefined) {
      // Digits only: Number() would also read "1e3", "0x10" and " 5 ".
      const ms = /^\d{1,10}$/.test(timeout) ? Number(timeout) : Number.NaN
      if (!Number.isInteger(ms) || ms <= 0) throw new HttpError(400, 'InvalidArgument', `X-Timeout-Ms must be a positive integer, got ${JSON.stringify(timeout)}`)
      options.timeoutMs = ms
    }
    const consistency = header(req, 'Consistency')
    if (consistency !== undefined) {
      try {
        options.consistency = parseConsistency(consistency, 'the Consistency header')
      } catch (error) {
        throw new HttpError(400, 'InvalidArgument', (error as Error).message)
      }
    }
    let owner: HostId | undefined
    try {
      owner = cluster.ownerOf(type, id)
    } catch {
      owner = undefined // an unknown type: the call below answers why
    }
    const started = performance.now()
    const result = await cluster.call(key, method, args, options)
    if (owner !== undefined) this.latency.record(owner, performance.now() - started)
    this.knownKeys.delete(key)
    this.knownKeys.set(key, true)
    if (this.knownKeys.size > this.knownKeysMax) this.knownKeys.delete(this.knownKeys.keys().next().value!)
    return { status: 200, body: result }
  }

  /** The cluster as `/status` shows it. */
  async status(): Promise<ClusterStatus> {
    const cluster = this.live()
    // Side by side: each waits up to hangTimeoutMs on a hung host, and one after the other they
    // outlasted the CLI's wait (`troupe status` said the cluster was unreachable).
    const [hosts, duplicateKeys] = await Promise.all([cluster.hosts(), cluster.duplicateActivations?.()])
    const now = performance.now()
    const calls = new Map(hosts.filter((h) => h.state === 'up').map((h) => [h.id, h.callsReceived]))
    const rates = this.rates.rates(calls, now)
    const shares = this.placementOf(cluster.view).shardsPerHost()
    const rows = hosts.map((h): HostStatus => {
      const extra = h as HostInfo & { restarts?: unknown; replicationLag?: unknown }
      return {
        ...h,
        ringShare: (shares.get(h.id) ?? 0) / this.ring.shardCount,
        callsPerSec: h.state === 'up' ? rates.get(h.id) ?? null : null,
        p99Ms: this.latency.percentile(h.id, 0.99, now),
        replicationLag: typeof extra.replicationLag === 'number' ? extra.replicationLag : null,
        restarts: typeof extra.restarts === 'number' ? extra.restarts : 0,
      }
    })
    const up = rows.filter((h) => h.state === 'up').length
    const duplicates = duplicateKeys === undefined ? null : duplicateKeys.length
    return {
      view: cluster.view.paused === undefined ? { epoch: cluster.view.epoch, hosts: [...cluster.view.hosts] } : { epoch: cluster.view.epoch, hosts: [...cluster.view.hosts], paused: [...cluster.view.paused] },
      cluster: { ...this.info, uptimeMs: Math.round(now - this.startedAt), hostsUp: up, hostsDown: rows.length - up },
      hosts: rows,
      duplicateActivations: duplicates,
      events: [...this.events],
      supports: {
        kill: true,
        drain: typeof cluster.drain === 'function',
        scale: typeof cluster.scale === 'function',
        addHost: typeof cluster.addHost === 'function',
        journal: typeof cluster.journal === 'function',
      },
    }
  }

  private async kill(host: HostId): Promise<Answer> {
    const cluster = this.live()
    await this.knownHost(host)
    await cluster.kill(host)
    return { status: 200, body: { killed: host, view: cluster.view } }
  }

  private async drain(host: HostId): Promise<Answer> {
    const cluster = this.live()
    if (typeof cluster.drain !== 'function') throw notImplemented('drain')
    await this.knownHost(host)
    const started = performance.now()
    await cluster.drain(host)
    return { status: 200, body: { drained: host, ms: Math.round(performance.now() - started), view: cluster.view } }
  }

  private async addHost(): Promise<Answer> {
    const cluster = this.live()
    if (typeof cluster.addHost !== 'function') throw notImplemented('addHost')
    const host = await cluster.addHost()
    return { status: 200, body: { added: host, view: cluster.view } }
  }

  private async scale(req: IncomingMessage): Promise<Answer> {
    const cluster = this.live()
    const body = await readBody(req, this.bodyBytesMax)
    let parsed: unknown
    try {
      parsed = JSON.parse(body)
    } catch (error) {
      throw new HttpError(400, 'InvalidArgument', `the body is not valid JSON: ${(error as Error).message}`)
    }
    const hosts = (parsed as { hosts?: unknown } | null)?.hosts
    if (typeof hosts !== 'number' || !Number.isInteger(hosts) || hosts < 1) throw new HttpError(400, 'InvalidArgument', 'the body must be { "hosts": n } with n a positive integer')
    if (typeof cluster.scale !== 'function') throw notImplemented('scale')
    const before = cluster.view
    const started = performance.now()
    await cluster.scale(hosts)
    return { status: 200, body: { before, view: cluster.view, ms: Math.round(performance.now() - started) } }
  }

  private async whatIf(query: URLSearchParams): Promise<Answer> {
    const cluster = this.live()
    const host = query.get('kill')
    if (!host) throw new HttpError(400, 'InvalidArgument', 'what-if needs ?kill=<host>')
    const asked = query.getAll('actor')
    for (const key of asked) {
      const at = key.indexOf('/')
      if (at <= 0 || at === key.length - 1) throw new HttpError(400, 'InvalidArgument', `actor must be Type/id, got ${JSON.stringify(key)}`)
    }
    const seen = [...this.knownKeys.keys()].filter((k) => !asked.includes(k))
    const replicasParam = query.get('replicas')
    const replicas = replicasParam === null ? this.info.replicas ?? 2 : /^\d{1,2}$/.test(replicasParam) ? Number(replicasParam) : Number.NaN
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > 7) throw new HttpError(400, 'InvalidArgument', 'replicas must be an integer from 0 to 7')
    try {
      const answer = whatIfKill({ view: cluster.view, host, replicas, ring: this.ring, hasher: this.hasher!, keys: [...asked, ...seen] })
      // Of the keys the gateway merely saw, keep the affected ones.
      answer.actors = answer.actors.filter((a, i) => i < asked.length || a.effect !== 'unaffected')
      return { status: 200, body: answer }
    } catch (error) {
      if (error instanceof RangeError) throw new HttpError(404, 'NotFound', error.message)
      throw error
    }
  }

  private async journal(type: string, id: string): Promise<Answer> {
    const cluster = this.live()
    const key = actorKey(type, id)
    if (typeof cluster.journal !== 'function') throw notImplemented('journal', 'reading journals')
    return { status: 200, body: { key, journal: await cluster.journal(key) } }
  }

  private async knownHost(host: HostId): Promise<void> {
    const hosts = await this.cluster!.hosts()
    if (!hosts.some((h) => h.id === host)) throw new HttpError(404, 'NotFound', `no host ${host} (hosts: ${hosts.map((h) => h.id).join(', ')})`)
  }

  private placementOf(view: View): Placement {
    if (this.placement?.view !== view) this.placement = Placement.build(view, this.ring, this.hasher!)
    return this.placement
  }

  private async sample(): Promise<void> {
    if (!this.cluster || this.closing) return
    try {
      const hosts = await this.cluster.hosts()
      this.rates.add(new Map(hosts.filter((h) => h.state === 'up').map((h) => [h.id, h.callsReceived])))
    } catch {
      // A host going down mid-sample: the next sample will do.
    }
  }

  private recordEvent(event: { kind: string }): void {
    const entry: ClusterStatus['events'][number] = { ...(JSON.parse(toJson(event)) as Record<string, unknown>), at: new Date().toISOString(), kind: event.kind }
    this.events.push(entry)
    if (this.events.length > eventsMax) this.events.shift()
  }
}

/** Creates a gateway for `cluster`, listening on `port`. */
export async function startGateway(cluster: GatewayCluster, options: GatewayOptions & { port?: number; host?: string } = {}): Promise<Gateway> {
  const gateway = new Gateway(options)
  await gateway.listen(options.port ?? 7070, options.host)
  gateway.attach(cluster)
  return gateway
}

function integerOption(value: unknown, min: number, max: number, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TroupeError('InvalidArgument', `the gateway's ${name} must be an integer from ${min} to ${max}, got ${typeof value === 'number' ? value : typeof value}`)
  }
  return value
}

function notImplemented(method: string, what = method): HttpError {
  return new HttpError(501, 'Unsupported', `this cluster does not support ${what} (Cluster.${method} is missing)`)
}

/**
 * The path and query of a request target, segments as sent. URL's pathname resolves "." and ".."
 * (and "%2e%2e"), which would let /actors/%2e%2e/hosts/host-1/kill reach /hosts/host-1/kill past a
 * proxy rule on /actors/. The absolute form ("POST http://host/path HTTP/1.1", which proxies
 * send) routes its path after the scheme and authority the same way; any other form is a 400.
 */
function requestTarget(target: string): { path: string; query: URLSearchParams } {
  let rest = target
  if (!target.startsWith('/')) {
    const origin = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i.exec(target)
    if (!origin) throw new HttpError(400, 'InvalidArgument', `the request target must be a path or an absolute URL, got ${JSON.stringify(target.slice(0, 200))}`)
    rest = target.slice(origin[0].length)
    if (!rest.startsWith('/')) rest = `/${rest}`
  }
  rest = rest.split('#', 1)[0]!
  const at = rest.indexOf('?')
  return at < 0 ? { path: rest, query: new URLSearchParams() } : { path: rest.slice(0, at), query: new URLSearchParams(rest.slice(at + 1)) }
}

/**
 * Why `key` cannot be an Idempotency-Key (a phrase after "Idempotency-Key"), or undefined: a
 * caller's request id (requestIdProblem) that a header carries unchanged, so Latin-1 only (a
 * header is bytes, read as Latin-1) and no space or tab at either end (HTTP drops those).
 */
export function idempotencyKeyProblem(key: string): string | undefined {
  const problem = requestIdProblem(key)
  if (problem !== undefined) return problem
  if (/[^\u0000-\u00ff]/.test(key)) return 'may hold only Latin-1 characters (up to U+00FF): an HTTP header cannot carry others'
  if (/^[ \t]|[ \t]$/.test(key)) return 'may not start or end with a space (HTTP drops it)'
  return undefined
}

/** A header the call reads once: sent twice (Node would join them into "a, b"), it is a 400. */
function header(req: IncomingMessage, name: string): string | undefined {
  const values = req.headersDistinct[name.toLowerCase()]
  if (values === undefined) return undefined
  if (values.length > 1) throw new HttpError(400, 'InvalidArgument', `the ${name} header was sent ${values.length} times; send it once`)
  return values[0]
}

/**
 * Reads a request body as UTF-8, refusing one larger than `max` bytes with 413. The rest of an
 * oversized body is read and dropped before the answer (a client still writing would otherwise
 * see its connection reset instead of the 413), up to a cap past which the connection is cut.
 */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

function readBody(req: IncomingMessage, max: number): Promise<string> {
  const drainMax = Math.max(max * 16, 16 * 1024 * 1024)
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > drainMax) return Promise.reject(tooLarge(`${declared} declared`, max))
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > drainMax) {
        req.off('data', onData)
        req.off('end', onEnd)
        req.pause()
        reject(tooLarge(`${size} received so far`, max))
        return
      }
      if (size > max) chunks = []
      else chunks.push(chunk)
    }
    const onEnd = (): void => {
      if (size > max) reject(tooLarge(`${size} received`, max))
      else {
        // Strict: bytes that are not UTF-8 would reach the actor as U+FFFD, a silently changed argument.
        try {
          resolve(strictUtf8.decode(Buffer.concat(chunks)))
        } catch {
          reject(new HttpError(400, 'InvalidArgument', 'the body is not valid UTF-8'))
        }
      }
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', reject)
  })
}

function tooLarge(size: string, max: number): HttpError {
  return new HttpError(413, 'PayloadTooLarge', `the body is larger than the gateway's limit of ${max} bytes (${size})`)
}
