import * as Comlink from 'comlink'
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join, resolve as resolvePath } from 'node:path'
import { pathToFileURL } from 'node:url'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import type { ActorRef } from '../../actors/ref.ts'
import { nodeEndpoint } from '../../transport/node-endpoint.ts'
import { PortTransport } from '../../transport/port.ts'
import { ClusterClient, type ActorTarget, type RefOptions } from '../client.ts'
import { parseConsistency, type Consistency } from '../durability/consistency.ts'
import { TroupeError } from '../errors.ts'
import { loadPointHasher } from '../hash.ts'
import type { HostStats } from '../host.ts'
import { resolveLimits, type Limits } from '../limits.ts'
import { clientSpins, spinAll, spinClient, spinNone, spinningNames, spinsByDefault, spinWaitUsDefault, type Spinning } from './spin-gate.ts'
import { randomId, systemRandom } from '../random.ts'
import { ShardHolders } from '../shard-holders.ts'
import { Supervisor, defaultSupervision, resolveSupervision, type SupervisionOptions } from '../supervision/supervisor.ts'
import { Autoscaler, resolveAutoscale, type AutoscaleOptions, type ResolvedAutoscale } from '../supervision/autoscaler.ts'
import type { HostId, View } from '../view.ts'
import { lockDataDir, type DataDirLock } from './data-dir-lock.ts'
import { ask, fenceOff, spawnHost, whenReady, withDeadline, type HostHandle, type HostSettings } from './host-handle.ts'
import { isCrashReport } from './host-control.ts'

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
  /**
   * With a `dataDir`: a view pauses a shard whose every holder is down (restarting on its disk)
   * instead of handing it to hosts that hold nothing of it (see `ShardHolders`). Default false:
   * under repeated kills quicker than re-replication it pauses shards needlessly, and one such
   * pause was seen not to end (an open bug).
   */
  pauseShards?: boolean
  /** How failed hosts are replaced (OTP: strategy, intensity, periodMs, restart). Default one_for_one, 5 in 5,000 ms, permanent. */
  supervision?: SupervisionOptions
  /** How often the supervisor pings each host, in ms. Default 1,000. */
  heartbeatMs?: number
  /** A host that does not answer a ping within this many ms is hung: it is terminated and replaced. Default 5,000. */
  hangTimeoutMs?: number
  /** Per-host V8 heap limit in MB; a host over it crashes alone and is replaced. Default: Node's. */
  heapMbMax?: number
  /** Overrides of the runtime limits (see `Limits`). */
  limits?: Partial<Limits>
  /** Adds and drains hosts with the load, between `minHosts` and `maxHosts`. Default: off (a fixed `hosts`). */
  autoscale?: AutoscaleOptions
  /**
   * After sending, the client (while calls are in flight) and each host (after a burst of work)
   * poll their ports for up to this many µs before sleeping: a thread woken by a message waits
   * tens of µs for its CPU on a VM, most of a round trip. Backs off on its own when replies come
   * later than that. Default 100: every thread spins while the client and every host can have a
   * core of their own (live hosts + 1 ≤ the machine's cores, checked again as hosts join and
   * leave); beyond that only the client does, with one call in flight (a spinning host would take
   * a core another host needs). Given explicitly, every thread spins whatever the host count; 0
   * never. At most 10,000.
   */
  spinWaitUs?: number
}

/** One host as the cluster sees it. */
export interface HostInfo extends HostStats {
  state: 'starting' | 'up' | 'down'
  /** How many times the supervisor replaced this host. */
  restarts: number
}

/** Something the cluster did or saw. */
export type ClusterEvent =
  | { kind: 'host-down'; host: HostId; reason: string }
  | { kind: 'host-up'; host: HostId }
  | { kind: 'restart'; host: HostId; restarts: number }
  | { kind: 'view'; view: View }
  | { kind: 'escalated'; reason: string }
  | { kind: 'autoscale'; from: number; to: number; reason: string }
  /** Paused shards resumed with none of their holders back (given up on): their actors' acknowledged writes are lost. */
  | { kind: 'shards-lost'; shards: number; epoch: number }

interface Settings extends HostSettings {
  hostCount: number
  pauseShards: boolean
  autoscale: ResolvedAutoscale | undefined
  supervision: SupervisionOptions
  heartbeatMs: number
  hangTimeoutMs: number
  /** `spinWaitUs` was not given: threads spin only while every one has a core (see `spinsByDefault`). */
  spinAuto: boolean
}

/** The next view with the same hosts (a paused shard resumes in it, or a re-replication runs again). */
const sameHosts = (current: View): View => ({ epoch: current.epoch + 1, hosts: current.hosts })

/** Most hosts one cluster runs on one machine. */
export const hostsMax = 256

/**
 * A cluster of hosts on Node worker threads, supervised from this thread, and a client in this
 * thread that calls them. Hosts talk to each other and to the client over a full mesh of
 * MessageChannels (the data plane) and to the supervisor over comlink (the control plane).
 *
 * The supervisor owns the view. When a host dies (exit, error, out of memory) or hangs (missed
 * pings), it publishes a view without it (epoch + 1), so its backups take over, then replaces it
 * as the restart strategy says, until the restart intensity is spent (then it escalates: the
 * cluster stops, as an OTP supervisor would).
 */
export class Cluster {
  private readonly settings: Settings
  private readonly client: ClusterClient
  private readonly clientTransport: PortTransport
  private readonly handles: HostHandle[] = []
  private readonly supervisor: Supervisor
  /** Which threads spin (see spin-gate.ts): read by every thread, set on membership changes. */
  private readonly spinGate: Int32Array
  private readonly listeners = new Set<(event: ClusterEvent) => void>()
  private membership: Promise<unknown> = Promise.resolve()
  private heartbeat: ReturnType<typeof setInterval> | undefined
  private autoscaleTimer: ReturnType<typeof setInterval> | undefined
  private nextHostIndex = 0
  /** Some actor type journals its turns (set once the hosts are ready). */
  private journaled = false
  /** The scale under way, if any (see `scale`). */
  private scaling: Promise<void> = Promise.resolve()
  private stopped = false
  private escalation: TroupeError | undefined
  /** Hosts down whose supervision (a replacement joining, or the decision not to) has not ended. */
  private recovering = 0
  /** When a host last went down (`performance.now()`). */
  private lastDownMs = -Infinity
  /** Per failed host: resolves once the view without it is out. */
  private readonly failovers = new WeakMap<HostHandle, Promise<void>>()
  /** Per failed host: resolves once every live host has the view without it. */
  private readonly viewAcked = new WeakMap<HostHandle, Promise<void>>()
  /** With a dataDir: which hosts hold each shard, so a view pauses a shard whose holders are all restarting. */
  private readonly holders: ShardHolders | undefined
  /** Resolves once the count of holders took the last confirmed view's re-replication in. */
  private holdersCounted: Promise<void> = Promise.resolve()
  /** Hosts a supervisor decision restarts (with their siblings under one_for_all / rest_for_one) until each joined: awaited, though retired. */
  private readonly restarting = new Set<HostId>()
  /** Hosts being drained: out of the view, but noted in the dataDir until they handed their copies off. */
  private readonly handingOff = new Set<HostId>()

