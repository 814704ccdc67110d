import { actorTypeOf, readOnlyMark } from '../actors/actor.ts'
import { actorKey, actorKeyLengthMax, createRef, type ActorClass, type ActorRef } from '../actors/ref.ts'
import { nameLengthMax } from '../transport/envelope.ts'
import type { PeerId, Transport } from '../transport/transport.ts'
import { Caller } from './caller.ts'
import { parseConsistency, type Consistency } from './durability/consistency.ts'
import { systemClock, type Clock } from './clock.ts'
import { TroupeError } from './errors.ts'
import type { PointHasher } from './hash.ts'
import { resolveLimits, type Limits } from './limits.ts'
import { randomId, systemRandom, type Random } from './random.ts'
import { PlacementCache, pausesUnknownShard, type Placement } from './ring.ts'
import { requestIdProblem } from './request-id.ts'
import type { HostId, View } from './view.ts'

export interface ClusterClientOptions {
  id: PeerId
  transport: Transport
  hasher: PointHasher
  view: View
  limits?: Partial<Limits>
  clock?: Clock
  random?: Random
  /** Actor types the hosts loaded; when given, refs to other types are refused at once. */
  knownTypes?: readonly string[]
}

/** Options of a typed actor proxy. */
export interface RefOptions {
  /** Read-only methods may be answered by a backup's warm replica (maybe behind the primary). Needs the class. */
  staleReads?: boolean
  /**
   * When this proxy's calls are answered, instead of the actor type's level: a stronger level for
   * calls that must survive more (a payment on a \`local\` type), a weaker one for calls that need
   * less (\`memory\`: answered once the turn ran; still journaled and replicated at the type's level).
   */
  consistency?: Consistency
}

/** The longest per-call timeout: the largest delay a timer takes (about 24.8 days). */
const timeoutMsMax = 2_147_483_647

/** A short description of a bad argument for an error message. */
function describeValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : value === null ? 'null' : typeof value === 'number' ? String(value) : typeof value
}

/** The names of a class's read-only methods (`@readOnly` or `static readOnly`). */
function readOnlyMethods(actorClass: { prototype: object; readOnly?: readonly string[] }): Set<string> {
  const names = new Set(actorClass.readOnly ?? [])
  for (let proto: object | null = actorClass.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const fn = Object.getOwnPropertyDescriptor(proto, name)?.value as Record<symbol, unknown> | undefined
      if (typeof fn === 'function' && fn[readOnlyMark]) names.add(name)
    }
  }
  return names
}

/** How long after a view change the client starts preparing the next placements (calls re-sent on the change go first). */
const prepareDelayMs = 50

/** Anything that names an actor type: its class, or the type name. */
export type ActorTarget<T> = ActorClass<T> | string

/**
 * The caller's side of a cluster, in any realm: routes calls by its own copy of the ring,
 * follows redirects to newer views, and builds typed proxies.
 */
export class ClusterClient {
  readonly id: PeerId
  readonly limits: Limits
  private placement: Placement
  private readonly placements: PlacementCache
  private readonly clock: Clock
  private readonly hasher: PointHasher
  private readonly caller: Caller
  private readonly transport: Transport
  private knownTypes: ReadonlySet<string> | undefined
  private readonly call = (key: string, method: string, args: unknown[]): Promise<unknown> => this.caller.call(key, method, args)

  constructor(options: ClusterClientOptions) {
    this.id = options.id
    this.limits = resolveLimits(options.limits)
    this.hasher = options.hasher
    this.transport = options.transport
    this.clock = options.clock ?? systemClock
    this.placements = new PlacementCache(this.limits, this.hasher)
    this.placement = this.place(options.view)
    this.knownTypes = options.knownTypes ? new Set(options.knownTypes) : undefined
    this.caller = new Caller({
      self: this.id,
      idPrefix: `${this.id}.${randomId(options.random ?? systemRandom)}`,
      clock: this.clock,
      limits: this.limits,
      router: {
        primary: (key) => this.placement.primary(key),
        backup: (key) => this.placement.owners(key, 2)[1],
        epoch: () => this.placement.view.epoch,
        adopt: (view) => this.setView(view),
      },
      send: (to, envelope) => this.transport.send(to, envelope),
    })
    this.transport.listen({
      envelope: (_from, envelope) => {
        if (envelope.t === 'reply' || envelope.t === 'redirect') this.caller.receive(envelope)
      },
      undeliverable: (_to, envelope, error) => this.caller.undeliverable(envelope, error),
    })
  }

  /**
   * A typed proxy to the actor `id` of the given class (or type name). With `staleReads`, the
   * class's read-only methods may be answered by a backup from its warm replica: faster and
   * spread, but possibly behind the primary (other methods still go to the primary).
   */
  actor<T>(target: ActorTarget<T>, id: string, options: RefOptions = {}): ActorRef<T> {
    if (typeof options !== 'object' || options === null) throw new TroupeError('InvalidArgument', 'actor options must be an object')
    const key = this.keyOf(target, id)
    const consistency = options.consistency === undefined ? undefined : parseConsistency(options.consistency, 'consistency')
    if (!options.staleReads && consistency === undefined) return createRef<T>(key, this.call, typeof target === 'function' ? target : undefined)
    if (options.staleReads && typeof target !== 'function') throw new TroupeError('InvalidArgument', 'staleReads needs the actor class (to know its read-only methods)')
    const reads = options.staleReads && typeof target === 'function' ? readOnlyMethods(target) : undefined
    const call = (k: string, method: string, args: unknown[]): Promise<unknown> => this.caller.call(k, method, args, { stale: reads?.has(method) ?? false, consistency })
    return createRef<T>(key, call, typeof target === 'function' ? target : undefined)
  }

