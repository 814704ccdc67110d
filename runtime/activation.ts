import { actorContext, type Actor, type ActorContext, type ActorHooks, type TimerRef } from '../actors/actor.ts'
import type { TimerHandle } from './clock.ts'
import type { ActorLog } from './durability/actor-log.ts'
import type { Consistency } from './durability/consistency.ts'
import { intentTag, isTurnIntent, type TurnIntent } from './durability/request-table.ts'
import { applyReminderOps, reminderOp, type ReminderSpec, type ReminderTable } from './durability/reminders.ts'
import { TroupeError, type SerializedError } from './errors.ts'
import { serializeThrown } from './thrown.ts'
import { isDerived, turnIdOf } from './request-id.ts'
import type { Limits } from './limits.ts'
import { Mailbox } from './mailbox.ts'
import { answerOf } from './answer.ts'
import type { ActorType, MethodEntry } from './registry.ts'
import { beginTurn, readOnlyView, type PatchOp, type StateTurn } from './state/index.ts'

/** The lifecycle of one activation. */
export type ActivationStatus = 'activating' | 'active' | 'deactivating' | 'gone'

/** How a turn ended: a value (released once `gate` settles) or an error (nothing journaled). */
export type TurnOutcome =
  | { ok: true; value: unknown; gate: Promise<void> | undefined }
  | { ok: false; error: SerializedError; gate?: Promise<void> | undefined }

/**
 * Errors after which nobody knows whether a nested call took effect: none is an answer from the
 * callee's journal (an activation that failed to load, or a full mailbox, says nothing of an
 * earlier copy of the same request id, which may have run). A storage error too: the primary
 * ships a record to its backups as it writes its own copy, so a record its disk refused may
 * still be held by a backup, and come back with the next activation.
 */
const outcomeUnknown: ReadonlySet<string> = new Set(['CallTimeout', 'HostUnavailable', 'ClusterStopped', 'StaleEpoch', 'ActivationFailed', 'MailboxFull', 'StorageFull', 'StorageFailed'])

/** Unknown-outcome errors that read as definite to a caller: a turn that will run again answers HostUnavailable instead. */
const readsAsDefinite: ReadonlySet<string> = new Set(['ActivationFailed', 'MailboxFull', 'StorageFull', 'StorageFailed'])

/** How a journal record says its turn failed: the request id then answers this error on every retry. */
const failureTag = '~troupe.failed'

interface RecordedFailure {
  [failureTag]: true
  error: SerializedError
}

function isRecordedFailure(result: unknown): result is RecordedFailure {
  return typeof result === 'object' && result !== null && (result as Record<string, unknown>)[failureTag] === true
}

/**
 * The one live instance of an actor on its primary host: its mailbox, its committed state and
 * its journal. A write turn runs against a change-tracking draft of the state; if it throws,
 * the draft is dropped and nothing is journaled; if it returns, its patch becomes the next
 * journal record and its result waits behind the output gate.
 */
export class Activation {
  readonly key: string
  readonly type: ActorType
  readonly instance: Actor<unknown> & ActorHooks
  /** What the actor's constructor threw (the instance is then a bare one): the load fails with it, the host keeps serving. */
  readonly constructionError: unknown
  readonly mailbox: Mailbox
  status: ActivationStatus = 'activating'
  lastUsedMs: number
  /** The chain of the call the write turn running now serves (keys outermost first); undefined: a call from outside. */
  private callerChain: string[] | undefined
  /** `chain`, once a turn asked for it. */
  private chainOfTurn: string[] | undefined
  /** What the running write turn's call ids derive from ('' : fresh ids), and how many calls it has made. */
  turnId = ''
  /** The write turn given up on while it ran (see `abandon`). */
  private abandoned: string | undefined
  turnCalls = 0
  /** The running turn's intent while it is being journaled: its calls wait for it, in order. */
  turnIntent: Promise<void> | undefined
  /** The call whose write turn runs now; undefined for reminder and timer turns (they journal no intent). */
  turnCall: { id: string; method: string; args: unknown[]; chain?: string[] } | undefined
  /**
   * How long the next re-run of a turn that ended with an unknown outcome waits (doubles per
   * attempt, reset when a turn ends definitely): its callee may be down for a while.
   */
  rerunDelayMs = 0
  /** Actors this activation's turns are waiting on now, with how many calls to each. */
  readonly waitingOn = new Map<string, number>()
  /** Set when activation failed: calls that reach this instance get this error. */
  failure: TroupeError | undefined
  /** The state as of the last committed turn. */
  committed: unknown
  /** While a write turn runs: its state (its draft, or what it assigned to `this.state`). */
  private writing = false
  /** Read-only or reentrant methods whose code is running now (synchronously; see `state`). */
  private reading = 0
  private writeState: unknown
  /** The read-only view of `committed` last handed out, and the state it views. */
  private view: { of: unknown; view: unknown } | undefined
  /** The journal (at the `memory` level: only turn numbers and request ids, in memory). */
  log: ActorLog | undefined
  /** Calls queued or running, by request id, with who waits for the answer (one peer, or several when duplicates attach). */
  readonly inFlight = new Map<string, string | string[]>()
  /** The timer of the next due reminder, and the in-memory timers set with `setTimer`. */
  reminderTimer: TimerHandle | undefined
  readonly timers = new Set<TimerRef>()
  /** Durable reminders, as of the last committed turn. */
  reminders: ReminderTable = new Map()
  /** Called when a committed turn changed the reminders (the host schedules the next one due). */
  remindersChanged: (() => void) | undefined
  /** Reminder changes of the write turn running now (journaled with it, dropped if it throws). */
  private reminderOps: PatchOp[] | undefined
  private readonly limits: Limits

