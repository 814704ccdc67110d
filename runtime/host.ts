import { actorContext, type Actor, type ActorContext } from '../actors/actor.ts'
import { actorKey, createRef } from '../actors/ref.ts'
import { idLengthMax, type CallEnvelope, type Envelope, type ReplicatedEnvelope, type ReplicateEnvelope } from '../transport/envelope.ts'
import type { PeerId, Transport } from '../transport/transport.ts'
import { Activation, instanceOf, isThenable, type TurnOutcome } from './activation.ts'
import { assert } from './assert.ts'
import { Caller, type Router } from './caller.ts'
import { systemClock, type Clock, type TimerHandle } from './clock.ts'
import { ActorLog } from './durability/actor-log.ts'
import { ackRule, type Consistency } from './durability/consistency.ts'
import { parseReminder } from './durability/reminders.ts'
import { ActivationTimers } from './activation-timers.ts'
import { Recovery } from './durability/recovery.ts'
import { loadFromJournal, ReplicaStore, shippedOf, type Replica, type ShippedSnapshot, type StoredSnapshot } from './durability/replica-store.ts'
import { RequestTable } from './durability/request-table.ts'
import { TroupeError, type SerializedError } from './errors.ts'
import { serializeThrown } from './thrown.ts'
import type { PointHasher } from './hash.ts'
import { MemoryJournalStorage } from './journal/memory-storage.ts'
import type { JournalRecord, JournalStorage } from './journal/storage.ts'
import { resolveLimits, type Limits } from './limits.ts'
import type { Job } from './mailbox.ts'
import { randomId, systemRandom, type Random } from './random.ts'
import type { ActorRegistry, ActorType, MethodEntry } from './registry.ts'
import { PlacementCache, pausesUnknownShard, type Placement } from './ring.ts'
import { Supervisor } from './supervision/supervisor.ts'
import { buggify } from './buggify.ts'
import { answerOf } from './answer.ts'
import { journalableCopy, readOnlyView, resolveDrafts } from './state/index.ts'
import { derivedRequestId } from './request-id.ts'
import { MemoryStateStore, type StateStore } from './state-store.ts'
import type { HostId, View } from './view.ts'
import { loopbackCopy } from '../transport/loopback-copy.ts'

/** What a host reports as it runs, for tests, the simulation's checkers and the CLI. */
export type HostEvent =
  | { kind: 'activate'; key: string; host: HostId; epoch: number; atMs: number }
  | { kind: 'deactivate'; key: string; host: HostId; epoch: number; atMs: number }
  | { kind: 'malformed'; host: HostId; from: PeerId; message: string }
  | { kind: 'fenced'; key: string; host: HostId; epoch: number; atMs: number }
  | { kind: 'activation-failed'; key: string; host: HostId; message: string; atMs: number }
  | { kind: 'escalated'; host: HostId; reason: string; atMs: number }

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
  /** Backups per actor (the replication factor is `replicas + 1`). Default 2. */
  replicas?: number
  /** Default consistency level for actor types that do not set `static consistency`. Default `strong`. */
  consistency?: Consistency
  /** The journal of this host's actors and replicas. Default: in memory. */
  storage?: JournalStorage
  /** Where `memory`-level actors keep their state while passivated. Default: in memory. */
  store?: StateStore
  onEvent?: (event: HostEvent) => void
  /**
   * How this host supervises its activations: an activation that fails (onActivate throws, its
   * journal is unreadable) is restarted on the next call, until more than `intensity` failures
   * within `periodMs`; then the host escalates. Default 5 in 5,000 ms.
   */
  activationSupervision?: { intensity: number; periodMs: number }
  /** Called when the host's activation supervisor gives up; a worker host exits, so its own supervisor restarts it. */
  onEscalate?: (reason: string) => void
  /**
   * Set by the supervisor when this host replaces one whose state is gone (no disk): an actor it
   * holds nothing of may still have acknowledged records elsewhere, so its recovery waits for one
   * more backup than the consistency level needs. Default false.
   */
  restartedWithoutState?: boolean
  /**
   * Set by the supervisor when this host replaces one on the same disk while the cluster ran: the
   * others may have written while it was down, so no copy it holds counts as the furthest until
   * another owner confirmed it (its recovery reads wait for one more backup). Default false.
   */
  restartedWithState?: boolean
}

/** A host's re-replication for a view: complete when every copy it had to offer is held by the view's owners. */
export interface Replicated {
  epoch: number
  complete: boolean
}

/** Counters a host keeps. */
export interface HostStats {
  id: HostId
  epoch: number
  activations: number
  replicas: number
  turns: number
  callsReceived: number
  redirectsSent: number
  malformedReceived: number
  activationsTotal: number
  passivationsTotal: number
  dedupedCalls: number
  recordsShipped: number
  fencedWrites: number
  remindersFired: number
  /** Records this host's primaries are still waiting to have acknowledged (replication lag). */
  replicationLag: number
  /** With `spinWaitUs` (Node hosts): polls of the ports after a burst that got a message, and that ran out. */
  spinsCaught?: number
  spinsMissed?: number
}

/**
 * A host: runs turns for the actor keys it is primary of in the newest view it knows, journals
 * them and ships them to the backups, and keeps warm replicas of the actors it backs up. The
 * same class runs in a worker thread, a Deno worker, a browser tab, or (simulated) in one thread.
 */
export class Host {
  readonly id: HostId
  readonly limits: Limits
  private readonly transport: Transport
  private readonly registry: ActorRegistry
  private readonly hasher: PointHasher
  private readonly clock: Clock
  private readonly store: StateStore
  private readonly storage: JournalStorage
  private readonly replicaCount: number
  private readonly consistency: Consistency
  private readonly onEvent: ((event: HostEvent) => void) | undefined
  private readonly onEscalate: ((reason: string) => void) | undefined
  /** Set once the journal broke for good and this host gave up (see `checkStorage`). */
  private storageBroken = false
  private readonly activationSupervisor: Supervisor
  private readonly timers: ActivationTimers
  private readonly recovery: Recovery
  private placement: Placement
  private readonly placements: PlacementCache
  private readonly caller: Caller
  private readonly replicas: ReplicaStore
  private readonly activations = new Map<string, Activation>()
  private readonly deactivations = new Map<string, Promise<void>>()
  /** Calls from a newer epoch than this host's view, waiting for it. */
  private readonly parked: Array<{ from: PeerId; call: CallEnvelope }> = []
  /** Calls to actors of shards the view pauses, by request id: handled again on each view, refused after `callTimeoutMs`. */
  private readonly held = new Map<string, { from: PeerId; call: CallEnvelope; timer: TimerHandle }>()
  /** Hosts back without their disk in a view this host has not adopted yet, with that view's epoch (see `handleRejoined`). */
  private readonly rejoinedAhead = new Map<PeerId, number>()
  /** The placements before each view adopted since the last re-replication of idle actors ran (see `setView`). */
  private readonly viewsNotReplicated: Placement[] = []
  /** Errors of lifecycle hooks given up on (see `lifecycleTurn`): not counted as activation failures. */
  private readonly hookTimeouts = new WeakSet<object>()
  /** No re-replication run has completed since this host started (see `rereplicate`'s `started`). */
  private starting = true
  /** A `tidyJournal` run is under way. */
  private tidying = false
  /** Came back without its disk (see `HostOptions.restartedWithoutState`). */
  private readonly forgetfulSelf: boolean
  /** Came back with its disk: the keys another owner confirmed since (see `HostOptions.restartedWithState`). */
  private readonly confirmedKeys: Set<string> | undefined
  /**
   * Hosts that came back without their disk, with the epoch they said so in: for the next
   * `forgetfulViews` views, a backup offers its copies to such a host wherever a view makes it
   * primary (a primary re-replicates to its backups only, and the one that would have refilled
   * it may be gone).
   */
  private readonly forgetful = new Map<PeerId, number>()
  /** Activations being passivated: their last records still collect acknowledgements. */
  private readonly leaving = new Map<string, Activation>()
  /** Copies other owners offered for a loading activation before its recovery read began (see `handleShipment`). */
  private readonly earlyOffers = new WeakMap<Activation, ShippedSnapshot[]>()
  /**
   * The copy of an actor whose log failed on a storage error, with records this host's disk
   * refused (see `dropFailed`): the next activation here starts from it, not from the journal.
   */
  private readonly unjournaled = new Map<string, ShippedSnapshot>()
  /** Idle actors' copies sent to owners that must hold them (see `refill`), by key. */
  private readonly refills = new Map<string, Refill>()
  /** The re-replication for the newest view (see `replicated`). */
  private replication: Promise<Replicated> = Promise.resolve({ epoch: 0, complete: true })
  private idleTimer: TimerHandle | undefined
  private stopped = false
  /** Until when (monotonic ms) the supervisor's lease lets this host run turns; undefined: no lease. */
  private leaseUntilMs: number | undefined
  private shipments = 0
  /** The copies (`seq:epoch`, by key) a drained host handed off in its last view that every owner acknowledged (see `handOff`). */
  private handedOff: { epoch: number; copies: Map<string, string> } | undefined
  /** The call `settle` answered last: one whose turn ended inside the mailbox's `offer` needs no in-flight entry. */
  private settledLast: CallEnvelope | undefined
  /**
   * This host's id and a random part, new with every start: the ids of the calls, shipments and
   * recovery reads it makes begin with it, so an answer to a read of an earlier incarnation of
   * the host (delayed in the network) is never taken for the answer to a read of this one.
   */
  private readonly incarnation: string
  private readonly counters = { remindersFired: 0, turns: 0, callsReceived: 0, redirectsSent: 0, malformedReceived: 0, activationsTotal: 0, passivationsTotal: 0, dedupedCalls: 0, recordsShipped: 0, fencedWrites: 0 }

