import type { CallEnvelope, Envelope, RedirectEnvelope, ReplyEnvelope } from '../transport/envelope.ts'
import type { PeerId } from '../transport/transport.ts'
import type { Clock, TimerHandle } from './clock.ts'
import type { Consistency } from './durability/consistency.ts'
import { isTroupeError, TroupeError } from './errors.ts'
import type { Limits } from './limits.ts'
import { checkPayload, copyArguments } from './payload.ts'
import { buggify } from './buggify.ts'
import type { HostId, View } from './view.ts'

/** What a caller needs to know about placement. */
export interface Router {
  /** The primary of `key` in the newest known view. */
  primary(key: string): HostId | undefined
  /** A backup of `key` that may answer stale reads (undefined: none, use the primary). */
  backup?(key: string): HostId | undefined
  /** The newest known view's epoch. */
  epoch(): number
  /** Adopts a newer view (from a redirect); returns false when it is not newer. */
  adopt(view: View): boolean
}

export interface CallOptions {
  /** Reuse this request id (a retry of an earlier call); default: a fresh one. */
  requestId?: string
  /** Keys of the turns waiting on this call, outermost first. */
  chain?: string[]
  /** Overrides `limits.callTimeoutMs` for this call. */
  timeoutMs?: number
  /** Let a backup answer this read-only call from its warm replica (it may be behind the primary). */
  stale?: boolean
  /** When the reply may be released, instead of the actor type's level (see `Consistency`). */
  consistency?: Consistency
  /**
   * Never give up on an unknown outcome (timeout, redirects, a lost link): keep resending the same
   * request id until a definite answer. For calls a turn makes with derived ids: the callee answers
   * a repeat from its journal, so the turn never fails on "maybe", which it could not undo.
   */
  persistent?: boolean
}

interface Settler {
  readonly resolve: (value: unknown) => void
  readonly reject: (error: Error) => void
  /** Called when the call it follows settles (a follower's own timer is cleared). */
  settled?: () => void
}

/** One call in flight: plain fields, no closure per call (a client makes hundreds of thousands a second). */
interface Pending extends Settler {
  readonly envelope: CallEnvelope
  /** The sweep tick at which the call times out (no clock read per call). */
  readonly expiresTick: number
  redirects: number
  /** The host the call was last sent to. */
  to: PeerId | undefined
  /** The sweep tick at which the call is sent again (same id), and the current backoff in ticks. */
  resendTick: number
  backoffTicks: number
  /** Keep resending until a definite answer (see `CallOptions.persistent`). */
  readonly persistent: boolean
  /** Later calls with the same request id, answered with this one (made on the first such call). */
  followers: Settler[] | undefined
  /** The timer of a call given its own `timeoutMs`, cleared when it settles. */
  deadline: { clock: Clock; timer: TimerHandle } | undefined
}

function resolveEntry(entry: Pending, value: unknown): void {
  if (entry.deadline) entry.deadline.clock.clearTimeout(entry.deadline.timer)
  entry.resolve(value)
  if (entry.followers) for (const f of entry.followers) { f.settled?.(); f.resolve(value) }
}

function rejectEntry(entry: Pending, error: Error): void {
  if (entry.deadline) entry.deadline.clock.clearTimeout(entry.deadline.timer)
  entry.reject(error)
  if (entry.followers) for (const f of entry.followers) { f.settled?.(); f.reject(error) }
}

export interface CallerOptions {
  self: PeerId
  /** Prefix of this caller's request ids; unique per caller incarnation. */
  idPrefix: string
  clock: Clock
  limits: Limits
  router: Router
  /** Sends an envelope to a peer (the transport, or a local shortcut when `to` is self). */
  send(to: PeerId, envelope: Envelope): void
}

/**
 * Sends calls and matches replies: one pending entry per request id, a deadline per call
 * checked by one sweeping timer (not one timer per call), redirects followed with the same
 * request id so a retried call takes effect once.
 */
export class Caller {
  private readonly options: CallerOptions
  private readonly pending = new Map<string, Pending>()
  private sequence = 0
  private sweepTimer: TimerHandle | undefined
  private stoppedWith: TroupeError | undefined
  /** Sweeps so far; deadlines are counted in sweeps of `sweepIntervalMs`. */
  private tick = 0
  private readonly sweepIntervalMs: number
  /** A call's first resend comes this many sweeps after it was sent (`callRetryMs`). */
  private readonly backoffTicks: number

  constructor(options: CallerOptions) {
    this.options = options
    // A timeout fires between its deadline and one interval later.
    this.sweepIntervalMs = Math.max(1, Math.min(1000, Math.ceil(options.limits.callTimeoutMs / 8)))
    this.backoffTicks = Math.max(1, Math.ceil(options.limits.callRetryMs / this.sweepIntervalMs))
  }