  private constructor(settings: Settings, client: ClusterClient, clientTransport: PortTransport, private readonly lock: DataDirLock | undefined) {
    this.settings = settings
    this.client = client
    this.clientTransport = clientTransport
    this.supervisor = new Supervisor(settings.supervision)
    this.spinGate = new Int32Array(settings.spinGate)
    // Without a dataDir a restarted host comes back empty: there is nothing to wait for.
    this.holders = settings.dataDir === undefined || !settings.pauseShards ? undefined : new ShardHolders(client.currentPlacement, settings.replicas + 1)
  }

  /** Starts the hosts, loads the actors module in each, and resolves when all serve calls. */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const settings = validate(options)
    if (settings.dataDir !== undefined) {
      try {
        mkdirSync(settings.dataDir, { recursive: true })
      } catch (error) {
        // A path through a file, or one this process may not write: the caller's to fix.
        throw new TroupeError('InvalidArgument', `options.dataDir: cannot create ${settings.dataDir}: ${(error as Error).message}`)
      }
    }
    // One cluster per data directory: a second one would write the same journal segments.
    const lock = settings.dataDir === undefined ? undefined : lockDataDir(settings.dataDir)
    try {
      return await Cluster.startLocked(settings, lock)
    } catch (error) {
      lock?.release()
      throw error
    }
  }

  private static async startLocked(settings: Settings, lock: DataDirLock | undefined): Promise<Cluster> {
    // Restarted on a dataDir: the hosts of its newest view start (the newest copies are on them,
    // not on hosts drained before, whose journals are behind), and the cluster then scales to the
    // count asked for, moving actors one host at a time as addHost and drain do. Started on another
    // set directly, an actor whose owners all fell outside it would start from nothing.
    const stored = storedHosts(settings.dataDir)
    // Each host the note lists, even one it lists without a directory (a journal deleted).
    if (settings.replicas === 0) checkJournalsThere(settings.dataDir, notedHosts(settings.dataDir) ?? stored)
    const hostIds = stored.length > 0 ? stored : Array.from({ length: settings.hostCount }, (_, i) => `host-${i}`)
    const startCount = hostIds.length
    if (startCount !== settings.hostCount && settings.replicas === 0) {
      throw new TroupeError('InvalidArgument', `options.hosts: ${settings.dataDir} holds the journals of ${startCount} hosts, and with replicas: 0 an actor's only copy cannot move to another host: start with hosts: ${startCount} (or replicas ≥ 1)`)
    }
    const clientId = `client-${randomId(systemRandom, 1)}`
    // Restarted on a dataDir: the hosts start in a view above the last one published there, so
    // nothing they do before the first view change is fenced (the journals' epochs below are the
    // check when that note is behind).
    const view: View = { epoch: storedEpoch(settings.dataDir) + 1, hosts: hostIds }
    noteView(settings.dataDir, view)
    const peerPorts = new Map<HostId, Array<[string, MessagePort]>>(hostIds.map((id) => [id, []]))
    let inFlight = (): number => 0
    const spinGate = new Int32Array(settings.spinGate)
    const clientTransport = new PortTransport(clientId, [], {
      schedule: setImmediate,
      eagerFirst: true,
      ...(settings.spinWaitUs > 0 ? { spinWait: { budgetUs: settings.spinWaitUs, awaiting: () => clientSpins(Atomics.load(spinGate, 0), inFlight()), now: () => performance.now() } } : {}),
    })
    for (let i = 0; i < hostIds.length; i++) {
      for (let j = i + 1; j < hostIds.length; j++) {
        const { port1, port2 } = new MessageChannel()
        peerPorts.get(hostIds[i]!)!.push([hostIds[j]!, port1])
        peerPorts.get(hostIds[j]!)!.push([hostIds[i]!, port2])
      }
      const { port1, port2 } = new MessageChannel()
      peerPorts.get(hostIds[i]!)!.push([clientId, port1])
      clientTransport.connect(hostIds[i]!, nodeEndpoint(port2))
    }
    // The client's placement first: the hosts are handed the ring points it hashed.
    const hasher = await loadPointHasher()
    const client = new ClusterClient({ id: clientId, transport: clientTransport, hasher, view, limits: settings.limits })
    inFlight = () => client.inFlight
    const handles: HostHandle[] = []
    try {
      for (const id of hostIds) handles.push(spawnHost(id, settings, view, peerPorts.get(id)!))
    } catch (error) {
      // A worker that cannot be spawned (out of threads or memory): none of the others stays.
      await Promise.all(handles.map((h) => h.worker.terminate()))
      clientTransport.close()
      throw error
    }
    // A bad actors module (two classes of one type, a bad static list...) is refused by the
    // registry in each worker; its kind crosses the thread as an own property of the error.
    let refused: TroupeError | undefined
    for (const handle of handles) {
      handle.worker.once('error', (error: Error & { kind?: unknown }) => {
        if (refused === undefined && error.kind === 'InvalidArgument') refused = new TroupeError('InvalidArgument', `options.actors: ${error.message}`)
      })
    }
    let epochMax = 0
    let journaled = false
    try {
      const readies = await Promise.all(handles.map(whenReady))
      client.setKnownTypes(readies[0]!.types)
      epochMax = Math.max(...readies.map((r) => r.epochMax))
      checkEpochRoom(epochMax, 'the journals hold')
      journaled = readies.some((r) => r.journaled)
      if (settings.autoscale && settings.replicas === 0 && journaled) throw new TroupeError('InvalidArgument', `options.autoscale: ${unmovable}`)
    } catch (error) {
      await Promise.all(handles.map((h) => h.worker.terminate()))
      clientTransport.close()
      throw refused ?? error
    }
    const cluster = new Cluster(settings, client, clientTransport, lock)
    cluster.journaled = journaled
    cluster.gateSpinning(hostIds.length)
    cluster.nextHostIndex = Math.max(...hostIds.map((id) => Number(id.slice('host-'.length)))) + 1
    for (const handle of handles) cluster.adopt(handle)
    // Restarted on journals from views up to epochMax: the first view must be newer than all of
    // them, or the new primaries' records would look older than the copies the backups hold, be
    // fenced, and every write redirected for good. Published before any call can arrive.
    if (epochMax >= view.epoch) await cluster.publish(() => ({ epoch: epochMax + 1, hosts: hostIds })).acked
    cluster.startHeartbeat()
    if (startCount !== settings.hostCount || journaled) {
      try {
        // Each host offers its copies first (it knows no view before this one): a host that owns
        // an actor no more (restarted with fewer replicas) may hold its furthest copy, which must
        // reach the primary before a call activates it there; and the first step of a scale may
        // move an actor off the only host that holds it.
        await cluster.replicated()
        if (startCount !== settings.hostCount) await cluster.scale(settings.hostCount)
      } catch (error) {
        await cluster.stop()
        throw error
      }
    }
    if (settings.autoscale) cluster.startAutoscale(settings.autoscale)
    return cluster
  }

  /**
   * A typed proxy to the actor `id` of the given class or type name. With `{ staleReads: true }`
   * (class only), read-only methods may be answered by a backup's warm replica.
   */
  actor<T>(target: ActorTarget<T>, id: string, options: RefOptions = {}): ActorRef<T> {
    return this.client.actor(target, id, options)
  }

  /**
   * Calls `method` on `Type/id` with untyped arguments (what the HTTP gateway and CLI use). With
   * a `requestId`, a repeat of the call returns the first result instead of running again.
   */
  call(key: string, method: string, args: unknown[], options: { requestId?: string; timeoutMs?: number; consistency?: Consistency } = {}): Promise<unknown> {
    return this.client.callKey(key, method, args, options)
  }

  /** The host that runs the actor now. */
  ownerOf<T>(target: ActorTarget<T>, id: string): HostId | undefined {
    return this.client.ownerOf(target, id)
  }

  /** Primary then backups of an actor in the current view. */
  ownersOf<T>(target: ActorTarget<T>, id: string, n = this.settings.replicas + 1): HostId[] {
    return this.client.ownersOf(target, id, n)
  }

  /** The membership view: epoch and host ids. */
  get view(): View {
    return this.client.view
  }

  /** Listens to cluster events (host down or up, restarts, new views, escalation); returns a function that stops listening. */
  on(listener: (event: ClusterEvent) => void): () => void {
    // Checked now: a listener that is no function would throw inside a failover, long after this call.
    if (typeof listener !== 'function') throw new TroupeError('InvalidArgument', `cluster.on takes one listener function, (event) => void, called with every event (filter on event.kind); got ${typeof listener}`)
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Each host (live or down) with its counters. */
  async hosts(): Promise<HostInfo[]> {
    return Promise.all(this.handles.map(async (h): Promise<HostInfo> => {
      const stats = h.state === 'up' ? await withDeadline(h.control.stats(), this.settings.hangTimeoutMs, h.id).catch(() => undefined) : undefined
      return { ...(stats ?? emptyStats(h.id)), state: stats ? h.state : 'down', restarts: h.restarts }
    }))
  }

  /** Chaos: terminates a host's worker abruptly, as a crash would. Resolves once the view without it is out. */
  async kill(hostId: HostId): Promise<void> {
    const handle = this.live(hostId)
    handle.killed = true
    await Promise.all([this.giveUp(handle, 'killed'), handle.exited])
  }

  /**
   * An actor's journal (latest snapshot and the records after it) as its primary holds it, for
   * inspection (`troupe journal`). `key` is `Type/id`.
   */
  async journal(key: string): Promise<{ host: HostId; snapshot: { seq: number; epoch: number; state: unknown } | undefined; records: Array<{ seq: number; epoch: number; requestId: string; patch: unknown; result: unknown }> }> {
    if (typeof key !== 'string' || key.indexOf('/') <= 0) throw new TroupeError('InvalidArgument', 'journal needs a key "Type/id"')
    this.client.checkType(key)
    const owner = this.client.owners(key, 1)[0]
    const handle = owner === undefined ? undefined : this.handles.find((h) => h.id === owner && h.state === 'up')
    if (!handle) throw new TroupeError('HostUnavailable', `no live primary for ${key}`)
    return { host: handle.id, ...(await withDeadline(handle.control.journal(key), this.settings.hangTimeoutMs, `${handle.id} journal`)) }
  }

  /** Keys active on more than one host (must stay 0 outside the instant of a handoff). */
  async duplicateActivations(): Promise<string[]> {
    const seen = new Map<string, number>()
    const lists = await Promise.all(this.liveHandles().filter((h) => h.state === 'up').map((h) => withDeadline(h.control.activeKeys(), this.settings.hangTimeoutMs, h.id).catch(() => [] as string[])))
    for (const keys of lists) for (const key of keys) seen.set(key, (seen.get(key) ?? 0) + 1)
    return [...seen].filter(([, n]) => n > 1).map(([key]) => key)
  }

  /** Starts one more host; about 1/n of the actors move to it. Resolves with its id once it serves. */
  addHost(): Promise<HostId> {
    if (this.settings.replicas === 0 && this.journaled) return Promise.reject(new TroupeError('InvalidArgument', `addHost: ${unmovable}`))
    return this.serialize(async () => {
      const id = `host-${this.nextHostIndex++}`
      await this.join(id, 0)
      await this.replicated()
      return id
    })
  }

  /**
   * Moves every actor off a host, then stops it: the view without it goes out first, so calls
   * queued or running there are redirected (and retried with the same request id) rather than failed.
   */
  async drain(hostId: HostId): Promise<void> {
    this.live(hostId)
    if (this.settings.replicas === 0 && this.journaled) throw new TroupeError('InvalidArgument', `drain: ${unmovable}`)
    return await this.serialize(async () => {
      // Checked again in turn: a drain of the same host queued before this one retired it.
      const handle = this.live(hostId)
      // Checked in turn with other membership changes: two drains at once must not empty the cluster.
      if (!this.liveHandles().some((other) => other !== handle)) {
        throw new TroupeError('InvalidArgument', `cannot drain ${hostId}: it is the only live host, and its actors would have nowhere to go (add a host first, or stop the cluster)`)
      }
      handle.stopping = true
      // Noted until it handed its copies off, whatever view is published meanwhile.
      this.handingOff.add(hostId)
      try {
        await this.publish(this.without(hostId)).acked
        await ask(handle, handle.control.drain(), this.settings.limits.callTimeoutMs, 'drain').catch(() => undefined)
        await this.retire(handle)
        this.forget(handle)
      } finally {
        this.handingOff.delete(hostId)
      }
      // A shard paused until this host (up, no longer an owner) offered its copy is not waited
      // for any more: it handed the copy off. A view says so, or the shard stays paused.
      if (this.anyPaused) await this.publish(sameHosts).acked
      await this.replicated()
      this.note(this.view)
    })
  }

  /**
   * Waits until every live host re-replicated for the newest view: the next membership change
   * may move an actor's owners again, and must find the copies where this one put them.
   */
  private async replicated(): Promise<void> {
    await Promise.all(this.liveHandles().filter((h) => h.state === 'up').map((h) => ask(h, h.control.replicated(), this.settings.hangTimeoutMs, 'replicated').catch(() => undefined)))
    // And the count of holders follows it, before the next change is computed from that count.
    await this.holdersCounted
  }

  /** Adds or drains hosts until `n` are up. */
  async scale(n: number): Promise<void> {
    if (this.stopped) throw new TroupeError('ClusterStopped', 'the cluster was stopped')
    if (!Number.isInteger(n) || n < 1 || n > hostsMax) throw new TroupeError('InvalidArgument', `scale needs an integer from 1 to ${hostsMax}`)
    if (n !== this.liveHandles().length && this.settings.replicas === 0 && this.journaled) throw new TroupeError('InvalidArgument', `scale: ${unmovable}`)
    // One scale at a time (each step is serialized, not the loop): two at once with different
    // targets added and drained hosts in turn forever.
    const run = this.scaling.then(async () => {
      while (!this.stopped && this.liveHandles().length < n) await this.addHost()
      while (!this.stopped && this.liveHandles().length > n) await this.drain(this.liveHandles().at(-1)!.id)
    })
    this.scaling = run.catch(() => undefined)
    await run
  }

  /** Stops every host gracefully (draining actors first) and fails calls still pending. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat)
    if (this.autoscaleTimer !== undefined) clearInterval(this.autoscaleTimer)
    // Bounded: a replacement whose actors module never finishes loading holds the membership
    // queue for good (stop hung); terminating it below ends that change.
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([this.membership.catch(() => undefined), new Promise((resolve) => { timer = setTimeout(resolve, 3 * this.settings.hangTimeoutMs) })])
    clearTimeout(timer)
    this.client.stop()
    const live = this.liveHandles()
    for (const handle of live) handle.stopping = true
    // Drain every host before closing any: a primary's last records need its backups' acks.
    try {
      // A host still starting serves nothing yet (and one stuck loading would not answer): it is only terminated.
      await Promise.all(live.filter((h) => h.state === 'up').map((h) => ask(h, h.control.drain(), this.settings.limits.callTimeoutMs, 'drain').catch(() => undefined)))
      await Promise.all(this.handles.map((h) => this.retire(h)))
    } finally {
      // Only once every worker is gone (retire ends each): then no host writes the journals any more.
      await Promise.all(this.handles.map((h) => h.worker.terminate().catch(() => undefined)))
      this.lock?.release()
    }
  }

  /** The error the supervisor escalated with, if it gave up. */
  get escalated(): TroupeError | undefined {
    return this.escalation
  }

  private live(hostId: HostId): HostHandle {
    if (this.stopped) throw new TroupeError('ClusterStopped', 'the cluster was stopped')
    if (typeof hostId !== 'string') throw new TroupeError('InvalidArgument', 'a host id must be a string')
    const handle = this.handles.find((h) => h.id === hostId && h.state !== 'down')
    if (!handle) throw new TroupeError('InvalidArgument', `no live host ${hostId} (live: ${this.liveHandles().map((h) => h.id).join(', ')})`)
    return handle
  }

  private liveHandles(): HostHandle[] {
    return this.handles.filter((h) => h.state !== 'down')
  }

  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new TroupeError('ClusterStopped', 'the cluster was stopped'))
    const result = this.membership.then(operation)
    this.membership = result.catch(() => undefined)
    return result
  }

  /** Watches a host's worker: an exit or error the supervisor did not ask for is a failure. */
  private adopt(handle: HostHandle): void {
    const index = this.handles.findIndex((h) => h.id === handle.id)
    if (index >= 0) this.handles[index] = handle
    else this.handles.push(handle)
    handle.worker.on('exit', (code) => void this.hostDown(handle, handle.killed ? 'killed' : `exited with code ${code}`, handle.killed || code !== 0))
    handle.worker.on('error', (error) => void this.hostDown(handle, `crashed: ${error.message}`, true))
    handle.worker.on('message', (message: unknown) => {
      if (isCrashReport(message)) void this.giveUp(handle, `crashed: ${message.crashed}`)
    })
  }

  /** Starts host `id` (new, or a replacement), wires it to every live peer, and adds it to the view. */
  private async join(id: HostId, restarts: number): Promise<void> {
    const peers: Array<[string, MessagePort]> = []
    for (const other of this.liveHandles()) {
      if (other.id === id) continue
      const { port1, port2 } = new MessageChannel()
      // A peer that is dying does not answer: it will not need the link.
      const linked = await ask(other, other.control.connect(id, Comlink.transfer(port1, [port1])), this.settings.hangTimeoutMs, 'connect').then(() => true, () => false)
      if (linked) peers.push([other.id, port2])
      else port2.close()
    }
    const { port1, port2 } = new MessageChannel()
    this.clientTransport.connect(id, nodeEndpoint(port1))
    peers.push([this.client.id, port2])
    const handle = spawnHost(id, this.settings, this.view, peers, restarts, true)
    this.adopt(handle)
    await whenReady(handle)
    this.emit({ kind: 'host-up', host: id })
    await this.publish((current) => ({ epoch: current.epoch + 1, hosts: [...current.hosts.filter((h) => h !== id), id] })).acked
  }

  /**
   * Ends a host the supervisor decided is gone (killed, hung): silences it on the data plane, then
   * fails over at once, while its worker is still being terminated (a worker takes a few ms to
   * exit, and nothing it could still do reaches another thread).
   */
  private giveUp(handle: HostHandle, reason: string, options: { hung?: boolean } = {}): Promise<void> {
    fenceOff(handle)
    const failedOver = this.hostDown(handle, reason, true)
    // A fenced host can say and do nothing, so its worker is torn down only once the failover is
    // over: every host has the view, then `restartDelayMs` more (its replacement waits for the exit
    // anyway). Tearing a worker down takes a core for a few ms, which the backups taking over need
    // more on a small machine (measured: p50 failover 8.1 -> 6.0 ms, bench/failover.bench.ts). A
    // hung host is the exception: it spins a core until it is terminated.
    const terminate = (): void => void handle.worker.terminate()
    const settleMs = options.hung ? 0 : this.settings.supervision.restartDelayMs
    const later = (): void => void (settleMs === 0 ? terminate() : setTimeout(terminate, settleMs))
    void (this.viewAcked.get(handle) ?? Promise.resolve()).then(later, later)
    return failedOver
  }

  /** A host is gone: publish the view without it, then let the supervisor decide. */
  private hostDown(handle: HostHandle, reason: string, abnormal: boolean): Promise<void> {
    if (handle.state === 'down') return this.failovers.get(handle) ?? Promise.resolve()
    const wasStarting = handle.state === 'starting'
    handle.state = 'down'
    // A replacement that fails to start is not replaced again: no shard waits for it.
    if (wasStarting) handle.abandoned = true
    if (handle.stopping || this.stopped) return Promise.resolve()
    this.emit({ kind: 'host-down', host: handle.id, reason })
    // First the failover (a view without it), then, separately, the supervisor's restart. The
    // failover counts as done once the view is sent: hosts that get a call from a newer epoch
    // before the view itself wait for it rather than bounce the call.
    const { sent, acked } = this.publish(this.without(handle.id))
    this.viewAcked.set(handle, acked)
    // The replacement starts a moment after every host has the view: spawning a worker takes a
    // core for a while, and the backups taking over come first.
    if (!wasStarting) {
      // Never before the old worker is gone: a replacement reopens the same data directory.
      this.recovering++
      this.lastDownMs = performance.now()
      void acked
        .then(() => Promise.all([handle.exited, new Promise((resolve) => setTimeout(resolve, this.settings.supervision.restartDelayMs))]))
        .then(() => this.serialize(() => this.supervise(handle, abnormal)))
        .catch(() => undefined)
        .finally(() => { this.recovering-- })
    }
    const settled = Promise.race([sent, acked])
    this.failovers.set(handle, settled)
    return settled
  }

  private async supervise(handle: HostHandle, abnormal: boolean): Promise<void> {
    // Drained while its failure waited its turn: it is meant to be gone.
    if (handle.retired || this.stopped) return
    const order = this.handles.map((h) => h.id)
    const decision = this.supervisor.childExited(handle.id, order, abnormal, performance.now())
    if (decision.action === 'ignore') {
      // Not restarted: the shards waiting for it resume without it.
      handle.abandoned = true
      if (this.anyPaused) this.publish(sameHosts)
      return
    }
    if (decision.action === 'escalate') {
      this.escalation = new TroupeError('HostUnavailable', `supervisor gave up: ${decision.reason}`)
      this.emit({ kind: 'escalated', reason: decision.reason })
      void Promise.resolve().then(() => this.stop())
      return
    }
    // Siblings restarted with it (one_for_all, rest_for_one) stop first, in reverse start order.
    // Each comes back on its disk: a shard whose holders they are waits for them meanwhile (a
    // sibling retired here is no host given up on).
    for (const child of decision.children) this.restarting.add(child)
    try {
      await this.restart(handle, decision.children)
    } finally {
      for (const child of decision.children) this.restarting.delete(child)
    }
  }

  /** Stops `failed`'s siblings among `children`, then starts every child again on its disk. */
  private async restart(handle: HostHandle, children: readonly HostId[]): Promise<void> {
    for (const sibling of [...children].reverse()) {
      const other = this.handles.find((h) => h.id === sibling && h.state !== 'down')
      if (!other || other === handle) continue
      other.stopping = true
      await this.publish(this.without(sibling)).acked
      await this.retire(other)
    }
    for (const child of children) {
      const previous = this.handles.find((h) => h.id === child)!
      // A worker given up on may still be running (silenced): its replacement reopens its data directory.
      if (previous.state === 'down') await previous.exited
      this.emit({ kind: 'restart', host: child, restarts: previous.restarts + 1 })
      await this.join(child, previous.restarts + 1)
      this.restarting.delete(child)
    }
  }

  /** Which threads poll their ports before sleeping now (`spinWaitUs`): `all` by default only while every thread has a core, else `client` (with one call in flight). */
  get spinning(): Spinning {
    return spinningNames[Atomics.load(this.spinGate, 0)]!
  }

  /** The client's spins so far: those that got a reply, and those that ran out (as `spinsCaught` / `spinsMissed` in `hosts()`). */
  get clientSpins(): { caught: number; missed: number } {
    return { ...this.clientTransport.spins }
  }

  /** Turns spinning on or off for every thread as membership changes (the default follows the host count). */
  private gateSpinning(hosts: number): void {
    const gate = this.settings.spinWaitUs === 0 ? spinNone : !this.settings.spinAuto || spinsByDefault(hosts, availableParallelism()) ? spinAll : spinClient
    Atomics.store(this.spinGate, 0, gate)
  }

  /**
   * Publishes the next view, computed from the newest one at once (so epochs only grow and a
   * failover never waits behind a restart), and resolves when every live host has it. A host that
   * gets a newer view before an older one ignores the older.
   */
  private publish(next: (current: View) => View): { sent: Promise<void>; acked: Promise<void> } {
    const view = this.withPaused(next(this.view))
    this.gateSpinning(view.hosts.length)
    this.note(view)
    this.client.setView(view)
    this.emit({ kind: 'view', view })
    const lost = this.holders?.takeLost() ?? 0
    if (lost > 0) this.emit({ kind: 'shards-lost', shards: lost, epoch: view.epoch })
    const acked = Promise.all(this.liveHandles().filter((h) => h.state === 'up').map((h) => ask(h, h.control.setView(view), this.settings.hangTimeoutMs, 'setView').catch(() => false)))
    void acked.then(() => this.confirmHolders(view))
    return { sent: Promise.resolve(), acked: acked.then(() => undefined) }
  }

  /**
   * Notes `view` in the dataDir, with the hosts being drained (until they handed their copies off) and the hosts a paused shard waits for: those hold
   * its only copies, so a restart (after a stop or a crash of the whole process) must start them,
   * or its actors would start over on hosts that hold nothing of them.
   */
  private note(view: View): void {
    const extra = [...this.handingOff, ...(this.holders?.awaitedHosts ?? [])]
    noteView(this.settings.dataDir, { epoch: view.epoch, hosts: [...view.hosts, ...extra.filter((h, i) => !view.hosts.includes(h) && extra.indexOf(h) === i)] })
  }

  /** Whether some shard is paused now (a view that resumes it may be due). */
  private get anyPaused(): boolean {
    return this.holders !== undefined && this.holders.paused.length > 0
  }

  /** `view` with the shards it pauses (see `ShardHolders`): those whose every holder is down, restarting on its disk. */
  private withPaused(view: View): View {
    if (this.holders === undefined) return view
    const paused = this.holders.next(this.client.placementOf(view), (host) => this.awaited(host))
    return paused.length === 0 ? { epoch: view.epoch, hosts: view.hosts } : { epoch: view.epoch, hosts: view.hosts, paused }
  }

  /** Whether a host out of the view will be back on its disk: down, and neither given up on nor retired. */
  private awaited(host: HostId): boolean {
    if (this.stopped) return false
    if (this.restarting.has(host)) return true
    const handle = this.handles.find((h) => h.id === host)
    return handle !== undefined && !handle.retired && !handle.abandoned
  }

  /**
   * Once every host of `view` re-replicated for it (and it is still the newest), its owners hold
   * each shard; a shard paused until its holders were back resumes in a new view.
   */
  private confirmHolders(view: View): void {
    const holders = this.holders
    if (holders === undefined || holders.settled || this.stopped) return
    this.holdersCounted = this.replicatedFor(view).then((complete) => {
      if (this.stopped || this.view !== view) return
      const placement = this.client.currentPlacement
      // A re-replication cut short runs again only in a next view: a shard that waits on nothing
      // else gets one, a moment later, rather than stay paused until some other change.
      if (!complete) {
        if (holders.resumable(placement)) setTimeout(() => { if (this.view === view && !this.stopped) this.publish(sameHosts) }, this.settings.limits.replicationRetryMs)
        return
      }
      if (holders.replicated(placement)) this.publish(sameHosts)
    }).catch(() => undefined)
  }

  /** Whether every host of `view` is up and reports a complete re-replication for it. */
  private async replicatedFor(view: View): Promise<boolean> {
    const handles = view.hosts.map((id) => this.handles.find((h) => h.id === id && h.state === 'up'))
    if (handles.some((h) => h === undefined)) return false
    // No deadline but the host's exit: a run starts `replicationRetryMs` after the view and reads
    // every copy the host holds, so it may well outlast `hangTimeoutMs`; cut off at that, it was
    // never complete, and a paused shard never resumed (a new view every moment restarted every
    // run). A hung host is the heartbeat's to give up; a newer view ends a run at once.
    const reports = await Promise.all(handles.map((h) => Promise.race([h!.control.replicated(), h!.exited.then(() => undefined)]).catch(() => undefined)))
    return reports.every((r) => r !== undefined && r.epoch === view.epoch && r.complete)
  }

  private without(hostId: HostId): (current: View) => View {
    return (current) => ({ epoch: current.epoch + 1, hosts: current.hosts.filter((h) => h !== hostId) })
  }

  /**
   * A drained host is gone for good: no longer listed, nor counted among the children a
   * one_for_all or rest_for_one restart brings back, and its peers drop their links to it.
   */
  private forget(handle: HostHandle): void {
    const index = this.handles.indexOf(handle)
    if (index >= 0) this.handles.splice(index, 1)
    for (const peer of this.liveHandles()) {
      void ask(peer, peer.control.disconnect(handle.id), this.settings.hangTimeoutMs, 'disconnect').catch(() => undefined)
    }
  }

  private async retire(handle: HostHandle): Promise<void> {
    if (handle.retired) return
    handle.retired = true
    handle.stopping = true
    if (handle.state === 'up') await ask(handle, handle.control.stop(), this.settings.limits.callTimeoutMs, 'stop').catch(() => undefined)
    handle.state = 'down'
    await handle.worker.terminate()
    handle.control[Comlink.releaseProxy]()
    this.clientTransport.disconnect(handle.id)
  }

  /** Pings every host; one that does not answer in time is hung: it is terminated (and so replaced). */
  private startHeartbeat(): void {
    const { heartbeatMs, hangTimeoutMs } = this.settings
    // The lease outlives a few missed pings: only a host cut off from its supervisor lets it lapse.
    const leaseMs = hangTimeoutMs * 3
    this.heartbeat = setInterval(() => {
      for (const handle of this.liveHandles()) {
        if (handle.state !== 'up' || handle.stopping) continue
        withDeadline(handle.control.ping(leaseMs), hangTimeoutMs, `${handle.id} heartbeat`).catch(() => {
          if (handle.state !== 'up' || handle.stopping || this.stopped) return
          // One at a time: a host that is only slow (a stall) holds copies the view counts on, and
          // two given up at once (both busy with the same handoff) lost acknowledged writes. It is
          // pinged again, and given up once the other host's replacement has joined, or 3 x
          // hangTimeoutMs + restartDelayMs after the last host went down (a replacement that
          // never becomes ready must not shield a hung host for good).
          if (this.recovering > 0 && performance.now() - this.lastDownMs < 3 * hangTimeoutMs + (this.settings.supervision.restartDelayMs ?? 0)) return
          void this.giveUp(handle, 'hung: missed its heartbeat', { hung: true })
        })
      }
    }, heartbeatMs)
    this.heartbeat.unref()
  }

  /**
   * Samples the calls the hosts received over each interval and adds or drains one host at a time
   * as the `Autoscaler` decides (a drain moves actors off with zero failed calls).
   */
  private startAutoscale(options: ResolvedAutoscale): void {
    const autoscaler = new Autoscaler(options)
    let last: { atMs: number; calls: Map<HostId, number> } | undefined
    let busy = false
    this.autoscaleTimer = setInterval(() => {
      if (busy || this.stopped) return
      busy = true
      void (async () => {
        const hosts = (await this.hosts()).filter((h) => h.state === 'up')
        const atMs = performance.now()
        const calls = new Map(hosts.map((h) => [h.id, h.callsReceived]))
        const previous = last
        last = { atMs, calls }
        if (!previous || this.stopped) return
        // Per host, so a host that joined or left does not read as a jump or a drop in load.
        let served = 0
        for (const [id, n] of calls) served += Math.max(0, n - (previous.calls.get(id) ?? 0))
        const decision = autoscaler.decide(this.liveHandles().length, (served * 1000) / Math.max(1, atMs - previous.atMs), atMs)
        if (decision.action === 'hold') return
        this.emit({ kind: 'autoscale', from: this.liveHandles().length, to: decision.to, reason: decision.reason })
        if (decision.action === 'up') await this.addHost()
        else await this.drain(this.liveHandles().at(-1)!.id)
        last = undefined // the step's own traffic (handoffs, redirects) is not load
      })().catch(() => undefined).finally(() => { busy = false })
    }, options.intervalMs)
    this.autoscaleTimer.unref()
  }

  private emit(event: ClusterEvent): void {
    for (const listener of this.listeners) {
      // A listener that throws must not break off what the supervisor was doing (a failover, a restart).
      try {
        listener(event)
      } catch (error) {
        console.error(`troupe: a cluster event listener threw on a ${event.kind} event:`, error)
      }
    }
  }
}

