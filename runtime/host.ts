import type { ActorContext } from '../actors/actor.ts'
import { actorKey, createRef } from '../actors/ref.ts'
import type { CallEnvelope, Envelope } from '../transport/envelope.ts'
import type { PeerId, Transport } from '../transport/transport.ts'
import { Activation } from './activation.ts'
import { assert } from './assert.ts'
import { Caller, type Router } from './caller.ts'
import { systemClock, type Clock, type TimerHandle } from './clock.ts'
import { serializeThrown, TroupeError, type SerializedError } from './errors.ts'
import type { PointHasher } from './hash.ts'
import { resolveLimits, type Limits } from './limits.ts'
import type { Job } from './mailbox.ts'
import { checkPayload } from './payload.ts'
import { randomId, systemRandom, type Random } from './random.ts'
import type { ActorRegistry, ActorType, MethodEntry } from './registry.ts'
import { Placement } from './ring.ts'
import { MemoryStateStore, type StateStore } from './state-store.ts'
import type { HostId, View } from './view.ts'

/** What a host reports as it runs, for tests, the simulation's checkers and the CLI. */
export type HostEvent =
  | { kind: 'activate'; key: string; host: HostId; epoch: number; atMs: number }
  | { kind: 'deactivate'; key: string; host: HostId; epoch: number; atMs: number }
  | { kind: 'malformed'; host: HostId; from: PeerId; message: string }

export interface HostOptions {
  id: HostId
  transport: Transport
  registry: ActorRegistry
  /** The ring's point hasher, loaded once (see `loadPointHasher`). */
  hasher: PointHasher
  view?: View
  limits?: Partial<Limits>
  clock?: Clock
  random?: Random
  store?: StateStore
  onEvent?: (event: HostEvent) => void
}

/** Counters a host keeps. */
export interface HostStats {
  id: HostId
  epoch: number
  activations: number
  turns: number
  callsReceived: number
  redirectsSent: number
  malformedReceived: number
  activationsTotal: number
  passivationsTotal: number
}

/**
 * A host: runs turns for the actor keys it is primary of in the newest view it knows. The same
 * class runs in a worker thread, a Deno worker, a browser tab, or (simulated) in one thread.
 */
export class Host {
  readonly id: HostId
  readonly limits: Limits
  private readonly transport: Transport
  private readonly registry: ActorRegistry
  private readonly hasher: PointHasher
  private readonly clock: Clock
  private readonly store: StateStore
  private readonly onEvent: ((event: HostEvent) => void) | undefined
  private placement: Placement
  private readonly caller: Caller
  private readonly activations = new Map<string, Activation>()
  private readonly deactivations = new Map<string, Promise<void>>()
  private idleTimer: TimerHandle | undefined
  private stopped = false
  private readonly counters = { turns: 0, callsReceived: 0, redirectsSent: 0, malformedReceived: 0, activationsTotal: 0, passivationsTotal: 0 }

  constructor(options: HostOptions) {
    this.id = options.id
    this.limits = resolveLimits(options.limits)
    this.transport = options.transport
    this.registry = options.registry
    this.hasher = options.hasher
    this.clock = options.clock ?? systemClock
    this.store = options.store ?? new MemoryStateStore()
    this.onEvent = options.onEvent
    this.placement = this.place(options.view ?? { epoch: 0, hosts: [] })
    const router: Router = {
      primary: (key) => this.placement.primary(key),
      epoch: () => this.placement.view.epoch,
      adopt: (view) => this.setView(view),
    }
    this.caller = new Caller({
      self: this.id,
      idPrefix: `${this.id}.${randomId(options.random ?? systemRandom)}`,
      clock: this.clock,
      limits: this.limits,
      router,
      send: (to, envelope) => this.deliver(to, envelope),
    })
    this.transport.listen({
      envelope: (from, envelope) => this.receive(from, envelope),
      malformed: (from, error) => {
        this.counters.malformedReceived++
        this.onEvent?.({ kind: 'malformed', host: this.id, from, message: error.message })
      },
      undeliverable: (to, envelope, error) => this.undeliverable(to, envelope, error),
    })
    this.armIdleSweep()
  }