  constructor(key: string, type: ActorType, context: ActorContext, limits: Limits, nowMs: number) {
    this.key = key
    this.type = type
    this.limits = limits
    const made = instanceOf(type)
    this.instance = made.instance
    this.constructionError = made.error
    this.instance[actorContext] = context
    // `this.state`: the running write turn's draft, else a read-only view of the committed state,
    // made when a read first asks for it (not after every write: a proxy per write doubled a
    // host's cost per call). Assigning outside a write turn throws, as changing the view does.
    // A @reentrant method that starts while a write turn awaits sees a read-only view of that
    // turn's draft: a change it made there would be answered as done, then be lost with the turn
    // (or journaled as the turn's). Only while its own code runs, though: after an `await`,
    // nothing tells whose code reads `this.state` (JavaScript has no async context).
    Object.defineProperty(this.instance, 'state', {
      configurable: true,
      enumerable: true,
      get: () => (!this.writing ? this.committedView() : this.reading > 0 ? readOnlyView(this.writeState) : this.writeState),
      set: (value: unknown) => {
        if (!this.writing || this.reading > 0) throw new TypeError(`this.state is read-only here (a @readOnly or @reentrant method journals nothing, so its change would be lost): cannot replace it`)
        this.writeState = value
      },
    })
    this.mailbox = new Mailbox(limits.mailboxDepthMax)
    this.lastUsedMs = nowMs
  }

  /** A write turn starts for a call with this chain. */
  setCaller(chain: string[] | undefined): void {
    this.callerChain = chain
    this.chainOfTurn = undefined
  }

  /** The call chain of the write turn running now (keys outermost first, ending with this key); built when a turn makes a call. */
  get chain(): string[] {
    return this.chainOfTurn ??= this.callerChain ? [...this.callerChain, this.key] : [this.key]
  }

  /** Sets the state the first turn starts from (from the journal, a warm replica, or initialState). */
  start(state: unknown, log: ActorLog | undefined, reminders: ReminderTable = new Map()): void {
    this.committed = state
    this.log = log
    this.reminders = reminders
  }

  /** Reminder names as the running turn sees them (its own changes included). */
  reminderNames(): string[] {
    const names = new Set(this.reminders.keys())
    for (const op of this.reminderOps ?? []) {
      if (op.op === 'set') names.add(op.path[1] as string)
      else names.delete(op.path[1] as string)
    }
    return [...names]
  }

  /**
   * The ids of the calls the write turn `requestId` makes derive from it, so a repeat of the turn
   * repeats them. A request id is unique only within its actor (a caller may send `order-1` to
   * two accounts, and the runtime's own turn ids, `~…`, repeat across actors), so they get this
   * actor's key: two actors' turns never derive the same id (see `turnIdOf`). An id derived
   * already names its caller's key, and goes to this actor alone: kept as it is, so ids grow by a
   * few characters per hop of a call chain, not by a key. An in-memory
   * timer's turn never repeats (nor do its ids outlive a host): its calls take fresh ids.
   */
  private startCalls(requestId: string): void {
    this.turnId = requestId.startsWith('~timer:') ? '' : isDerived(requestId) ? requestId : turnIdOf(this.key, requestId)
    this.turnCalls = 0
  }

  /** Records a reminder change in the write turn running now. */
  changeReminder(name: string, spec: ReminderSpec | undefined): void {
    if (!this.reminderOps) throw new TroupeError('InvalidArgument', `${this.key}: reminders change only inside a write turn`)
    this.reminderOps.push(reminderOp(name, spec))
  }

  /** The recorded answer to a request id this actor already ran, if it remembers it. */
  recorded(requestId: string, level?: Consistency): TurnOutcome | undefined {
    const entry = this.log?.requests.get(requestId)
    // An intent is not an answer: the turn has to run (again) to have one.
    if (!entry || isTurnIntent(entry.result)) return undefined
    const gate = this.log!.whenDurable(entry.seq, level)
    if (isRecordedFailure(entry.result)) return { ok: false, error: entry.result.error, gate }
    return { ok: true, value: entry.result, gate }
  }