function validate(options: ClusterOptions): Settings {
  if (typeof options !== 'object' || options === null) throw new TroupeError('InvalidArgument', 'Cluster.start needs an options object')
  // A misspelt option (`host: 4`, `supervision: { intensty }`) would silently keep its default.
  knownKeys(options, optionNames, 'options')
  if (options.supervision !== undefined) {
    if (typeof options.supervision !== 'object' || options.supervision === null) throw new TroupeError('InvalidArgument', 'options.supervision must be an object')
    knownKeys(options.supervision, Object.keys(defaultSupervision), 'options.supervision')
    // resolveSupervision checks these are integers; absurd sizes are refused here.
    const { intensity, periodMs } = options.supervision
    if (intensity !== undefined) integer(intensity, 0, 1_000_000, 'options.supervision.intensity')
    if (periodMs !== undefined) integer(periodMs, 1, timerMsMax, 'options.supervision.periodMs')
  }
  if (typeof options.autoscale === 'object' && options.autoscale !== null) knownKeys(options.autoscale, autoscaleNames, 'options.autoscale')
  const { actors, hosts = options.autoscale?.minHosts ?? (options.autoscale ? 1 : availableParallelism()), limits, replicas = 2, consistency = 'strong', dataDir } = options
  const { heartbeatMs = 1000, hangTimeoutMs = 5000, heapMbMax, supervision } = options
  const autoscale = options.autoscale === undefined ? undefined : resolveAutoscale(options.autoscale, hostsMax)
  const spinWaitUs = options.spinWaitUs !== undefined ? options.spinWaitUs : spinWaitUsDefault
  if (autoscale && options.hosts !== undefined && (options.hosts < autoscale.minHosts || options.hosts > autoscale.maxHosts)) {
    throw new TroupeError('InvalidArgument', `options.hosts must be within autoscale.minHosts..maxHosts (${autoscale.minHosts}..${autoscale.maxHosts})`)
  }
  let actorsUrl: string
  if (actors instanceof URL) actorsUrl = actors.href
  else if (typeof actors === 'string' && actors.length > 0) actorsUrl = actors.startsWith('file:') ? actors : pathToFileURL(actors).href
  else throw new TroupeError('InvalidArgument', 'options.actors must be a URL or a path to the actors module')
  let exists: boolean
  try {
    exists = existsSync(new URL(actorsUrl))
  } catch (error) {
    // Not a URL, or a file URL Node cannot open (a host part, another scheme).
    throw new TroupeError('InvalidArgument', `options.actors: ${JSON.stringify(actorsUrl)} is not a local module: ${(error as Error).message}`)
  }
  if (!exists) throw new TroupeError('InvalidArgument', `options.actors: no module at ${actorsUrl}`)
  integer(hosts, 1, hostsMax, 'options.hosts')
  integer(replicas, 0, 7, 'options.replicas')
  integer(heartbeatMs, 1, 600_000, 'options.heartbeatMs')
  integer(hangTimeoutMs, 1, 600_000, 'options.hangTimeoutMs')
  // Each ping renews a host's lease for 3 × hangTimeoutMs: pings further apart than that would
  // let the lease lapse between them, and the hosts would refuse every call.
  if (heartbeatMs > hangTimeoutMs) throw new TroupeError('InvalidArgument', `options.heartbeatMs (${heartbeatMs}) must not exceed options.hangTimeoutMs (${hangTimeoutMs})`)
  if (heapMbMax !== undefined) integer(heapMbMax, 16, 1_000_000, 'options.heapMbMax')
  integer(spinWaitUs, 0, 10_000, 'options.spinWaitUs')
  if (dataDir !== undefined && (typeof dataDir !== 'string' || dataDir.length === 0)) throw new TroupeError('InvalidArgument', 'options.dataDir must be a directory path')
  if (options.pauseShards !== undefined && typeof options.pauseShards !== 'boolean') throw new TroupeError('InvalidArgument', 'options.pauseShards must be true or false')
  let resolved: Limits
  try {
    resolved = resolveLimits(limits)
  } catch (error) {
    throw new TroupeError('InvalidArgument', `options.limits: ${(error as Error).message}`)
  }
  // Timers take at most 2^31 - 1 ms (a longer one fires at once: every call would time out), and
  // the ring has fixed bounds (ring.ts refuses more), checked here before Cluster.start opens any port.
  const limitsMax: Partial<Record<keyof Limits, number>> = { callTimeoutMs: timerMsMax, callRetryMs: timerMsMax, idleTimeoutMs: timerMsMax, replicationRetryMs: timerMsMax, shardCount: 1 << 20, vnodesPerHost: 4096 }
  for (const [name, max] of Object.entries(limitsMax) as Array<[keyof Limits, number]>) {
    if (resolved[name] > max) throw new TroupeError('InvalidArgument', `options.limits: limit "${name}" must be at most ${max}, got ${resolved[name]}`)
  }
  return {
    actorsUrl,
    hostCount: hosts,
    autoscale,
    replicas,
    consistency: parseConsistency(consistency, 'options.consistency'),
    dataDir: dataDir === undefined ? undefined : resolvePath(dataDir),
    pauseShards: options.pauseShards ?? false,
    limits: resolved,
    supervision: resolveSupervision(supervision),
    heartbeatMs,
    hangTimeoutMs,
    heapMbMax,
    spinWaitUs,
    spinAuto: options.spinWaitUs === undefined,
    spinGate: new SharedArrayBuffer(4),
  }
}