  /**
   * Calls `method` on `Type/id` with untyped arguments (gateways, CLIs). A `requestId` makes the
   * call idempotent: repeating it with the same id returns the first result without running again.
   */
  callKey(key: string, method: string, args: unknown[], options: { requestId?: string; timeoutMs?: number; consistency?: Consistency } = {}): Promise<unknown> {
    if (typeof options !== 'object' || options === null) return Promise.reject(new TroupeError('InvalidArgument', 'call options must be an object'))
    // Refused here, not sent: a host drops a malformed call, and its caller would only time out.
    const slash = typeof key === 'string' ? key.indexOf('/') : -1
    if (slash <= 0 || slash === key.length - 1 || key.length > actorKeyLengthMax || /\p{Cs}/u.test(key)) {
      return Promise.reject(new TroupeError('InvalidArgument', `the actor key must be "Type/id" of at most ${actorKeyLengthMax} well-formed characters, got ${describeValue(key)}`))
    }
    if (typeof method !== 'string' || method.length === 0 || method.length > nameLengthMax) {
      return Promise.reject(new TroupeError('InvalidArgument', `the method must be a string of 1 to ${nameLengthMax} characters, got ${describeValue(method)}`))
    }
    if (!Array.isArray(args)) return Promise.reject(new TroupeError('InvalidArgument', 'args must be an array'))
    if (options.timeoutMs !== undefined && !(Number.isInteger(options.timeoutMs) && options.timeoutMs > 0 && options.timeoutMs <= timeoutMsMax)) {
      return Promise.reject(new TroupeError('InvalidArgument', `timeoutMs must be an integer number of ms from 1 to ${timeoutMsMax}, got ${describeValue(options.timeoutMs)}`))
    }
    const idProblem = options.requestId === undefined ? undefined : requestIdProblem(options.requestId)
    if (idProblem !== undefined) return Promise.reject(new TroupeError('InvalidArgument', `requestId ${idProblem}, got ${describeValue(options.requestId)}`))
    if (options.consistency !== undefined) {
      try {
        parseConsistency(options.consistency, 'consistency')
      } catch (error) {
        return Promise.reject(error)
      }
    }
    return this.caller.call(key, method, args, options)
  }

  /** The host that runs the actor now (its primary in the newest known view). */
  ownerOf<T>(target: ActorTarget<T>, id: string): HostId | undefined {
    return this.placement.primary(this.keyOf(target, id))
  }

  /** Primary then backups for an actor key. */
  owners(key: string, n: number): HostId[] {
    return this.placement.owners(key, n)
  }

  /** Primary then backups of an actor, checked as `ownerOf` checks it (a known type, a good id). */
  ownersOf<T>(target: ActorTarget<T>, id: string, n: number): HostId[] {
    return this.placement.owners(this.keyOf(target, id), n)
  }

  get view(): View {
    return this.placement.view
  }

  /** The placement of the newest view this client knows. */
  get currentPlacement(): Placement {
    return this.placement
  }

  /** The placement of a view about to be published (one a failover needs is built ahead). */
  placementOf(view: View): Placement {
    return this.placements.peek(view)
  }

  /** Adopts a newer view; false when it is not newer, or pauses a shard this ring does not have (from a peer: ignored). */
  setView(view: View): boolean {
    if (view.epoch <= this.placement.view.epoch || pausesUnknownShard(view, this.placement.shardCount)) return false
    this.placement = this.place(view)
    this.caller.viewChanged()
    return true
  }

  /** The placement of a new view; the placements a failover would need next are built in the background. */
  private place(view: View): Placement {
    const placement = this.placements.get(view)
    this.placements.prepareLater(view, this.clock, prepareDelayMs)
    return placement
  }

  setKnownTypes(types: readonly string[]): void {
    this.knownTypes = new Set(types)
  }

  /** Calls in flight. */
  get inFlight(): number {
    return this.caller.inFlight
  }

  /** Fails pending calls and refuses new ones. */
  stop(): void {
    this.caller.stop(new TroupeError('ClusterStopped', 'the cluster was stopped'))
    this.transport.close()
  }

  private keyOf<T>(target: ActorTarget<T>, id: string): string {
    const type = typeof target === 'function' ? actorTypeOf(target) : target
    const key = actorKey(type, id)
    this.checkType(key)
    return key
  }

  /** Throws `UnknownActorType` when the hosts serve no type named as `key`'s ("Type/id"). */
  checkType(key: string): void {
    const type = key.slice(0, key.indexOf('/'))
    if (this.knownTypes && !this.knownTypes.has(type)) {
      throw new TroupeError('UnknownActorType', `no actor type ${type} (known: ${[...this.knownTypes].join(', ')})`, { actor: key })
    }
  }
}