  constructor(options: HostOptions) {
    this.id = options.id
    this.limits = resolveLimits(options.limits)
    this.transport = options.transport
    this.registry = options.registry
    this.hasher = options.hasher
    this.clock = options.clock ?? systemClock
    this.placements = new PlacementCache(this.limits, this.hasher)
    this.store = options.store ?? new MemoryStateStore()
    this.storage = options.storage ?? new MemoryJournalStorage()
    this.replicaCount = options.replicas ?? 2
    this.forgetfulSelf = options.restartedWithoutState ?? false
    // With no replicas no other owner can confirm anything: this host's copy is all there is.
    this.confirmedKeys = options.restartedWithState && this.replicaCount > 0 ? new Set() : undefined
    this.consistency = options.consistency ?? 'strong'
    this.onEvent = options.onEvent
    this.onEscalate = options.onEscalate
    this.timers = new ActivationTimers({
      clock: this.clock,
      epoch: () => this.placement.view.epoch,
      fired: () => { this.counters.remindersFired++ },
      timerId: () => `~timer:${this.incarnation}:${this.shipments++}`,
    })
    this.recovery = new Recovery({
      self: this.id,
      clock: this.clock,
      storage: this.storage,
      requestsMax: this.limits.requestsMax,
      retryMs: this.limits.replicationRetryMs,
      view: () => this.placement.view,
      adoptView: (view) => this.setView(view),
      backupsOf: (key) => this.backupsOf(key),
      // Every backup must answer a recovery read at quorum too: after a view change the current
      // backups need not include the write quorum of a record (found by simulation, failover seed 76).
      needed: (key, backups) => {
        const type = this.registry.get(key.slice(0, key.indexOf('/')))
        if (!type) return 0
        // Every journaled level reads every backup: at `local` too, or a new primary (a host added,
        // a backup promoted) would start behind records the old one acknowledged alone, and
        // number its own from there (found by a helper: 120 increments acknowledged, 111 kept).
        return this.levelOf(type) === 'memory' ? 0 : backups
      },
      send: (to, envelope) => this.deliver(to, envelope),
      nextId: () => this.nextShipmentId(),
      localCopy: (key) => this.localCopy(key),
      offer: (from, key, epoch, copy) => {
        // A key active here lives in its activation (see handleShipment).
        if (this.activations.has(key) || this.leaving.has(key)) return
        this.replicas.receive(from, key, epoch, [], copy, true)
      },
      unsure: (key, seq) => this.unsure(key, seq),
      waitsForOwner: (key) => this.confirmedKeys !== undefined && !this.confirmedKeys.has(key),
      confirmed: (key) => this.confirmedKeys?.add(key),
    })
    this.activationSupervisor = new Supervisor({ strategy: 'one_for_one', restart: 'transient', ...(options.activationSupervision ?? {}) })
    this.placement = this.place(options.view ?? { epoch: 0, hosts: [] })
    const router: Router = {
      primary: (key) => this.placement.primary(key),
      epoch: () => this.placement.view.epoch,
      adopt: (view) => this.setView(view),
    }
    this.incarnation = `${this.id}.${randomId(options.random ?? systemRandom)}`
    this.caller = new Caller({
      self: this.id,
      idPrefix: this.incarnation,
      clock: this.clock,
      limits: this.limits,
      router,
      send: (to, envelope) => this.deliver(to, envelope),
    })
    this.replicas = new ReplicaStore({
      storage: this.storage,
      requestsMax: this.limits.requestsMax,
      snapshotEveryRecords: this.limits.snapshotEveryRecords,
      viewEpoch: () => this.placement.view.epoch,
      ack: (to, key, seq, status) => {
        // Durably in step with another owner's shipment: this host's copy is confirmed (see `unsure`).
        if (status === 'ok') this.confirmedKeys?.add(key)
        this.deliver(to, { v: 1, t: 'replicated', id: this.nextShipmentId(), key, seq, status })
      },
      storageFailed: () => this.checkStorage(),
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
    // After a restart: restore the replication factor and wake actors with reminders. A starting
    // host has no earlier view to compare with, so it cannot tell which primaries are new to an
    // actor (a cluster restarted on a dataDir mid-scale): it offers each primary its copy.
    const epoch = this.placement.view.epoch
    this.replication = this.rereplicate(epoch, undefined, [], true).then(({ complete, held }) => {
      if (complete) this.starting = false
      return { epoch, complete: complete && held }
    }, () => ({ epoch, complete: false }))
    // Back without its disk into a view that still lists it: no view change will make the others
    // re-replicate what it held, so it asks them to.
    if (options.restartedWithoutState && this.placement.view.hosts.includes(this.id)) this.announceRejoined(rejoinedAnnouncements)
  }

  /**
   * Tells every peer of the view that this host is back without its disk, then again after
   * `replicationRetryMs`, doubling, `times` in all: one lost message would leave this host without
   * the actors it owns (a repeat is harmless: offers install only a copy that goes further).
   */
  private announceRejoined(times: number, delayMs = this.limits.replicationRetryMs): void {
    if (this.stopped || times <= 0) return
    for (const peer of this.placement.view.hosts) {
      if (peer !== this.id) this.deliver(peer, { v: 1, t: 'rejoined', id: this.nextShipmentId(), epoch: this.placement.view.epoch })
    }
    if (times > 1) this.clock.setTimeout(() => this.announceRejoined(times - 1, delayMs * 2), delayMs)
  }

  /** The newest view this host knows. */
  get view(): View {
    return this.placement.view
  }

  /** Adopts a newer view; returns false (and changes nothing) when it is not newer, or pauses a shard this ring does not have. */
  setView(view: View): boolean {
    const current = this.placement.view
    if (view.epoch < current.epoch || pausesUnknownShard(view, this.placement.shardCount)) return false
    if (view.epoch === current.epoch) {
      assert(sameHosts(view, current), `two different views share epoch ${view.epoch}`)
      return false
    }
    const before = this.placement
    this.placement = this.place(view)
    for (const [host, epoch] of this.forgetful) if (view.epoch - epoch > forgetfulViews) this.forgetful.delete(host)
    // An unjournaled copy matters only to this host's next activation as primary; another
    // primary starts a newer epoch, which fences the refused records' shipments.
    for (const key of this.unjournaled.keys()) if (this.placement.primary(key) !== this.id) this.unjournaled.delete(key)
    // A host that missed a view cannot know who was primary meanwhile: its activations may be
    // stale, so they all step down and the next call recovers from the owners' copies.
    const missedAView = view.epoch !== current.epoch + 1
    for (const activation of [...this.activations.values()]) {
      if (missedAView) this.stepDown(activation, `it missed views ${current.epoch + 1}..${view.epoch - 1}`)
      else if (this.placement.primary(activation.key) !== this.id) this.stepDown(activation, 'the view moved it')
      // Paused: while loading, what it finds in this view may miss the shard's writes; once
      // active, a write acknowledged by this view's owners alone would be on no host the
      // supervisor waits for. It starts again from the holders' copies when the shard resumes.
      else if (this.placement.isPaused(activation.key)) this.stepDown(activation, 'the view paused its shard')
      else this.retarget(activation)
    }
    // A passivating activation waits until its last records are durable, and a new activation of
    // its key here waits for it: when the view moved the key, they never will be (it is no longer
    // primary), so they fail now (their callers are redirected); when the key stays, the backups
    // of the new view acknowledge them. Either way the passivation ends and the key is free.
    for (const activation of [...this.leaving.values()]) {
      if (!activation.log || activation.log.pendingCount === 0) continue
      if (missedAView || this.placement.primary(activation.key) !== this.id || this.placement.isPaused(activation.key)) {
        activation.log.fail(new TroupeError('HostUnavailable', `${activation.key} stepped down on ${this.id} while passivating`, { actor: activation.key }))
      } else this.retarget(activation)
    }
    for (const key of this.replicas.keys()) {
      if (!this.placement.isOwner(key, this.id, this.replicaCount + 1)) this.replicas.drop(key)
    }
    this.caller.viewChanged()
    // Re-replication of idle actors waits a moment: the calls a failover redirects come first.
    // A view whose re-replication never ran (the next came first) still counts: a host it made
    // primary of an actor it owned nothing of before it gets the offer in the next one (full seed 14690).
    this.viewsNotReplicated.push(before)
    // Bounded (a copy that can never be read keeps every run incomplete): the oldest go first.
    if (this.viewsNotReplicated.length > viewsNotReplicatedMax) this.viewsNotReplicated.shift()
    this.replication = new Promise<Replicated>((resolve) => {
      const incomplete = (): void => resolve({ epoch: view.epoch, complete: false })
      this.clock.setTimeout(() => {
        if (this.placement.view.epoch !== view.epoch) return incomplete()
        // The views go only once a re-replication completes: one cut short (the next view came, a
        // copy could not be read or pushed) leaves them to the next (full seed 962694: a corrupt
        // read skipped the only copy of two acknowledged writes, and the next view's run no
        // longer knew its primary had owned nothing of the actor).
        const since = [...this.viewsNotReplicated]
        // A start's run cut short by a view (a restart publishes one at once) still offers every copy.
        const starting = this.starting
        this.rereplicate(view.epoch, undefined, since, starting).catch(() => ({ complete: false, held: false })).then(({ complete, held }) => {
          if (complete && starting) this.starting = false
          if (complete) this.viewsNotReplicated.splice(0, this.viewsNotReplicated.length, ...this.viewsNotReplicated.filter((p) => !since.includes(p)))
          resolve({ epoch: view.epoch, complete: complete && held })
        }, incomplete)
      }, this.limits.replicationRetryMs)
    })
    const parked = this.parked.splice(0)
    for (const { from, call } of parked) this.handleCall(from, call)
    const held = [...this.held.values()]
    this.held.clear()
    for (const { from, call, timer } of held) {
      this.clock.clearTimeout(timer)
      this.handleCall(from, call)
    }
    for (const [host, epoch] of [...this.rejoinedAhead]) {
      if (epoch > view.epoch) continue
      this.rejoinedAhead.delete(host)
      this.handleRejoined(host, epoch)
    }
    return true
  }

  /**
   * Holds a call to an actor of a paused shard until a view resumes it: every host known to hold
   * its acknowledged writes is down, restarting on its disk, and running the call now would start
   * the actor over without them. A repeat of a held call replaces it.
   */
  private holdWhilePaused(from: PeerId, call: CallEnvelope): void {
    const earlier = this.held.get(call.id)
    if (earlier !== undefined) this.clock.clearTimeout(earlier.timer)
    else if (this.held.size >= this.limits.mailboxDepthMax) return this.fail(from, call, 'MailboxFull', `${this.held.size} calls already wait for paused actors on ${this.id}`)
    const timer = this.clock.setTimeout(() => {
      if (this.held.get(call.id)?.call !== call) return
      this.held.delete(call.id)
      this.fail(from, call, 'HostUnavailable', `${call.key}: every host holding its acknowledged writes is down, and it waits for them to restart (still waiting after ${this.limits.callTimeoutMs} ms)`)
    }, this.limits.callTimeoutMs)
    this.held.set(call.id, { from, call, timer })
  }

  /** Holds a call from a newer epoch until that view arrives (or `replicationRetryMs` passes, then redirects). */
  private parkForView(from: PeerId, call: CallEnvelope): boolean {
    if (this.parked.length >= this.limits.mailboxDepthMax) return false
    const entry = { from, call }
    this.parked.push(entry)
    this.clock.setTimeout(() => {
      const index = this.parked.indexOf(entry)
      if (index < 0) return
      this.parked.splice(index, 1)
      this.redirect(from, call.id)
    }, this.limits.replicationRetryMs)
    return true
  }

  /**
   * After a view change, restores the replication factor of idle actors this host is now primary
   * of: each backup gets the whole actor (it installs it only if it is behind). Active actors are
   * handled by `retarget`.
   */
  private async rereplicate(epoch: number, rejoined?: HostId, before: readonly Placement[] = [], started = false): Promise<{ complete: boolean; held: boolean }> {
    let done = 0
    // The copies offered (see `replicated`): waited for at the end, a moment at most.
    const offers: Promise<unknown>[] = []
    let complete = true
    for (const key of await this.storage.keys()) {
      if (this.stopped || this.placement.view.epoch !== epoch) return { complete: false, held: false }
      // A background chore: let calls in between every few actors.
      if (++done % 32 === 0) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, 0))
      if (this.activations.has(key) || this.leaving.has(key)) continue
      const primary = this.placement.primary(key) === this.id
      // A backup wakes the primary of an actor with reminders: a host that joined holds nothing of
      // it, so nothing else would activate it there until somebody calls. A starting host offers
      // even what it no longer owns: restarted with fewer replicas, it may hold the furthest copy;
      // so does every host for a paused shard (the supervisor may wait for this very copy).
      const paused = this.placement.isPaused(key)
      if (!primary && !started && !paused && !this.placement.isOwner(key, this.id, this.replicaCount + 1)) continue
      const type = this.registry.get(key.slice(0, key.indexOf('/')))
      if (!type || this.levelOf(type) === 'memory') continue
      const own = await this.replicas.peek(key).catch(() => undefined)
      if (own === undefined) complete = false // a read that failed (a corrupt read): this copy was not offered
      if (!own || own.seq === 0) continue
      if (!primary) {
        // Likewise an actor whose journal holds an unfinished turn: its new activation finishes it.
        if (!paused && (own.reminders.size > 0 || own.requests.hasUnfinished)) void this.caller.call(key, wakeMethod, []).catch(() => undefined)
        // An owner that may hold nothing of the actor gets our copy, installed only if it goes
        // further than its own (see `handleShipment`): `rejoined` came back without its disk (as a
        // primary nothing else refills it; as a backup its primary refills it, unless that primary
        // is down and no view has said so yet, so every owner offers), or the view made a host
        // primary that owned nothing of the actor in a view before it (any adopted since this
        // re-replication last ran). Otherwise, until a call
        // activates it there, the actor's acknowledged writes would hang on fewer owners, and be
        // lost if a later view kept only the empty one.
        const primaryNow = this.placement.primary(key)
        const empty = rejoined !== undefined
          ? (this.placement.isOwner(key, rejoined, this.replicaCount + 1) ? rejoined : undefined)
          : primaryNow !== undefined && (started || paused || this.forgetful.has(primaryNow) || before.some((p) => !p.isOwner(key, primaryNow, this.replicaCount + 1))) ? primaryNow : undefined
        // A paused shard's copy must be held before it resumes: one not acknowledged leaves the run incomplete.
        if (empty !== undefined && empty !== this.id) offers.push(this.refill(key, [empty], shippedOf(own), epoch).then((held) => { if (paused && !held) complete = false }))
        continue
      }
      // A paused shard's primary waits for its holders' offers (above); it pushes once the shard resumes.
      if (paused) continue
      // Not awaited here: one key whose owners do not answer must not hold up the others.
      offers.push(this.pushFurthest(key, type, own, epoch).then((pushed) => { if (!pushed) complete = false }))
    }
    // Active actors replicate through their logs (see `retarget`): their new backups count too.
    for (const activation of this.activations.values()) {
      if (activation.log && this.levelOf(activation.type) !== 'memory') offers.push(activation.log.caughtUp())
    }
    // `held`: every copy offered is held (not merely a moment passed), as the supervisor's count of holders needs.
    const held = (await this.within(Promise.all(offers), this.limits.replicationRetryMs * refillBackoffMax)) !== undefined
    return { complete: complete && this.placement.view.epoch === epoch, held }
  }