/** The file in a dataDir that remembers the newest view epoch published on it. */
function epochFile(dataDir: string): string {
  return join(dataDir, 'view-epoch')
}

/** Why a cluster with `replicas: 0` cannot move actors that journal. */
const unmovable = 'with replicas: 0 an actor\'s only copy is on its host, so moving actors to another host (addHost, drain, scale, autoscale) would lose their state: start the cluster with replicas ≥ 1'

/** The file in a dataDir that remembers the hosts of the newest view published on it. */
function hostsFile(dataDir: string): string {
  return join(dataDir, 'view-hosts')
}

/** The hosts `dataDir`'s note lists, if it holds a well-formed list. */
function notedHosts(dataDir: string | undefined): HostId[] | undefined {
  if (dataDir === undefined) return undefined
  try {
    const hosts = readFileSync(hostsFile(dataDir), 'utf8').split('\n').filter((line) => line !== '')
    if (hosts.length > 0 && hosts.length <= hostsMax && hosts.every((id) => /^host-\d{1,6}$/.test(id)) && new Set(hosts).size === hosts.length) return hosts
  } catch {
    // No note.
  }
  return undefined
}

/**
 * The hosts of the newest view noted in `dataDir`; without a note (a dataDir from before it was
 * kept, or a note that could not be rewritten), every `host-N` directory that holds a file, in
 * the order of N, whatever N (hosts added over time count up past `hostsMax`). Empty: none.
 * A note naming a host without a directory is damaged (a host is noted only once its journal
 * directory exists; one flipped bit turns `host-1` into `host-9`): the directories say instead,
 * or the journals of the hosts it misses would be left out and their actors start over.
 */