  /** The newest view this host knows. */
  get view(): View {
    return this.placement.view
  }

  /** Adopts a newer view; returns false (and changes nothing) when it is not newer. */
  setView(view: View): boolean {
    const current = this.placement.view
    if (view.epoch < current.epoch) return false
    if (view.epoch === current.epoch) {
      assert(sameHosts(view, current), `two different views share epoch ${view.epoch}`)
      return false
    }
    this.placement = this.place(view)
    for (const activation of [...this.activations.values()]) {
      if (this.placement.primary(activation.key) !== this.id) void this.passivate(activation)
    }
    return true
  }

  /** Handles one envelope from a peer (or from this host itself). */
  receive(from: PeerId, envelope: Envelope): void {
    if (this.stopped) return
    if (envelope.t === 'call') this.handleCall(from, envelope)
    else this.caller.receive(envelope)
  }

  /** Calls an actor from this host, outside any turn (used by embedders and tests). */
  call(key: string, method: string, args: unknown[]): Promise<unknown> {
    return this.caller.call(key, method, args)
  }

  stats(): HostStats {
    return { id: this.id, epoch: this.placement.view.epoch, activations: this.activations.size, ...this.counters }
  }

  /** Keys active on this host now. */
  activeKeys(): string[] {
    return [...this.activations.keys()]
  }

  /** Passivates every activation (saving state), fails pending calls, closes the transport. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.idleTimer !== undefined) this.clock.clearTimeout(this.idleTimer)
    await Promise.all([...this.activations.values()].map((a) => a.mailbox.whenIdle().then(() => this.passivate(a))))
    await Promise.all(this.deactivations.values())
    this.caller.stop(new TroupeError('ClusterStopped', `host ${this.id} stopped`))
    this.transport.close()
  }

  private place(view: View): Placement {
    return Placement.build(view, this.limits, this.hasher)
  }

  private handleCall(from: PeerId, call: CallEnvelope): void {
    this.counters.callsReceived++
    const slash = call.key.indexOf('/')
    const type = this.registry.get(call.key.slice(0, slash))
    if (!type) return this.fail(from, call, 'UnknownActorType', `no actor type ${call.key.slice(0, slash)} (known: ${this.registry.names().join(', ')})`)
    if (this.placement.primary(call.key) !== this.id) {
      this.counters.redirectsSent++
      this.deliver(from, { v: 1, t: 'redirect', id: call.id, view: this.placement.view })
      return
    }
    const method = type.methods.get(call.method)
    if (!method) return this.fail(from, call, 'UnknownMethod', `${type.name} has no method ${call.method}`)
    const activation = this.activations.get(call.key) ?? this.activate(call.key, type)
    if (activation.failure) {
      this.deliver(from, { v: 1, t: 'reply', id: call.id, ok: false, error: activation.failure.toJSON() })
      return
    }
    if (call.chain && wouldWait(activation, method)) {
      // A cycle: the call comes from a turn of this actor (A -> B -> A), or from a turn that
      // this actor's running turn is itself waiting on (A -> B while B -> A).
      const waitedOn = call.chain.includes(call.key) ? call.key : call.chain.find((key) => activation.waitingOn.has(key))
      if (waitedOn !== undefined) {
        return this.fail(from, call, 'Deadlock', `${call.key}.${call.method} would wait on a turn that waits on it (${[...call.chain, call.key].join(' -> ')})`)
      }
    }
    const job: Job = {
      mode: method.mode,
      start: () => this.runTurn(activation, method, call, from),
      reject: (error) => this.deliver(from, { v: 1, t: 'reply', id: call.id, ok: false, error: error.toJSON() }),
    }
    if (!activation.mailbox.offer(job)) {
      this.fail(from, call, 'MailboxFull', `${call.key} already has ${this.limits.mailboxDepthMax} calls waiting`)
    }
  }

  private runTurn(activation: Activation, method: MethodEntry, call: CallEnvelope, from: PeerId): PromiseLike<unknown> | undefined {
    this.counters.turns++
    activation.lastUsedMs = this.clock.now()
    if (method.mode === 'write') {
      activation.chain = call.chain ? [...call.chain, activation.key] : [activation.key]
      activation.turnId = call.id
      activation.turnCalls = 0
    }
    let result: unknown
    try {
      result = method.fn.apply(activation.instance, call.args)
    } catch (thrown) {
      this.replyThrown(from, call, thrown)
      return undefined
    }
    if (isThenable(result)) {
      return result.then((value) => this.replyValue(from, call, value), (thrown) => this.replyThrown(from, call, thrown))
    }
    this.replyValue(from, call, result)
    return undefined
  }

  private replyValue(from: PeerId, call: CallEnvelope, value: unknown): void {
    try {
      checkPayload(value, this.limits.payloadBytesMax, this.limits.payloadDepthMax, `the result of ${call.key}.${call.method}`)
    } catch (error) {
      this.deliver(from, { v: 1, t: 'reply', id: call.id, ok: false, error: { ...(error as TroupeError).toJSON(), actor: call.key } })
      return
    }
    this.deliver(from, { v: 1, t: 'reply', id: call.id, ok: true, value })
  }

  private replyThrown(from: PeerId, call: CallEnvelope, thrown: unknown): void {
    this.deliver(from, { v: 1, t: 'reply', id: call.id, ok: false, error: serializeThrown(thrown, call.key) })
  }

  private fail(from: PeerId, call: CallEnvelope, kind: SerializedError['kind'], message: string): void {
    this.deliver(from, { v: 1, t: 'reply', id: call.id, ok: false, error: { kind, message, actor: call.key } })
  }

  /** Sends to a peer, or loops back (cloned, on a later microtask) when the peer is this host. */
  private deliver(to: PeerId, envelope: Envelope): void {
    if (to !== this.id) {
      this.transport.send(to, envelope)
      return
    }
    let copy: Envelope
    try {
      copy = structuredClone(envelope)
    } catch (error) {
      this.undeliverable(to, envelope, new TroupeError('Unserializable', (error as Error).message))
      return
    }
    queueMicrotask(() => this.receive(this.id, copy))
  }