  /**
   * Resolves once this host's re-replication for its newest view has run, and the copies it
   * offered are held (or a moment passed): the supervisor waits for it between two membership
   * changes, or an idle actor whose owners both change in two quick steps (two hosts added at
   * once) would be left with owners that never held it.
   */
  replicated(): Promise<Replicated> {
    return this.replication
  }

  /** What `promise` settles with, or undefined once `ms` passed first. */
  private async within<T>(promise: T | Promise<T>, ms: number): Promise<T | undefined> {
    if (!isThenable(promise)) return promise
    let timer: TimerHandle | undefined
    const bound = new Promise<undefined>((resolve) => { timer = this.clock.setTimeout(() => resolve(undefined), ms) })
    try {
      return await Promise.race([promise, bound])
    } finally {
      if (timer !== undefined) this.clock.clearTimeout(timer)
    }
  }

  /** See `RecoveryPorts.unsure`: an empty copy after a lost disk, any copy after a restart until confirmed. */
  private unsure(key: string, seq: number): boolean {
    if (this.forgetfulSelf) return seq === 0
    return this.confirmedKeys !== undefined && !this.confirmedKeys.has(key)
  }

  /** `promise`, or `ms` passing, whichever comes first. */
  private async bounded(promise: Promise<unknown>, ms: number): Promise<void> {
    await this.within(promise, ms)
  }

  /**
   * Restores an idle actor's replication factor: this host's copy may be behind (it came back from
   * a crash while others wrote), so it reads the owners first and pushes the furthest copy, never
   * an older one. Gives up when the view moves on.
   */
  private async pushFurthest(key: string, type: ActorType, own: Replica, epoch: number): Promise<boolean> {
    const copy = (await this.recovery.recover(key, own, () => this.stopped || this.placement.view.epoch !== epoch).catch(() => undefined))?.copy
    // A further copy went into the journal, past the replica store: its warm copy of the actor is
    // behind now, and would stand in for the journal at the next activation or recovery read here
    // (full seed 57351: an acknowledged deposit ran again on the older copy). The store reloads it.
    if (copy !== undefined && copy !== own) this.replicas.drop(key)
    // Not pushed when the owners could not be read (the view moved on); an actor active here
    // replicates through its log.
    if (!copy || this.placement.view.epoch !== epoch) return false
    if (this.activations.has(key) || this.leaving.has(key)) return true
    const snapshot = shippedOf(copy)
    // An actor with reminders is activated at once: its reminders must fire even if nobody calls it;
    // so is one with an unfinished turn, which its activation finishes.
    if (copy.reminders.size > 0 || copy.requests.hasUnfinished) this.activate(key, type)
    await this.refill(key, this.backupsOf(key), snapshot, epoch)
    return true
  }