function storedHosts(dataDir: string | undefined): HostId[] {
  if (dataDir === undefined) return []
  const noted = notedHosts(dataDir)
  if (noted !== undefined && noted.every((id) => existsSync(join(dataDir, id)))) return noted
  const found: number[] = []
  try {
    for (const entry of readdirSync(dataDir, { withFileTypes: true })) {
      const match = /^host-(0|[1-9]\d{0,5})$/.exec(entry.name)
      if (entry.isDirectory() && match && readdirSync(join(dataDir, entry.name)).length > 0) found.push(Number(match[1]))
    }
  } catch {
    // Unreadable: the hosts' own journals will say what is wrong when they open.
  }
  if (found.length > hostsMax) {
    throw new TroupeError('InvalidArgument', `options.dataDir: ${dataDir} has no usable note of its hosts (${hostsFile(dataDir)}), and ${found.length} host directories hold journals, more than the ${hostsMax} hosts a cluster starts: write the hosts of its last view into that note, one per line, or move the directories of hosts drained long ago out of it`)
  }
  return found.sort((a, b) => a - b).map((i) => `host-${i}`)
}

/**
 * With replicas 0 each actor's only copy is in one host's journal: a host the dataDir notes
 * whose journal is gone (its directory deleted, or no segment left) would start its
 * actors over, silently. Refused instead, saying how to go on.
 */