  /**
   * Runs a write turn: tracked, atomic, journaled. `source` names what returns the result in an
   * error about it (`the result of ${key}.${source}`): the method, or the hook or timer.
   */
  write(fn: (...args: unknown[]) => unknown, args: unknown[], requestId: string, epoch: number, source: string, level?: Consistency): TurnOutcome | Promise<TurnOutcome> {
    this.startCalls(requestId)
    const base = this.committed
    const turn = beginTurn(base)
    const draft = turn.draft
    this.writing = true
    this.writeState = draft
    this.reminderOps = []
    let result: unknown
    try {
      result = fn.apply(this.instance, args)
    } catch (thrown) {
      return this.abort(turn, thrown, base, requestId, epoch, level)
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then((value) => this.finish(turn, draft, base, value, requestId, epoch, source, level), (thrown) => this.abort(turn, thrown, base, requestId, epoch, level))
    }
    return this.finish(turn, draft, base, result, requestId, epoch, source, level)
  }

  /** A read-only view of the committed state (one per committed state, made when first asked). */
  private committedView(): unknown {
    let view = this.view
    if (view === undefined || view.of !== this.committed) view = this.view = { of: this.committed, view: readOnlyView(this.committed) }
    return view.view
  }

  /** Runs a read-only or reentrant turn: it sees the state as it is and journals nothing. */
  read(method: MethodEntry, args: unknown[], source: string, level?: Consistency): TurnOutcome | Promise<TurnOutcome> {
    let result: unknown
    this.reading++
    try {
      result = method.fn.apply(this.instance, args)
    } catch (thrown) {
      return { ok: false, error: serializeThrown(thrown, this.key) }
    } finally {
      this.reading--
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then((value) => this.released(value, source, level), (thrown) => ({ ok: false, error: serializeThrown(thrown, this.key) }))
    }
    return this.released(result, source, level)
  }

  /**
   * Gives up on the write turn `requestId` still running (a lifecycle hook past its time): when it
   * ends, its changes are discarded and nothing is journaled (see `finish`).
   */
  abandon(requestId: string): void {
    this.abandoned = requestId
  }

  private finish(turn: StateTurn<unknown>, draft: unknown, base: unknown, value: unknown, requestId: string, epoch: number, source: string, level?: Consistency): TurnOutcome {
    // `this.state = next` inside the turn replaced the draft.
    const current = this.writeState
    this.writing = false
    this.writeState = undefined
    if (this.abandoned === requestId) {
      this.abandoned = undefined
      if (turn.open) turn.rollback()
      this.reminderOps = undefined
      return { ok: false, error: { kind: 'ActivationFailed', message: `${this.key}: ${source} ended after it was given up; nothing it did is kept`, actor: this.key } }
    }
    if (current !== draft) turn.replace(current)
    let patch: PatchOp[] | undefined
    try {
      value = answerOf(value, this.limits, this.key, source)
      patch = turn.commit() as PatchOp[] | undefined
    } catch (error) {
      if (turn.open) turn.rollback()
      this.reminderOps = undefined
      return this.failed(serializeThrown(error, this.key), base, requestId, epoch, level)
    }
    this.committed = turn.state
    const reminderOps = this.reminderOps ?? []
    this.reminderOps = undefined
    if (reminderOps.length > 0) {
      applyReminderOps(this.reminders, reminderOps)
      patch = [...(patch ?? []), ...reminderOps]
      this.remindersChanged?.()
    }
    const log = this.log
    // A turn that journaled an intent journals its end even when it changed nothing, or it would
    // count as unfinished and run again on the next activation.
    if (log && (patch !== undefined || log.requests.isUnfinished(requestId))) journal(log, base, requestId, epoch, patch ?? [], value)
    return { ok: true, value, gate: log?.whenDurable(log.seq, level) }
  }

  private released(value: unknown, source: string, level?: Consistency): TurnOutcome {
    try {
      value = answerOf(value, this.limits, this.key, source)
    } catch (error) {
      return { ok: false, error: serializeThrown(error, this.key) }
    }
    return { ok: true, value, gate: this.log?.whenDurable(this.log.seq, level) }
  }

  private abort(turn: StateTurn<unknown>, thrown: unknown, base: unknown, requestId: string, epoch: number, level?: Consistency): TurnOutcome {
    if (turn.open) turn.rollback()
    this.writing = false
    this.writeState = undefined
    this.reminderOps = undefined
    return this.failed(serializeThrown(thrown, this.key), base, requestId, epoch, level)
  }