  /**
   * Sends an idle actor's copy to owners that must hold it, and again to those that have not
   * acknowledged holding as much, `refillRounds` times at most, `replicationRetryMs` apart and
   * doubling up to `refillBackoffMax` times that: one lost message must not leave an owner empty
   * (the copy would then hang on the other owners alone), nor a partition of a few seconds.
   * Stops when the view moves on or the actor activates here (its log replicates from then on).
   * Resolves true once every owner acknowledged the copy.
   */
  private refill(key: string, owners: HostId[], snapshot: ShippedSnapshot, epoch: number): Promise<boolean> {
    const send = (owner: HostId): void => {
      this.counters.recordsShipped++
      this.deliver(owner, { v: 1, t: 'replicate', id: this.nextShipmentId(), epoch, key, records: [], snapshot })
    }
    const previous = this.refills.get(key)
    if (previous !== undefined && previous.epoch === epoch && previous.seq === snapshot.seq && previous.timer !== undefined) {
      // The same copy on its way to other owners already (two hosts came back without their disks): join its rounds.
      for (const owner of owners) {
        if (previous.waiting.has(owner)) continue
        previous.waiting.add(owner)
        send(owner)
      }
      return previous.ended
    }
    if (previous?.timer !== undefined) this.clock.clearTimeout(previous.timer)
    previous?.end(false)
    let end = (_acked: boolean): void => {}
    const ended = new Promise<boolean>((resolve) => { end = resolve })
    const refill: Refill = { seq: snapshot.seq, epoch, waiting: new Set(owners), timer: undefined, ended, end }
    this.refills.set(key, refill)
    let rounds = 0
    const round = (): void => {
      refill.timer = undefined
      const over = this.stopped || this.placement.view.epoch !== epoch || this.activations.has(key) || this.leaving.has(key)
      if (over || refill.waiting.size === 0 || rounds++ >= refillRounds) {
        if (this.refills.get(key) === refill) this.refills.delete(key)
        return refill.end(refill.waiting.size === 0)
      }
      for (const owner of refill.waiting) send(owner)
      refill.timer = this.clock.setTimeout(round, this.limits.replicationRetryMs * Math.min(2 ** (rounds - 1), refillBackoffMax))
    }
    round()
    return ended
  }

  /**
   * Extends the supervisor's lease by `ms`. With a lease, a host that stops hearing from its
   * supervisor stops running turns (callers are redirected) before its keys move elsewhere.
   */
  renewLease(ms: number): void {
    this.leaseUntilMs = this.clock.now() + ms
  }

  /** Handles one envelope from a peer (or from this host itself). */
  receive(from: PeerId, envelope: Envelope): void {
    if (this.stopped) return
    switch (envelope.t) {
      case 'call': return this.handleCall(from, envelope)
      case 'reply': case 'redirect': this.caller.receive(envelope); return
      case 'replicate': return this.handleShipment(from, envelope)
      case 'replicated': return this.handleAck(from, envelope)
      case 'fetch': return void this.recovery.answer(from, envelope)
      case 'fetched': return this.recovery.received(from, envelope)
      case 'rejoined': return this.handleRejoined(from, envelope.epoch)
    }
  }

  /** Calls an actor from this host, outside any turn (used by embedders and tests). */
  call(key: string, method: string, args: unknown[]): Promise<unknown> {
    return this.caller.call(key, method, args)
  }

  stats(): HostStats {
    let replicationLag = 0
    for (const activation of this.activations.values()) replicationLag += activation.log?.pendingCount ?? 0
    return { id: this.id, epoch: this.placement.view.epoch, activations: this.activations.size, replicas: this.replicas.keys().length, replicationLag, ...this.counters }
  }

  /** An actor's journal as this host holds it: its latest snapshot and the records after it. */
  async journal(key: string): Promise<{ snapshot: { seq: number; epoch: number; state: unknown } | undefined; records: JournalRecord[] }> {
    const snapshot = await this.storage.readSnapshot(key)
    const records = await this.storage.read(key, (snapshot?.seq ?? 0) + 1)
    return { snapshot, records }
  }

  /** Calls queued or running on this host's activations (also those passivating): 0 when it is quiet. */
  callsInFlight(): number {
    let n = 0
    for (const activation of this.activations.values()) n += activation.inFlight.size
    for (const activation of this.leaving.values()) n += activation.inFlight.size
    return n
  }

  /** Activations here whose journal holds a turn that began calling other actors and never ended: work still to do (the idle sweep runs it again). */
  unfinishedTurns(): number {
    let n = 0
    for (const activation of this.activations.values()) if (activation.hasUnfinishedTurns) n++
    return n
  }

  /** Keys active on this host now. */
  activeKeys(): string[] {
    return [...this.activations.keys()]
  }

  /**
   * Passivates every activation, waiting (up to `callTimeoutMs`) for their last records to be
   * durable. Hosts stay reachable meanwhile, so a cluster drains every host before closing any.
   */
  async drain(): Promise<void> {
    const all = Promise.all([...this.activations.values()].map((a) => a.mailbox.whenIdle().then(() => this.passivate(a))))
      .then(() => Promise.all(this.deactivations.values()))
      .then(() => this.handOff())
    await this.bounded(all, this.limits.callTimeoutMs)
  }

  /**
   * A host leaving the view (drained) hands every actor copy it holds to that actor's owners in
   * the view, and waits a moment for them to hold it: an owner the last view change made, which
   * held nothing of the actor, would otherwise get it only from this host's re-replication, which
   * a next view change stops (two drains in a row: an idle actor's copies were on this host and
   * on the one drained next). Installed only where it goes further; an owner where the actor is
   * active (it read the owners already) does not answer, so the wait is bounded.
   */
  private async handOff(): Promise<void> {
    // A host still in the view (the whole cluster stops) keeps its copies where they are.
    if (this.placement.view.hosts.includes(this.id)) return
    const epoch = this.placement.view.epoch
    const owners = this.replicaCount + 1
    // Copies every owner acknowledged in this view need not go again (a stop after a drain hands off twice).
    if (this.handedOff?.epoch !== epoch) this.handedOff = { epoch, copies: new Map() }
    const acked = this.handedOff.copies
    const handed: Promise<unknown>[] = []
    for (const key of await this.storage.keys()) {
      if (this.stopped || this.placement.view.epoch !== epoch) return
      if (this.placement.isOwner(key, this.id, owners) || this.activations.has(key) || this.leaving.has(key)) continue
      const type = this.registry.get(key.slice(0, key.indexOf('/')))
      if (!type || this.levelOf(type) === 'memory') continue
      const own = await this.replicas.peek(key).catch(() => undefined)
      const copy = `${own?.seq}:${own?.epoch}`
      if (!own || own.seq === 0 || acked.get(key) === copy) continue
      handed.push(this.refill(key, this.placement.owners(key, owners), shippedOf(own), epoch).then((all) => { if (all) acked.set(key, copy) }))
    }
    await this.bounded(Promise.all(handed), this.limits.replicationRetryMs * refillBackoffMax)
  }

  /** Drains, then fails pending calls and closes the transport and the journal. */
  async stop(): Promise<void> {
    if (this.stopped) return
    if (this.idleTimer !== undefined) this.clock.clearTimeout(this.idleTimer)
    await this.drain()
    this.stopped = true
    this.caller.stop(new TroupeError('ClusterStopped', `host ${this.id} stopped`))
    for (const { from, call, timer } of this.held.values()) {
      this.clock.clearTimeout(timer)
      this.fail(from, call, 'HostUnavailable', `host ${this.id} stopped`)
    }
    this.held.clear()
    this.transport.close()
    await this.storage.close()
  }

  private place(view: View): Placement {
    const placement = this.placements.get(view)
    this.placements.prepareLater(view, this.clock, this.limits.replicationRetryMs)
    return placement
  }

  private levelOf(type: ActorType): Consistency {
    return type.consistency ?? this.consistency
  }

  private backupsOf(key: string): HostId[] {
    return this.placement.owners(key, this.replicaCount + 1).slice(1)
  }