function checkJournalsThere(dataDir: string | undefined, hostIds: readonly HostId[]): void {
  if (dataDir === undefined || !existsSync(hostsFile(dataDir))) return
  for (const id of hostIds) {
    let names: string[] | undefined
    try { names = readdirSync(join(dataDir, id)) } catch { names = undefined }
    // An empty directory is an operator's answer: start that host's actors over.
    if (names !== undefined && (names.length === 0 || names.some((name) => /^\d{12}\.seg$/.test(name)))) continue
    throw new TroupeError('InvalidArgument', `options.dataDir: the journal of ${id} (${join(dataDir, id)}) is gone, and with replicas: 0 no other host holds a copy of its actors: restore it, or make it an empty directory to start its actors over`)
  }
}

/** The newest view epoch noted in `dataDir` (0: none, or unreadable: the journals' epochs are checked at start anyway). */
function storedEpoch(dataDir: string | undefined): number {
  if (dataDir === undefined) return 0
  try {
    const epoch = Number(readFileSync(epochFile(dataDir), 'utf8').trim())
    if (!Number.isSafeInteger(epoch) || epoch <= 0) return 0
    checkEpochRoom(epoch, `${epochFile(dataDir)} notes`)
    return epoch
  } catch (error) {
    if (error instanceof TroupeError) throw error
    return 0
  }
}