  private undeliverable(to: PeerId, envelope: Envelope, error: TroupeError): void {
    if (envelope.t === 'call') this.caller.undeliverable(envelope, error)
    else if (envelope.t === 'reply' && envelope.ok) {
      // The result could not be cloned after all: tell the caller instead of leaving it waiting.
      this.deliver(to, { v: 1, t: 'reply', id: envelope.id, ok: false, error: error.toJSON() })
    }
  }

  private activate(key: string, type: ActorType): Activation {
    const id = key.slice(key.indexOf('/') + 1)
    const context: ActorContext = {
      type: type.name,
      id,
      key,
      hostId: this.id,
      call: (k, m, a) => this.callFromTurn(activation, k, m, a),
      ref: (t, i, c) => createRef(actorKey(t, i), context.call, c),
    }
    const activation = new Activation(key, type, context, this.limits.mailboxDepthMax, this.clock.now())
    this.activations.set(key, activation)
    this.counters.activationsTotal++
    this.onEvent?.({ kind: 'activate', key, host: this.id, epoch: this.view.epoch, atMs: this.clock.now() })
    const previous = this.deactivations.get(key)
    const finish = (): void => {
      activation.status = 'active'
      activation.mailbox.resume()
    }
    const load = (stored: unknown): PromiseLike<void> | undefined => {
      activation.instance.state = stored === undefined ? activation.instance.initialState() : stored
      const hook = activation.instance.onActivate?.()
      if (isThenable(hook)) return hook.then(finish)
      finish()
      return undefined
    }
    const failed = (error: unknown): void => this.activationFailed(activation, error)
    try {
      // Synchronous fast path: no pending deactivation, a synchronous store and no async hook.
      if (previous) void previous.then(() => this.store.load(key)).then(load).then(undefined, failed)
      else {
        const stored = this.store.load(key)
        if (isThenable(stored)) void stored.then(load).then(undefined, failed)
        else void load(stored)?.then(undefined, failed)
      }
    } catch (error) {
      failed(error)
    }
    return activation
  }