  private handleCall(from: PeerId, call: CallEnvelope): void {
    this.counters.callsReceived++
    // An active actor knows its type: the registry is searched only for a key not active here.
    const active = this.activations.get(call.key)
    const type = active?.type ?? this.registry.get(call.key.slice(0, call.key.indexOf('/')))
    if (!type) return this.fail(from, call, 'UnknownActorType', `no actor type ${call.key.slice(0, call.key.indexOf('/'))} (known: ${this.registry.names().join(', ')})`)
    // The caller knows a newer view than this host, so this host's idea of who is primary may be
    // stale (say, it was paused meanwhile): wait for that view briefly rather than answer from it.
    if (call.epoch > this.placement.view.epoch) return void (this.parkForView(from, call) || this.redirect(from, call.id))
    // A stale read waits too: a backup of a paused shard may hold nothing of the actor yet.
    if (this.placement.isPaused(call.key) && (call.stale || this.placement.primary(call.key) === this.id)) return this.holdWhilePaused(from, call)
    if (this.placement.primary(call.key) !== this.id) {
      if (call.stale && type.methods.get(call.method)?.mode === 'read' && this.placement.isOwner(call.key, this.id, this.replicaCount + 1)) {
        return void this.serveStale(from, call, type, type.methods.get(call.method)!)
      }
      return this.redirect(from, call.id)
    }
    if (this.leaseUntilMs !== undefined && this.clock.now() > this.leaseUntilMs) return this.fail(from, call, 'HostUnavailable', `${this.id} lost its supervisor lease`)
    if (call.method === wakeMethod) {
      // Activation alone is the point (reminders start firing once it loads): no turn, no journal.
      if (!this.activations.has(call.key)) this.activate(call.key, type)
      return this.deliver(from, { v: 1, t: 'reply', id: call.id, ok: true, value: undefined })
    }
    const method = type.methods.get(call.method)
    if (!method) return this.fail(from, call, 'UnknownMethod', `${type.name} has no method ${call.method}`)
    if (call.consistency !== undefined && call.consistency !== 'memory' && this.levelOf(type) === 'memory') {
      return this.fail(from, call, 'InvalidArgument', `${type.name} keeps its state in memory only (consistency 'memory'): a call cannot ask for '${call.consistency}'`)
    }
    const activation = active ?? this.activate(call.key, type)
    if (activation.failure) return this.deliver(from, { v: 1, t: 'reply', id: call.id, ok: false, error: activation.failure.toJSON() })
    // A request this actor already answered is answered again from its journal, before anything else.
    const checked = activation.status === 'active'
    const recorded = checked ? activation.recorded(call.id, call.consistency) : undefined
    if (recorded) {
      this.counters.dedupedCalls++
      if (!activation.inFlight.has(call.id)) activation.inFlight.set(call.id, from)
      return this.answer(from, call, recorded, activation)
    }
    // A duplicate of a call still queued or running waits for the same answer (before the cycle
    // check: the first copy is already past it, and its effect may be on the way).
    const waiting = activation.inFlight.size === 0 ? undefined : activation.inFlight.get(call.id)
    if (waiting !== undefined) {
      this.counters.dedupedCalls++
      if (typeof waiting === 'string') {
        if (waiting !== from) activation.inFlight.set(call.id, [waiting, from])
      } else if (!waiting.includes(from)) waiting.push(from)
      return
    }
    // Only a loaded activation can be in a cycle: one still loading runs no turn here (a turn of
    // this actor in the chain runs on a primary that was fenced off, and cannot block this one).
    // Never a request whose turn began calling other actors: refusing it would close a turn that is
    // half done (its calls took effect); it runs (again) instead.
    const unfinished = checked && activation.isUnfinished(call.id)
    let jumps = false
    if (checked && !unfinished && call.chain && activation.mailbox.wouldWait(method.mode)) {
      // A cycle: the call comes from a turn of this actor (A -> B -> A), or from a turn that
      // this actor's running turn is itself waiting on (A -> B while B -> A).
      const inCycle = call.chain.includes(call.key) || call.chain.some((key) => activation.waitingOn.has(key))
      // A reentrant method may run beside anything: it starts at once, ahead of the queue (a write
      // turn that calls its own actor's reentrant method, with calls queued behind it, hung).
      if (inCycle && method.mode === 'reentrant') jumps = true
      // Refused at once when a running turn blocks it. A read queued only behind a write that
      // waits for running reads is not: the chain does not say which turn of this actor waits on
      // the call (a reentrant one blocks nothing), so it waits, refused after callTimeoutMs if stuck.
      else if (inCycle && (method.mode === 'write' || activation.mailbox.writing)) {
        return this.refuseAsDeadlock(activation, call, from, `would wait on a turn that waits on it (${[...call.chain, call.key].join(' -> ')})`)
      }
    }
    // A call from a turn that has to wait (or arrives while the actor loads: no cycle check then,
    // and an unfinished turn may run first) is refused if it is still waiting after callTimeoutMs.
    const waits = call.chain !== undefined && !unfinished && !jumps && (!checked || activation.mailbox.wouldWait(method.mode))
    const job = waits ? this.refusedIfStillWaiting(activation, method, call, from, checked) : this.jobOf(activation, method, call, from, checked)
    if (jumps) activation.mailbox.offerFirst(job)
    else if (!activation.mailbox.offer(job)) {
      return this.fail(from, call, 'MailboxFull', `${call.key} already has ${this.limits.mailboxDepthMax} calls waiting`)
    }
    // A turn that ended inside `offer` with nothing to wait for is answered already: nothing is in
    // flight (no copy of it can have arrived meanwhile). Any other call is, until `settle`.
    if (this.settledLast !== call) activation.inFlight.set(call.id, from)
  }

  /**
   * A call from another actor's turn that still waits in the mailbox after `callTimeoutMs` is
   * refused as a Deadlock, for good (journaled): a cycle through three or more actors (A -> B ->
   * C -> A) is not seen at arrival, and a turn waits on its calls until they answer, so one of
   * them has to give way.
   */
  private refusedIfStillWaiting(activation: Activation, method: MethodEntry, call: CallEnvelope, from: PeerId, checked: boolean): Job {
    const queued = this.jobOf(activation, method, call, from, checked)
    // One timer per call waiting, cleared as it starts (or is answered otherwise).
    const timer = this.clock.setTimeout(() => {
      if (activation.status !== 'active' || !activation.mailbox.withdraw(job)) return
      // Queued while the actor loaded: a retry of a request it already ran gets that answer, and one
      // whose turn began and has not ended stays queued (its re-run answers it; this copy then finds
      // the record).
      const recorded = activation.recorded(call.id, call.consistency)
      if (recorded) return this.answer(from, call, recorded, activation)
      if (activation.isUnfinished(call.id)) return void activation.mailbox.offer(job)
      this.refuseAsDeadlock(activation, call, from, `waited ${this.limits.callTimeoutMs} ms behind other turns (a call cycle: ${[...call.chain!, call.key].join(' -> ')} -> ...)`)
    }, this.limits.callTimeoutMs)
    const job: Job = {
      mode: queued.mode,
      start: () => {
        this.clock.clearTimeout(timer)
        return queued.start()
      },
      reject: (error) => {
        this.clock.clearTimeout(timer)
        queued.reject(error)
      },
    }
    return job
  }

  /**
   * Refuses a call as a Deadlock, journaled like a failed turn: the refusal is the answer to its
   * request id for good, so a copy delayed in the network cannot take effect after its caller gave
   * up. Everyone waiting for the id (the caller's resends joined it) gets it.
   */
  private refuseAsDeadlock(activation: Activation, call: CallEnvelope, from: PeerId, why: string): void {
    const error = { kind: 'Deadlock' as const, message: `${call.key}.${call.method} ${why}`, actor: call.key }
    this.answer(from, call, activation.refuse(error, call.id, this.placement.view.epoch), activation)
  }

  private jobOf(activation: Activation, method: MethodEntry, call: CallEnvelope, from: PeerId, checked: boolean): Job {
    return {
      mode: method.mode,
      start: () => this.runTurn(activation, method, call, from, checked),
      reject: (error) => {
        // A call that never ran on an activation that moved away is redirected, not failed.
        if (error.kind === 'HostUnavailable') this.settle(activation, call, from, { v: 1, t: 'redirect', id: call.id, view: this.placement.view })
        else this.settle(activation, call, from, { v: 1, t: 'reply', id: call.id, ok: false, error: error.toJSON() })
      },
    }
  }

  /**
   * A new activation first finishes the write turns its journal says began calling other actors
   * and never ended (their host died, or stepped down, mid-turn), whether or not their callers
   * still wait: ahead of every queued call, with the same request id, so the calls they make are
   * answered from the callees' journals. A caller that retries gets the answer.
   */
  private finishUnfinishedTurns(activation: Activation): number {
    const turns = activation.unfinishedTurns()
    let queued = 0
    for (let i = turns.length - 1; i >= 0; i--) {
      const { requestId, intent: { method: name, args, chain } } = turns[i]!
      const method = activation.type.methods.get(name)
      if (!method || method.mode !== 'write') continue
      const call: CallEnvelope = { v: 1, t: 'call', id: requestId, epoch: this.placement.view.epoch, key: activation.key, method: name, args }
      if (chain) call.chain = chain
      // Nobody may be waiting: the answer then goes to this host's own caller, which drops it.
      if (!activation.inFlight.has(requestId)) activation.inFlight.set(requestId, this.id)
      activation.mailbox.offerFirst(this.jobOf(activation, method, call, this.id, false))
      queued++
    }
    return queued
  }

  /**
   * A write turn that began calling other actors and ended with an unknown outcome (a call of it
   * failed with MailboxFull, ActivationFailed, ...) runs again before any other write turn of its
   * actor: its calls may have taken effect, and a re-run repeats them with the same request ids,
   * which their callees answer from their journals only if the turn starts from the same state.
   * A write turn run in between would change that state, and the re-run could take another path
   * (a transfer whose deposit ran finds the funds gone), so the effects of its first run would
   * stand without their turn. The re-run waits a doubling delay (the callee may be down a while);
   * everything queued behind it waits too. Reads see the state without the turn, as before it.
   */
  private rerunIfUnfinished(activation: Activation, method: MethodEntry, call: CallEnvelope): void {
    if (activation.status !== 'active' || !activation.isUnfinished(call.id)) {
      activation.rerunDelayMs = 0
      return
    }
    const delayMs = activation.rerunDelayMs = Math.min(this.limits.callRetryMs, Math.max(this.limits.replicationRetryMs, activation.rerunDelayMs * 2))
    // Its caller heard "unknown outcome"; a retry with the same id joins the re-run.
    if (!activation.inFlight.has(call.id)) activation.inFlight.set(call.id, this.id)
    const rerun = this.jobOf(activation, method, call, this.id, false)
    activation.mailbox.offerFirst({
      mode: 'write',
      start: () => new Promise<unknown>((resolve) => {
        this.clock.setTimeout(() => {
          if (activation.status === 'active' && activation.isUnfinished(call.id)) return resolve(rerun.start())
          // Gone meanwhile (its next activation runs the turn), or ended: a retry that joined is redirected.
          rerun.reject(new TroupeError('HostUnavailable', `${activation.key} is no longer active here`, { actor: activation.key }))
          resolve(undefined)
        }, delayMs)
      }),
      reject: rerun.reject,
    })
  }