  /** Calls `method` on the actor `key`; resolves with its result or rejects with a TroupeError. */
  call(key: string, method: string, args: unknown[], options: CallOptions = {}): Promise<unknown> {
    if (this.stoppedWith) return Promise.reject(this.stoppedWith)
    let prepared: unknown[]
    try {
      prepared = this.prepare(key, method, args)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.callPrepared(key, method, prepared, options)
  }

  /**
   * The arguments as they are now, checked and copied: the caller may change its objects before
   * the call leaves (a burst is sent at the end of the tick, a turn's first call once its intent
   * is journaled) or before a resend. Throws `Unserializable` or `PayloadTooLarge`.
   */
  prepare(key: string, method: string, args: unknown[]): unknown[] {
    const { limits } = this.options
    try {
      checkPayload(args, limits.payloadBytesMax, limits.payloadDepthMax, 'arguments', key, method)
      return copyArguments(args)
    } catch (error) {
      throw isTroupeError(error) ? error : new TroupeError('Unserializable', `the arguments of ${key}.${method} cannot be sent: ${String((error as Error | null)?.message ?? error)}`, { actor: key })
    }
  }

  /** `call` with arguments `prepare` returned (not copied again). */
  callPrepared(key: string, method: string, args: unknown[], options: CallOptions = {}): Promise<unknown> {
    if (this.stoppedWith) return Promise.reject(this.stoppedWith)
    const { limits } = this.options
    const id = options.requestId ?? `${this.options.idPrefix}:${(this.sequence++).toString(36)}`
    const envelope: CallEnvelope = { v: 1, t: 'call', id, epoch: this.options.router.epoch(), key, method, args }
    if (options.chain && options.chain.length > 0) envelope.chain = options.chain
    if (options.stale) envelope.stale = true
    if (options.consistency !== undefined) envelope.consistency = options.consistency
    const timeoutMs = options.timeoutMs ?? limits.callTimeoutMs
    // Only a given id can be in flight already (a fresh one is unique to this caller).
    const already = options.requestId === undefined ? undefined : this.pending.get(id)
    if (already) {
      // Replies carry the id alone, so one id can be one call in flight only. The same id to
      // another actor (another request) or at another level (another answer) is refused while
      // it is: joined, it got the first call's answer (a write to the second actor was answered
      // and never applied); queued behind it, a late reply to the first would answer it.
      const same = already.envelope.key === key && already.envelope.consistency === envelope.consistency && already.envelope.stale === envelope.stale
      if (!same) {
        return Promise.reject(new TroupeError('InvalidArgument', `request id ${JSON.stringify(id)} is in flight to ${already.envelope.key}${already.envelope.key === key ? ' at another consistency level' : ''}: one id is one request; wait for its answer, or use another id`, { actor: key }))
      }
      return this.follow(already, envelope, options.timeoutMs === undefined || options.persistent ? undefined : timeoutMs)
    }
    return new Promise((resolve, reject) => {
      // +1: the sweep in progress may fire at once, so count only whole intervals after it.
      const expiresTick = this.tick + 1 + Math.ceil(timeoutMs / this.sweepIntervalMs)
      const backoffTicks = this.backoffTicks
      const entry: Pending = {
        envelope, resolve, reject, expiresTick, redirects: 0, to: undefined, resendTick: this.tick + 1 + backoffTicks, backoffTicks,
        persistent: options.persistent ?? false, followers: undefined, deadline: undefined,
      }
      this.pending.set(id, entry)
      this.armSweep()
      // A call given its own timeout gets a timer of its own: counted in sweeps (up to a second
      // each), a 50 ms timeout waited one to two seconds, and a 4 s one up to 5. Calls on the
      // cluster's default (most of them) stay on the sweep: no timer per call.
      if (options.timeoutMs !== undefined && !entry.persistent) {
        const clock = this.options.clock
        entry.deadline = { clock, timer: clock.setTimeout(() => { if (this.pending.get(id) === entry) this.expire(id, entry) }, timeoutMs) }
      }
      this.dispatch(entry)
    })
  }

  /**
   * The same request again (a turn re-run after a failover repeats its derived ids): shares the
   * answer of the call in flight, within `timeoutMs` of its own if it has one.
   */
  private follow(entry: Pending, envelope: CallEnvelope, timeoutMs: number | undefined): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const follower: Settler = { resolve, reject }
      ;(entry.followers ??= []).push(follower)
      if (timeoutMs === undefined) return
      const clock = this.options.clock
      const timer = clock.setTimeout(() => {
        const at = entry.followers?.indexOf(follower) ?? -1
        if (at < 0) return
        entry.followers!.splice(at, 1)
        reject(new TroupeError('CallTimeout', `${envelope.key}.${envelope.method} got no reply in time`, { actor: envelope.key }))
      }, timeoutMs)
      follower.settled = () => clock.clearTimeout(timer)
    })
  }

  /** Fails a call that got no definite answer in time. */
  private expire(id: string, entry: Pending): void {
    this.pending.delete(id)
    rejectEntry(entry, new TroupeError('CallTimeout', `${entry.envelope.key}.${entry.envelope.method} got no reply in time`, { actor: entry.envelope.key }))
  }

  /** Handles a reply or redirect addressed to this caller; returns false if it was not ours. */
  receive(envelope: ReplyEnvelope | RedirectEnvelope): boolean {
    const entry = this.pending.get(envelope.id)
    if (!entry) return false // a late or duplicate reply: the call already settled
    if (envelope.t === 'redirect') {
      this.options.router.adopt(envelope.view)
      this.redirect(entry)
      return true
    }
    this.pending.delete(envelope.id)
    if (envelope.ok) resolveEntry(entry, envelope.value)
    else rejectEntry(entry, TroupeError.from(envelope.error))
    return true
  }

  /** A call could not be sent (peer gone, unserializable); fails it. */
  undeliverable(envelope: Envelope, error: TroupeError): void {
    if (envelope.t !== 'call') return
    const entry = this.pending.get(envelope.id)
    if (!entry) return
    if (entry.persistent && error.kind === 'HostUnavailable') return // resent later, or on the next view
    this.pending.delete(envelope.id)
    rejectEntry(entry, error)
  }

  /**
   * The view changed: re-sends (same request id) every pending call whose primary moved, so a
   * call waiting on a host that died goes to the new primary, which answers it from its journal
   * if it already ran.
   */
  viewChanged(): void {
    for (const entry of [...this.pending.values()]) {
      if (entry.envelope.stale || this.options.router.primary(entry.envelope.key) === entry.to) continue
      entry.envelope.epoch = this.options.router.epoch()
      this.dispatch(entry)
    }
  }

  /** Calls in flight. */
  get inFlight(): number {
    return this.pending.size
  }

  /** Fails every pending call and refuses new ones. */
  stop(error: TroupeError): void {
    this.stoppedWith = error
    if (this.sweepTimer !== undefined) this.options.clock.clearTimeout(this.sweepTimer)
    this.sweepTimer = undefined
    const entries = [...this.pending.values()]
    this.pending.clear()
    for (const entry of entries) rejectEntry(entry, error)
  }

  private redirect(entry: Pending): void {
    entry.redirects++
    if (entry.redirects > this.options.limits.redirectsMax && entry.persistent) {
      // Views are in flux: wait for the next resend instead of bouncing now.
      entry.redirects = 0
      delete entry.envelope.stale
      return
    }
    if (entry.redirects > this.options.limits.redirectsMax) {
      this.pending.delete(entry.envelope.id)
      rejectEntry(entry, new TroupeError('HostUnavailable', `${entry.envelope.key}: gave up after ${entry.redirects - 1} redirects`, { actor: entry.envelope.key }))
      return
    }
    entry.envelope.epoch = this.options.router.epoch()
    // A backup that cannot answer a stale read sends it on to the primary.
    delete entry.envelope.stale
    this.dispatch(entry)
  }

  private dispatch(entry: Pending): void {
    const { envelope } = entry
    const router = this.options.router
    const to = (envelope.stale ? router.backup?.(envelope.key) : undefined) ?? router.primary(envelope.key)
    if (to === undefined) {
      if (entry.persistent) return // no host now: the next resend or view tries again
      this.pending.delete(envelope.id)
      rejectEntry(entry, new TroupeError('HostUnavailable', 'the cluster has no hosts', { actor: envelope.key }))
      return
    }
    entry.to = to
    this.options.send(to, envelope)
  }

  private armSweep(): void {
    if (this.sweepTimer !== undefined) return
    this.sweepTimer = this.options.clock.setTimeout(this.sweep, this.sweepIntervalMs)
  }

  private readonly sweep = (): void => {
    this.sweepTimer = undefined
    const tick = ++this.tick
    for (const [id, entry] of [...this.pending]) {
      if (entry.expiresTick <= tick && !entry.persistent) {
        this.expire(id, entry)
      } else if (entry.resendTick <= tick || buggify('caller.resend-early')) {
        if (entry.persistent) entry.backoffTicks = Math.min(entry.backoffTicks, Math.max(1, Math.ceil(this.options.limits.callTimeoutMs / this.sweepIntervalMs)))
        // The call or its reply may have been lost: send it again; the primary answers a repeat once.
        entry.backoffTicks *= 2
        entry.resendTick = tick + entry.backoffTicks
        entry.envelope.epoch = this.options.router.epoch()
        this.dispatch(entry)
      }
    }
    if (this.pending.size > 0 && !this.stoppedWith) this.armSweep()
  }
}