  /**
   * Journals that the write turn of `call`, running now, is about to call other actors (see
   * `isTurnIntent`); its calls leave once this is durable (undefined: at once).
   */
  intend(call: { id: string; method: string; args: unknown[]; chain?: string[] }, epoch: number): Promise<void> | undefined {
    const log = this.log
    if (!log) return undefined
    const intent: TurnIntent = { [intentTag]: true, method: call.method, args: call.args }
    if (call.chain) intent.chain = call.chain
    return log.whenDurable(journal(log, this.committed, call.id, epoch, [], intent))
  }

  /** The write turns this actor's journal says began calling other actors and never ended, oldest first. */
  unfinishedTurns(): Array<{ requestId: string; intent: TurnIntent }> {
    const requests = this.log?.requests
    return requests?.hasUnfinished ? requests.unfinished() : []
  }

  /** True when `requestId`'s turn began calling other actors and has not ended: it is not refused, only run (again). */
  isUnfinished(requestId: string): boolean {
    return this.log?.requests.isUnfinished(requestId) ?? false
  }

  /** True when the journal holds a turn that began calling other actors and never ended. */
  get hasUnfinishedTurns(): boolean {
    return this.log?.requests.hasUnfinished ?? false
  }

  /** A call refused before its turn ran (a call cycle): journaled as a failed turn of that request id. */
  refuse(error: SerializedError, requestId: string, epoch: number): TurnOutcome {
    return this.failed(error, this.committed, requestId, epoch)
  }

  /**
   * A write turn failed: nothing of it is kept, but its outcome is journaled (an empty patch and
   * the error), so a duplicate or a retry of the same request id gets the same error instead of
   * running again and perhaps succeeding. Lifecycle turns (ids starting with `~`) are not recorded.
   */
  private failed(error: SerializedError, base: unknown, requestId: string, epoch: number, level?: Consistency): TurnOutcome {
    const log = this.log
    // An error that leaves a nested call's outcome unknown is not an answer: a retry must run again
    // (its nested calls carry the same derived ids, so what did happen is not repeated).
    if (!log || requestId.startsWith('~')) return { ok: false, error }
    if (outcomeUnknown.has(error.kind)) {
      // A turn that began calling other actors stays unfinished and runs again later: its caller
      // must hear "unknown outcome, retry with the same id", not an error that reads as definite.
      if (log.requests.isUnfinished(requestId) && readsAsDefinite.has(error.kind)) {
        return { ok: false, error: { kind: 'HostUnavailable', message: `${this.key}: a call of this turn failed with ${error.kind}: ${error.message}; the turn will be run again (retry with the same request id)`, actor: this.key } }
      }
      return { ok: false, error }
    }
    const seq = journal(log, base, requestId, epoch, [], { [failureTag]: true, error } satisfies RecordedFailure)
    return { ok: false, error, gate: log.whenDurable(seq, level) }
  }
}

/**
 * Appends the next record of a turn that started from `base`; returns its seq. The first record
 * carries the whole state it started from (a journal replays without the class). Records take the
 * newest epoch the log has seen: a turn that began in an older view (its host stayed primary) may
 * end after a record of a newer one (a refusal, an intent).
 */
function journal(log: ActorLog, base: unknown, requestId: string, epoch: number, patch: PatchOp[], result: unknown): number {
  const seq = log.seq + 1
  const full = log.seq === 0 ? [{ op: 'set', path: [], value: base } as PatchOp, ...patch] : patch
  log.append({ seq, epoch: Math.max(epoch, log.epoch), requestId, patch: full, result })
  return seq
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

/**
 * A new instance of the actor's class, or what its constructor threw (with a bare instance in
 * its place). A `state` it set is refused: troupe gives each activation its state, so the value
 * would be dropped silently.
 */
export function instanceOf(type: ActorType): { instance: Actor<unknown> & ActorHooks; error?: unknown } {
  try {
    const instance = new type.actorClass() as Actor<unknown> & ActorHooks
    if (Object.hasOwn(instance, 'state') && (instance as { state?: unknown }).state !== undefined) {
      throw new TroupeError('InvalidArgument', `${type.name} sets this.state in its constructor or as a field: troupe gives each activation its state; return the initial state from initialState() instead`)
    }
    // A field named like a member of Actor (`actor = ...`, `id = ...`) replaces it, as a method would (refused at registration).
    for (const name of Object.keys(instance)) {
      if (name !== 'state' && type.baseMembers.has(name)) throw new TroupeError('InvalidArgument', `${type.name}.${name} (a field) replaces the Actor base class's own ${name} (troupe uses it): give it another name`)
    }
    return { instance }
  } catch (error) {
    // Never undefined: `throw undefined` is a failure too.
    const failure = error ?? new Error(`the ${type.name} constructor threw ${String(error)}`)
    return { instance: Object.create(type.actorClass.prototype) as Actor<unknown> & ActorHooks, error: failure }
  }
}