  /**
   * A stale read: a backup runs a read-only method against its warm replica, on a throwaway
   * instance (it never turns into an activation, journals nothing, and may be behind the primary).
   */
  private async serveStale(from: PeerId, call: CallEnvelope, type: ActorType, method: MethodEntry): Promise<void> {
    let copy: Replica
    try {
      copy = await this.replicas.peek(call.key)
    } catch {
      return this.redirect(from, call.id)
    }
    if (copy.seq === 0) return this.redirect(from, call.id) // nothing here yet: ask the primary
    const { instance, error } = instanceOf(type)
    if (error !== undefined) return this.deliver(from, { v: 1, t: 'reply', id: call.id, ok: false, error: serializeThrown(error, call.key) })
    const refuse = (): never => {
      throw new TroupeError('InvalidArgument', `${call.key}.${call.method} is a stale read: it cannot call other actors or set reminders`)
    }
    instance[actorContext] = {
      type: type.name, id: call.key.slice(call.key.indexOf('/') + 1), key: call.key, hostId: this.id,
      call: refuse, ref: refuse, remind: refuse, forget: refuse, reminders: () => [...copy.reminders.keys()], setTimer: refuse,
    }
    instance.state = readOnlyView(copy.state)
    try {
      const value = answerOf(await method.fn.apply(instance, call.args), this.limits, call.key, call.method)
      this.deliver(from, { v: 1, t: 'reply', id: call.id, ok: true, value })
    } catch (thrown) {
      this.deliver(from, { v: 1, t: 'reply', id: call.id, ok: false, error: serializeThrown(thrown, call.key) })
    }
  }

  /** Sends a call's answer to everyone waiting for it. */
  private settle(activation: Activation, call: CallEnvelope, from: PeerId, envelope: Envelope): void {
    this.settledLast = call
    const recipients = activation.inFlight.size === 0 ? undefined : activation.inFlight.get(call.id)
    if (recipients === undefined) return this.deliver(from, envelope)
    activation.inFlight.delete(call.id)
    if (typeof recipients === 'string') this.deliver(recipients, envelope)
    else for (const to of recipients) this.deliver(to, envelope)
  }

  /**
   * `checked`: the request table was searched for this id when the call arrived, on a loaded
   * activation. Nothing can record the id meanwhile (a duplicate joins the queued call, and
   * shipments for an active key are refused), so only calls queued during loading look again.
   */
  private runTurn(activation: Activation, method: MethodEntry, call: CallEnvelope, from: PeerId, checked: boolean): PromiseLike<unknown> | undefined {
    activation.lastUsedMs = this.clock.now()
    // A retried request id is answered from the journal instead of running its turn again.
    const level = call.consistency
    const recorded = checked ? undefined : activation.recorded(call.id, level)
    if (recorded) {
      this.counters.dedupedCalls++
      this.answer(from, call, recorded, activation)
      return undefined
    }
    this.counters.turns++
    let outcome: TurnOutcome | Promise<TurnOutcome>
    if (method.mode === 'write') {
      activation.setCaller(call.chain)
      activation.turnCall = call
      activation.turnIntent = undefined
      outcome = activation.write(method.fn, call.args, call.id, this.placement.view.epoch, call.method, level)
    } else {
      outcome = activation.read(method, call.args, call.method, level)
    }
    const ended = (o: TurnOutcome): void => {
      if (activation.turnCall === call) activation.turnCall = undefined
      this.answer(from, call, o, activation)
      if (method.mode === 'write') this.rerunIfUnfinished(activation, method, call)
    }
    if (isThenable(outcome)) return outcome.then(ended)
    ended(outcome)
    return undefined
  }

  /** Sends a turn's outcome once its output gate opens; a gate that fails redirects the caller. */
  private answer(from: PeerId, call: CallEnvelope, outcome: TurnOutcome, activation: Activation): void {
    const reply = outcome.ok
      ? (): void => this.settle(activation, call, from, { v: 1, t: 'reply', id: call.id, ok: true, value: outcome.value })
      : (): void => this.settle(activation, call, from, { v: 1, t: 'reply', id: call.id, ok: false, error: outcome.error })
    if (!outcome.gate) return reply()
    outcome.gate.then(reply, (error: TroupeError) => {
      // Not durable: fenced off or stepped down (the caller retries the same id elsewhere), or storage failed.
      if (error.kind === 'StaleEpoch' || error.kind === 'HostUnavailable') {
        this.counters.redirectsSent++
        this.settle(activation, call, from, { v: 1, t: 'redirect', id: call.id, view: this.placement.view })
      } else {
        this.settle(activation, call, from, { v: 1, t: 'reply', id: call.id, ok: false, error: { ...error.toJSON(), actor: activation.key } })
      }
    })
  }

  private redirect(to: PeerId, id: string): void {
    this.counters.redirectsSent++
    this.deliver(to, { v: 1, t: 'redirect', id, view: this.placement.view })
  }

  private fail(from: PeerId, call: CallEnvelope, kind: SerializedError['kind'], message: string): void {
    this.deliver(from, { v: 1, t: 'reply', id: call.id, ok: false, error: { kind, message, actor: call.key } })
  }