  private activationFailed(activation: Activation, error: unknown): void {
    activation.status = 'gone'
    if (this.activations.get(activation.key) === activation) this.activations.delete(activation.key)
    const cause = serializeThrown(error, activation.key)
    const failure = new TroupeError('ActivationFailed', `${activation.key} failed to activate: ${cause.name ?? 'Error'}: ${cause.message}`, { actor: activation.key })
    activation.failure = failure
    for (const job of activation.mailbox.drain()) job.reject(failure)
    this.onEvent?.({ kind: 'deactivate', key: activation.key, host: this.id, epoch: this.view.epoch, atMs: this.clock.now() })
  }

  private callFromTurn(activation: Activation, key: string, method: string, args: unknown[]): Promise<unknown> {
    // Ids derive from the turn's id only while one write turn runs alone; interleaved turns
    // cannot tell whose call this is, so they use fresh ids.
    const alone = activation.mailbox.writing && activation.mailbox.running === 1
    const requestId = alone ? `${activation.turnId}/${activation.turnCalls++}` : undefined
    const waiting = activation.waitingOn
    waiting.set(key, (waiting.get(key) ?? 0) + 1)
    const settled = (): void => {
      const left = waiting.get(key)! - 1
      if (left === 0) waiting.delete(key)
      else waiting.set(key, left)
    }
    const pending = this.caller.call(key, method, args, requestId === undefined ? { chain: activation.chain } : { chain: activation.chain, requestId })
    pending.then(settled, settled)
    return pending
  }

  private passivate(activation: Activation): Promise<void> {
    if (activation.status === 'deactivating' || activation.status === 'gone') return this.deactivations.get(activation.key) ?? Promise.resolve()
    activation.status = 'deactivating'
    if (this.activations.get(activation.key) === activation) this.activations.delete(activation.key)
    const done = (async () => {
      try {
        await activation.instance.onDeactivate?.()
      } catch {
        // A failing onDeactivate must not lose the state: it is saved all the same.
      }
      await this.store.save(activation.key, activation.instance.state)
    })().finally(() => {
      activation.status = 'gone'
      if (this.deactivations.get(activation.key) === done) this.deactivations.delete(activation.key)
      this.counters.passivationsTotal++
      this.onEvent?.({ kind: 'deactivate', key: activation.key, host: this.id, epoch: this.view.epoch, atMs: this.clock.now() })
    })
    this.deactivations.set(activation.key, done)
    return done
  }

  private armIdleSweep(): void {
    const interval = Math.max(1, Math.floor(this.limits.idleTimeoutMs / 2))
    this.idleTimer = this.clock.setTimeout(() => {
      this.idleTimer = undefined
      if (this.stopped) return
      const cutoff = this.clock.now() - this.limits.idleTimeoutMs
      for (const activation of [...this.activations.values()]) {
        if (activation.status === 'active' && activation.mailbox.idle && activation.lastUsedMs <= cutoff) void this.passivate(activation)
      }
      this.armIdleSweep()
    }, interval)
  }
}

/** True when a call to `method` would queue behind the turn that is (transitively) waiting on it. */
function wouldWait(activation: Activation, method: MethodEntry): boolean {
  if (method.mode === 'reentrant') return false
  if (method.mode === 'read') return activation.mailbox.writing
  return !activation.mailbox.idle
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

function sameHosts(a: View, b: View): boolean {
  return a.hosts.length === b.hosts.length && a.hosts.every((h, i) => h === b.hosts[i])
}