/** Epochs above this leave views no room to grow (each change adds one; past 2^53 they stop being exact). */
const epochRoomMax = 2 ** 52

/** Refuses to start from an epoch with no room to grow: it can only come from a damaged note or journal. */
function checkEpochRoom(epoch: number, where: string): void {
  if (epoch > epochRoomMax) throw new TroupeError('InvalidArgument', `options.dataDir: ${where} view epoch ${epoch}, above 2^52: views could not go on growing; the note or journal is damaged`)
}

/**
 * Notes a published view in `dataDir`: its epoch (not synced: a lost note only costs one more view
 * at the next start) and its hosts (synced: a restart starts the hosts that hold the newest copies,
 * not drained ones whose journals are behind).
 */
function noteView(dataDir: string | undefined, view: View): void {
  if (dataDir === undefined) return
  try {
    writeFileSync(epochFile(dataDir), `${view.epoch}\n`)
  } catch {
    // An unwritable epoch note is not fatal: the journals' epochs still set the next start's view.
  }
  try {
    // Written aside and renamed over the note, then the directory synced: a crash leaves the old
    // note or the new one, never a part of a list (which would start too few hosts).
    const next = `${hostsFile(dataDir)}.next`
    const fd = openSync(next, 'w')
    try {
      writeSync(fd, view.hosts.map((id) => `${id}\n`).join(''))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(next, hostsFile(dataDir))
    syncDir(dataDir)
  } catch {
    // The old note must not outlive a view it could not follow (a drain, a full disk): a restart
    // would start the hosts it names and not those holding the newest copies. Without a note, a
    // restart starts every host whose directory holds a journal, and the furthest copies win.
    try {
      unlinkSync(hostsFile(dataDir))
      syncDir(dataDir)
    } catch {
      // Gone already, or not a file (then unreadable as a note, and the directories are read too).
    }
  }
}

/** Makes a directory's entries durable (fsync of the directory). */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** The longest delay `setTimeout` honours. */
const timerMsMax = 2_147_483_647

const optionNames: ReadonlyArray<keyof ClusterOptions> = ['actors', 'hosts', 'replicas', 'consistency', 'dataDir', 'pauseShards', 'supervision', 'heartbeatMs', 'hangTimeoutMs', 'heapMbMax', 'limits', 'autoscale', 'spinWaitUs']
const autoscaleNames: ReadonlyArray<keyof AutoscaleOptions> = ['minHosts', 'maxHosts', 'scaleUpCallsPerHost', 'scaleDownCallsPerHost', 'intervalMs', 'cooldownMs']

function knownKeys(value: object, names: readonly string[], where: string): void {
  const unknown = Object.keys(value).find((key) => !names.includes(key))
  if (unknown !== undefined) throw new TroupeError('InvalidArgument', `${where}: unknown option ${JSON.stringify(unknown)} (known: ${names.join(', ')})`)
}

function integer(value: unknown, min: number, max: number, name: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TroupeError('InvalidArgument', `${name} must be an integer from ${min} to ${max}`)
  }
}

function emptyStats(id: HostId): HostStats {
  return { id, epoch: 0, activations: 0, replicas: 0, turns: 0, callsReceived: 0, redirectsSent: 0, malformedReceived: 0, activationsTotal: 0, passivationsTotal: 0, dedupedCalls: 0, recordsShipped: 0, fencedWrites: 0, remindersFired: 0, replicationLag: 0 }
}