  /** Sends to a peer, or loops back (cloned, on a later microtask) when the peer is this host. */
  private deliver(to: PeerId, envelope: Envelope): void {
    if (this.stopped) return
    if (to !== this.id) {
      this.transport.send(to, envelope)
      return
    }
    let copy: Envelope
    try {
      copy = loopbackCopy(envelope)
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

  private nextShipmentId(): string {
    return `${this.incarnation}~${(this.shipments++).toString(36)}`
  }

  private ship(backup: HostId, key: string, records: JournalRecord[], activation?: Activation, after?: number): void {
    // A simulation may lose a shipment here: the primary's retry must make up for it.
    if (buggify('replication.drop-shipment', backup)) return
    this.counters.recordsShipped += records.length
    const envelope: ReplicateEnvelope = { v: 1, t: 'replicate', id: this.nextShipmentId(), epoch: this.placement.view.epoch, key, records }
    if (after !== undefined) envelope.after = after
    if (activation?.log) {
      const log = activation.log
      envelope.snapshot = { seq: log.seq, epoch: log.epoch, state: activation.committed, requests: log.requests.toEntries(), reminders: [...activation.reminders] }
    }
    this.deliver(backup, envelope)
  }

  /**
   * `from` came back without its disk into this view: give it back every actor it is an owner of
   * (the active and idle ones this host is primary of, and the idle ones it is primary of itself).
   */
  private handleRejoined(from: PeerId, epoch: number): void {
    // The view that lists it again has not reached this host yet: by the view this host knows, it
    // may own nothing (a host added back by a view change), so the refill waits for that view.
    if (epoch > this.placement.view.epoch) {
      this.rejoinedAhead.set(from, Math.max(epoch, this.rejoinedAhead.get(from) ?? 0))
      return
    }
    for (const activation of [...this.activations.values(), ...this.leaving.values()]) activation.log?.lost(from)
    this.forgetful.set(from, epoch)
    void this.rereplicate(this.placement.view.epoch, from).catch(() => undefined)
  }

  private handleShipment(from: PeerId, shipment: ReplicateEnvelope): void {
    // A whole actor from a host that is not its primary in the shipment's epoch (this host's view)
    // is another owner's copy, offered after this host rejoined without its disk or became primary
    // of an actor it held nothing of (see `rereplicate`). It is installed only if it goes further
    // than this host's copy, where a primary's snapshot replaces it.
    const offered = shipment.snapshot !== undefined && shipment.epoch === this.view.epoch && this.placement.primary(shipment.key) !== from
    const active = this.activations.get(shipment.key)
    // A key active here lives in its activation, not in the replica store: a shipment for it comes
    // from the primary of a view this host has not seen yet (an older one the store fences). Fed to
    // the store, it would make a warm copy that misses this activation's last records, which a
    // recovery read could take for this host's copy. No ack: the sender ships again, and by then
    // this host has the view and has stepped down.
    if (shipment.epoch >= this.view.epoch && (active || this.leaving.has(shipment.key))) {
      // Offered while the actor loads here: its recovery read must take it, or the copy is lost
      // with the backup that offered it if that backup never answers the read (it lost its disk
      // since, or cannot reach this host) — maybe the only copy of acknowledged writes the view
      // still lists (found by simulation, full seed 233). A loaded activation read the owners already.
      if (offered && shipment.snapshot && active && !active.log && active.status === 'activating') {
        // Before its read begins the copy waits in `earlyOffers`; after, the read under way takes it.
        const early = this.earlyOffers.get(active)
        if (early) early.push(shipment.snapshot)
        else this.recovery.offered(shipment.key, shipment.snapshot)
      }
      // An offer (a refill) to a loaded activation whose own journal holds the copy's history
      // already: say so, or the offering host waits out every round of its refill (a drain with
      // actors active elsewhere took 1.6 s at every step, whatever the actors' number).
      // Only a copy of the same history or an older one (epochs along a log never decrease): a
      // copy from a newer epoch is another history, which this acknowledgement must not settle.
      if (offered && shipment.snapshot && shipment.epoch === this.view.epoch && active?.status === 'active' && active.log && shipment.snapshot.epoch <= active.log.epoch && active.log.holdsLocally(shipment.snapshot.seq)) {
        this.deliver(from, { v: 1, t: 'replicated', id: this.nextShipmentId(), key: shipment.key, seq: shipment.snapshot.seq, status: 'ok' })
      }
      return
    }
    this.replicas.receive(from, shipment.key, shipment.epoch, shipment.records, shipment.snapshot, offered, shipment.after)
  }

  private handleAck(from: PeerId, ack: ReplicatedEnvelope): void {
    const refill = this.refills.size === 0 ? undefined : this.refills.get(ack.key)
    if (refill && (ack.status === 'stale' || ack.seq >= refill.seq)) {
      // `from` holds the copy (or knows a newer view, where the refill has no say).
      refill.waiting.delete(from)
      if (refill.waiting.size === 0) {
        if (refill.timer !== undefined) this.clock.clearTimeout(refill.timer)
        this.refills.delete(ack.key)
        refill.end(true)
      }
    }
    // A passivating activation's last records come first: a new activation waits for them.
    const leaving = this.leaving.get(ack.key)
    const activation = leaving?.log && leaving.log.pendingCount > 0 ? leaving : (this.activations.get(ack.key) ?? leaving)
    const log = activation?.log
    if (!activation || !log) return
    if (ack.status === 'stale') {
      // A backup knows a newer view: this host must not be primary any more. Step down; nothing pending is acknowledged.
      this.counters.fencedWrites++
      this.onEvent?.({ kind: 'fenced', key: ack.key, host: this.id, epoch: this.view.epoch, atMs: this.clock.now() })
      this.stepDown(activation, `fenced by ${from}`, 'StaleEpoch')
      return
    }
    if (ack.status === 'resync' && ack.seq > log.seq) {
      // The backup holds more than this primary: another primary wrote meanwhile. Step down and recover.
      this.stepDown(activation, `${from} is ahead (seq ${ack.seq} > ${log.seq})`, 'StaleEpoch')
      return
    }
    log.acknowledged(from, ack.seq)
    if (ack.status === 'resync' && log.currentBackups.includes(from)) this.ship(from, ack.key, [], activation)
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
      remind: (name, options) => activation.changeReminder(name, parseReminder(name, options, this.timers.wallNow())),
      forget: (name) => activation.changeReminder(name, undefined),
      reminders: () => activation.reminderNames(),
      setTimer: (fn, ms) => this.timers.setTimer(activation, fn, ms),
    }
    const activation = new Activation(key, type, context, this.limits, this.clock.now())
    activation.remindersChanged = () => this.timers.arm(activation)
    this.activations.set(key, activation)
    this.earlyOffers.set(activation, [])
    this.counters.activationsTotal++
    this.onEvent?.({ kind: 'activate', key, host: this.id, epoch: this.view.epoch, atMs: this.clock.now() })
    void this.load(activation).then(
      () => {
        activation.status = 'active'
        this.finishUnfinishedTurns(activation)
        activation.mailbox.resume()
        this.timers.arm(activation)
      },
      // Stepped down while it loaded: stepDown did everything already.
      (error: unknown) => { if (error !== abandonedLoad) this.activationFailed(activation, error) },
    )
    return activation
  }

  /** Loads state (warm replica, journal, or the passivation store), then runs onActivate as a turn. */
  private async load(activation: Activation): Promise<void> {
    const { key, type } = activation
    if (activation.constructionError !== undefined) throw activation.constructionError
    await this.deactivations.get(key)
    const level = this.levelOf(type)
    // Copied and checked as a turn's new value is: a default object the actor's module keeps is not its state.
    const initial = (): unknown => journalableCopy(activation.instance.initialState())
    let start: Replica
    let heldBy: HostId[] = []
    if (level === 'memory') {
      const stored = await this.store.load(key)
      start = { key, seq: 0, epoch: 0, state: stored === undefined ? initial() : stored, requests: new RequestTable(this.limits.requestsMax), reminders: new Map() }
    } else {
      // A warm replica that holds no record yet (made by a shipment that brought none, like the
      // empty resync a rejoined backup gets) has no state at all: start from the journal then.
      // An earlier activation's recovery read may still be installing what it found in the journal.
      await this.recovery.settled(key)
      const warm = await this.replicas.take(key)
      start = warm !== undefined && warm.seq > 0 ? warm : await loadFromJournal(this.storage, key, this.limits.requestsMax, initial)
      // The read keeps every further copy it finds in the journal at once: if this activation steps
      // down before the read completes, the next one starts from it (see `Recovery.recover`).
      const gone = (): boolean => activation.status === 'gone'
      const offers = this.earlyOffers.get(activation) ?? []
      this.earlyOffers.delete(activation)
      const unjournaled = this.unjournaled.get(key)
      const early = unjournaled ? [...offers, unjournaled] : offers
      ;({ copy: start, heldBy } = await this.recovery.recover(key, start, () => this.stopped || gone(), true, early).catch((error: unknown) => {
        throw gone() ? abandonedLoad : error
      }))
      // Stepped down meanwhile: it must not start a log (nor ship its copy as a primary's).
      if (gone()) throw abandonedLoad
      // The refused records are in the journal now (installed, or superseded by a further copy).
      if (unjournaled !== undefined && this.unjournaled.get(key) === unjournaled) this.unjournaled.delete(key)
    }
    // At the memory level the log only numbers turns and remembers request ids (in memory).
    const backups = level === 'memory' ? [] : this.backupsOf(key)
    const log: ActorLog = new ActorLog(key, start, ackRule(level, backups.length), backups, {
      storage: level === 'memory' ? undefined : this.storage,
      ship: (backup, k, records, after) => this.ship(backup, k, records, undefined, after),
      resync: (backup) => this.ship(backup, key, [], activation),
      clock: this.clock,
      retryMs: this.limits.replicationRetryMs,
      failed: () => this.dropFailed(activation),
      snapshotEveryRecords: this.limits.snapshotEveryRecords,
      snapshot: (): StoredSnapshot => ({ state: activation.committed, requests: log.requests.toEntries(), reminders: [...activation.reminders] }),
    })
    activation.start(start.state, log, start.reminders)
    if (level !== 'memory') log.confirm(start.seq, start.epoch, heldBy)
    const hook = activation.instance.onActivate
    if (hook) await this.lifecycleTurn(activation, hook, 'activate')
  }

  /** This host's copy of an actor, for another host's recovery read; `durable` when all of it is in this host's journal. */
  private async localCopy(key: string): Promise<{ copy: ShippedSnapshot; durable: boolean }> {
    const active = this.activations.get(key) ?? this.leaving.get(key)
    if (active?.log) {
      const copy = { seq: active.log.seq, epoch: active.log.epoch, state: active.committed, requests: active.log.requests.toEntries(), reminders: [...active.reminders] }
      return { copy, durable: active.log.pendingCount === 0 }
    }
    // A replica answers once every shipment (and offered copy) before it is in its journal: peek waits for them.
    const replica = await this.replicas.peek(key)
    return { copy: shippedOf(replica), durable: true }
  }

  /** The log failed (storage error, fenced): drop the activation so the next call reloads what is durable. */
  private dropFailed(activation: Activation): void {
    const log = activation.log
    const kind = log?.failure?.kind
    if (log && (kind === 'StorageFull' || kind === 'StorageFailed') && log.seq > log.durableSeq && log.currentBackups.length > 0) {
      // Records this host's disk refused were shipped to the backups as they were written: a
      // backup may hold them, or get them later (a shipment still in flight). The next activation
      // here must go on from them, not number new records from the journal's last seq, or a
      // backup would hold two different records under one (epoch, seq) (full seed 6957: a
      // write ran twice). It installs this copy in the journal first (when the disk takes it)
      // and ships it to the backups: the turns stay of unknown outcome, and take effect once.
      this.unjournaled.set(activation.key, { seq: log.seq, epoch: log.epoch, state: activation.committed, requests: log.requests.toEntries(), reminders: [...activation.reminders] })
    }
    this.timers.end(activation)
    if (this.activations.get(activation.key) === activation) this.activations.delete(activation.key)
    if (activation.status !== 'deactivating') activation.status = 'gone'
    if (kind === 'StorageFailed') this.checkStorage()
  }

  /**
   * A journal broken for good (a failed fdatasync) refuses every write until it is opened again:
   * this host would refuse every durable call and acknowledge no shipment, holding up the
   * primaries it backs. It gives up instead, once, so its supervisor replaces it and the
   * replacement opens the journal afresh.
   */
  private checkStorage(): void {
    const broken = this.storage.broken?.()
    if (broken === undefined || this.storageBroken) return
    this.storageBroken = true
    this.onEscalate?.(`its journal storage failed: ${broken.message}`)
  }

  /** Runs a lifecycle hook as a journaled turn; a throw fails it. */
  private async lifecycleTurn(activation: Activation, hook: () => unknown, name: string): Promise<void> {
    const requestId = `~${name}:${this.id}:${this.view.epoch}:${activation.log?.seq ?? 0}`
    const turn = activation.write(hook, [], requestId, this.placement.view.epoch, name)
    const outcome = await this.within(turn, this.limits.lifecycleTimeoutMs)
    if (outcome === undefined) {
      const error = new TroupeError('ActivationFailed', `${activation.key}: on${name[0]!.toUpperCase()}${name.slice(1)} did not settle within ${this.limits.lifecycleTimeoutMs} ms`, { actor: activation.key })
      // A hook that settles later journals nothing (a new activation's log may own the key's
      // journal by then); the turns before it keep their records, and its timers stop.
      activation.abandon(requestId)
      this.timers.end(activation)
      this.hookTimeouts.add(error)
      throw error
    }
    if (!outcome.ok) throw TroupeError.from(outcome.error)
    await outcome.gate
  }

  private activationFailed(activation: Activation, error: unknown): void {
    activation.status = 'gone'
    if (this.activations.get(activation.key) === activation) this.activations.delete(activation.key)
    const cause = serializeThrown(error, activation.key)
    // A full disk is no failure of the actor's: its calls hear StorageFull (nothing ran), and the
    // activation supervisor does not count it (a host that gave up over it would hand its actors
    // to hosts whose disks are as full, one failover after another).
    const full = cause.kind === 'StorageFull'
    // A hook past its time is no crash either: a slow dependency would make every host give up in turn.
    const slow = this.hookTimeouts.has(error as object)
    const failure = new TroupeError(full ? 'StorageFull' : 'ActivationFailed', `${activation.key} failed to activate: ${cause.name ?? cause.kind}: ${cause.message}`, { actor: activation.key })
    // Fenced during recovery (a newer view exists): the calls never ran; redirect them.
    const moved = cause.kind === 'StaleEpoch'
    if (!moved) activation.failure = failure
    for (const job of activation.mailbox.drain()) job.reject(moved ? new TroupeError('HostUnavailable', failure.message, { actor: activation.key }) : failure)
    this.onEvent?.({ kind: 'deactivate', key: activation.key, host: this.id, epoch: this.view.epoch, atMs: this.clock.now() })
    if (moved || full || slow) return
    this.onEvent?.({ kind: 'activation-failed', key: activation.key, host: this.id, message: failure.message, atMs: this.clock.now() })
    // The next call restarts the activation; too many failures in the period escalate to the host's supervisor.
    const decision = this.activationSupervisor.childExited(activation.key, [activation.key], true, this.clock.now())
    if (decision.action === 'escalate') {
      this.onEvent?.({ kind: 'escalated', host: this.id, reason: decision.reason, atMs: this.clock.now() })
      this.onEscalate?.(`activations keep failing: ${decision.reason}`)
    }
  }

  private callFromTurn(activation: Activation, key: string, method: string, args: unknown[]): Promise<unknown> {
    // Pieces of `this.state` (drafts, read-only views) travel as plain copies of their value now:
    // proxies cannot be cloned, and a draft changes with what the turn does next.
    args = resolveDrafts(args) as unknown[]
    // Ids derive from the turn's id only while one write turn runs alone; interleaved turns
    // cannot tell whose call this is, so they use fresh ids.
    const alone = activation.mailbox.writing && activation.mailbox.running === 1 && activation.turnId !== ''
    // The calls of a turn run for a caller leave once its intent is journaled (see Activation.intend),
    // in the order the turn made them.
    const turn = activation.turnCall
    if (alone && activation.turnCalls === 0 && turn !== undefined) {
      const journaled = activation.intend(turn, this.placement.view.epoch)
      activation.turnIntent = journaled
      journaled?.then(() => { if (activation.turnIntent === journaled) activation.turnIntent = undefined }, () => undefined)
    }
    const intent = alone ? activation.turnIntent : undefined
    // Checked and copied now, whenever the call leaves (the first call of a turn, once its intent
    // is journaled): it carries its arguments as they are at the call.
    try {
      args = this.caller.prepare(key, method, args)
    } catch (error) {
      return Promise.reject(error)
    }
    const requestId = alone ? derivedRequestId(activation.turnId, activation.turnCalls++) : undefined
    // Refused here, not dropped as malformed where it arrives (and resent for ever).
    if (requestId !== undefined && requestId.length > idLengthMax) {
      return Promise.reject(new TroupeError('InvalidArgument', `${activation.key} cannot call ${key}: the call chain is too deep (its request id would exceed ${idLengthMax} characters)`, { actor: activation.key }))
    }
    const waiting = activation.waitingOn
    waiting.set(key, (waiting.get(key) ?? 0) + 1)
    const settled = (): void => {
      const left = waiting.get(key)! - 1
      if (left === 0) waiting.delete(key)
      else waiting.set(key, left)
    }
    const send = (): Promise<unknown> => this.caller.callPrepared(key, method, args, requestId === undefined ? { chain: activation.chain } : { chain: activation.chain, requestId, persistent: true })
    const pending = intent ? intent.then(send) : send()
    pending.then(settled, settled)
    return pending
  }

  /** The view changed and this host is still primary: new backups get the whole actor at once. */
  private retarget(activation: Activation): void {
    const log = activation.log
    if (!log || this.levelOf(activation.type) === 'memory') return
    const before = new Set(log.currentBackups)
    const backups = this.backupsOf(activation.key)
    log.retarget(ackRule(this.levelOf(activation.type), backups.length), backups)
    // An idle actor's new backups catch up after `replicationRetryMs` (the log's retry resyncs a
    // lagging backup), so a failover's redirected calls are not queued behind a snapshot per actor.
    if (log.pendingCount === 0) return
    for (const backup of backups) if (!before.has(backup)) this.ship(backup, activation.key, [], activation)
  }

  /** Drops an activation that is no longer primary here; callers waiting on its records are redirected. */
  private stepDown(activation: Activation, why: string, kind: 'StaleEpoch' | 'HostUnavailable' = 'HostUnavailable'): void {
    if (this.activations.get(activation.key) === activation) this.activations.delete(activation.key)
    activation.status = 'gone'
    this.timers.end(activation)
    // From now on this host's copy is what its journal holds: no warm copy from before may stand in for it.
    this.replicas.drop(activation.key)
    activation.log?.fail(new TroupeError(kind, `${activation.key} stepped down on ${this.id}: ${why}`, { actor: activation.key }))
    for (const job of activation.mailbox.drain()) job.reject(new TroupeError('HostUnavailable', `${activation.key} moved`, { actor: activation.key }))
    this.onEvent?.({ kind: 'deactivate', key: activation.key, host: this.id, epoch: this.view.epoch, atMs: this.clock.now() })
  }

  private passivate(activation: Activation): Promise<void> {
    if (activation.status === 'deactivating' || activation.status === 'gone') return this.deactivations.get(activation.key) ?? Promise.resolve()
    activation.status = 'deactivating'
    this.timers.end(activation)
    if (this.activations.get(activation.key) === activation) this.activations.delete(activation.key)
    this.leaving.set(activation.key, activation)
    const done = (async () => {
      const hook = activation.instance.onDeactivate
      try {
        if (hook) await this.lifecycleTurn(activation, hook, 'deactivate')
      } catch {
        // A failing onDeactivate must not lose the state: what is committed is kept all the same.
      }
      if (this.levelOf(activation.type) === 'memory') await this.store.save(activation.key, activation.committed)
      else await activation.log?.whenDurable(activation.log.seq)?.catch(() => undefined)
    })().finally(() => {
      activation.status = 'gone'
      activation.log?.retire()
      if (this.leaving.get(activation.key) === activation) this.leaving.delete(activation.key)
      if (this.deactivations.get(activation.key) === done) this.deactivations.delete(activation.key)
      this.counters.passivationsTotal++
      this.onEvent?.({ kind: 'deactivate', key: activation.key, host: this.id, epoch: this.view.epoch, atMs: this.clock.now() })
      // Reminders set by onDeactivate (or a turn that ended meanwhile) must fire though nobody calls.
      if (activation.reminders.size > 0 && !this.stopped && this.placement.primary(activation.key) === this.id) {
        void this.caller.call(activation.key, wakeMethod, []).catch(() => undefined)
      }
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
        const early = buggify('host.passivate-early') // a simulation may passivate an idle actor at any time
        if (activation.status !== 'active' || !activation.mailbox.idle) continue
        // An unfinished turn (it failed with an unknown outcome, and nobody retried it) runs again
        // as soon as nothing else is queued, without waiting for the idle timeout: a busy actor
        // would otherwise never finish it. (A turn whose method is gone, or no longer a write,
        // cannot run: it does not pin the actor.)
        if (activation.hasUnfinishedTurns && this.finishUnfinishedTurns(activation) > 0) continue
        // An idle actor with durable reminders stays active so they fire on time.
        if ((activation.lastUsedMs > cutoff && !early) || activation.reminders.size > 0) continue
        void this.passivate(activation)
      }
      this.replicas.dropIdle()
      void this.tidyJournal()
      this.armIdleSweep()
    }, interval)
  }

  /**
   * Writes again, whole, the idle actors whose entries keep the journal's oldest space from being
   * reclaimed (see `JournalStorage.keysHoldingOldest`), a few at a time. Active ones are left to
   * their logs' snapshots (they passivate once idle). One run at a time.
   */
  private async tidyJournal(): Promise<void> {
    if (this.tidying || this.storage.keysHoldingOldest === undefined) return
    this.tidying = true
    try {
      for (const key of this.storage.keysHoldingOldest(tidyKeysMax)) {
        if (this.stopped) return
        if (this.activations.has(key) || this.leaving.has(key) || this.refills.has(key)) continue
        await this.replicas.rewrite(key)
      }
    } finally {
      this.tidying = false
    }
  }
}

/** An idle actor's copy on its way to owners that must hold it (see `Host.refill`). */
interface Refill {
  /** The copy's seq: an owner that acknowledges at least this much holds it. */
  seq: number
  /** The view it is sent in. */
  epoch: number
  waiting: Set<HostId>
  timer: TimerHandle | undefined
  /** Resolves when the refill ends: every owner acknowledged (true), it gave up, or another took its place. */
  ended: Promise<boolean>
  /** `acked`: every owner acknowledged the copy. */
  end: (acked: boolean) => void
}

/** For how many views after a host says it came back without its disk its peers offer it copies (see `Host.forgetful`). */
const forgetfulViews = 2

/** How many views whose re-replication did not complete a host remembers (see `Host.setView`). */
const viewsNotReplicatedMax = 32

/** Actors `tidyJournal` writes again per idle sweep at most. */
const tidyKeysMax = 4096

/** How many times `Host.refill` sends a copy to an owner that does not acknowledge it. */
const refillRounds = 8

/** The longest wait between two of them, in `replicationRetryMs` (so the rounds span about 8 s by default). */
const refillBackoffMax = 8

/**
 * How many times a host back without its disk announces it (see `Host.announceRejoined`): with
 * three, all three were lost on a link dropping 29% of messages (full seed 2312), and the host
 * stayed empty of an actor whose other copies were then lost.
 */
const rejoinedAnnouncements = 6

/** Thrown by `Host.load` when its activation stepped down before it loaded. */
const abandonedLoad = new Error('activation stepped down while loading')

/** The method name a backup calls to wake an actor with reminders on its primary (not a user method: `~` prefix). */
export const wakeMethod = '~wake'

/** True when a call to `method` would queue behind the turn that is (transitively) waiting on it. */

function sameHosts(a: View, b: View): boolean {
  return a.hosts.length === b.hosts.length && a.hosts.every((h, i) => h === b.hosts[i])
}
