import type { TimerRef } from '../actors/actor.ts'
import { isThenable, type Activation, type TurnOutcome } from './activation.ts'
import type { Clock } from './clock.ts'
import type { ReminderSpec } from './durability/reminders.ts'
import { TroupeError } from './errors.ts'

/** What the timers of a host's activations need from it. */
export interface ActivationTimersPorts {
  clock: Clock
  /** The host's view epoch, for the records a tick journals. */
  epoch(): number
  /** Counts a reminder tick. */
  fired(): void
  /** A fresh request id for an in-memory timer's turn. */
  timerId(): string
}

/**
 * The clocks of activations: each active actor's next durable reminder (one timer per
 * activation) and the in-memory timers set with `setTimer`. Everything fires as a turn through
 * the actor's mailbox; everything dies with the activation (reminders themselves are durable).
 */
export class ActivationTimers {
  private readonly ports: ActivationTimersPorts

  constructor(ports: ActivationTimersPorts) {
    this.ports = ports
  }

  /** Wall-clock ms (reminders outlive any one process's monotonic clock). */
  wallNow(): number {
    return this.ports.clock.wallNow?.() ?? this.ports.clock.now()
  }

  /** Schedules the next due reminder of an active actor. */
  arm(activation: Activation): void {
    const { clock } = this.ports
    if (activation.reminderTimer !== undefined) clock.clearTimeout(activation.reminderTimer)
    activation.reminderTimer = undefined
    if (activation.status !== 'active' || activation.reminders.size === 0) return
    let next: [string, ReminderSpec] | undefined
    for (const entry of activation.reminders) if (!next || entry[1].dueAtMs < next[1].dueAtMs) next = entry
    const [name, spec] = next!
    activation.reminderTimer = clock.setTimeout(() => {
      activation.reminderTimer = undefined
      this.fire(activation, name, spec)
    }, Math.max(0, spec.dueAtMs - this.wallNow()))
  }

  /** Stops an activation's timers (when it is passivated, moved or dropped). */
  end(activation: Activation): void {
    if (activation.reminderTimer !== undefined) this.ports.clock.clearTimeout(activation.reminderTimer)
    activation.reminderTimer = undefined
    for (const timer of [...activation.timers]) timer.cancel()
  }

  /**
   * Runs a due reminder as a turn whose request id names the tick, so a tick re-run after a
   * failover is answered from the journal instead of firing twice. Missed ticks of a periodic
   * reminder coalesce into one; a one-shot reminder is removed. Whether the reminder is still
   * due, and when it is due next, are decided when the turn starts, not when the timer fired: a
   * turn queued before it may have forgotten or changed the reminder, or run past its next tick.
   */
  private fire(activation: Activation, name: string, spec: ReminderSpec): void {
    if (activation.status !== 'active' || activation.reminders.get(name) !== spec) return this.arm(activation)
    const requestId = `~tick:${name}:${spec.dueAtMs}`
    activation.mailbox.offer({
      mode: 'write',
      start: () => {
        if (activation.status !== 'active' || activation.reminders.get(name) !== spec) return void this.arm(activation)
        const now = this.wallNow()
        const next: ReminderSpec | undefined = spec.everyMs === undefined ? undefined
          : { dueAtMs: spec.dueAtMs + spec.everyMs * Math.max(1, Math.ceil((now - spec.dueAtMs) / spec.everyMs)), everyMs: spec.everyMs }
        const move = (): void => activation.changeReminder(name, next)
        const advance = (why: string): PromiseLike<unknown> | undefined => {
          const moved = activation.write(move, [], `~advance:${name}:${spec.dueAtMs}:${why}`, this.ports.epoch(), 'receiveReminder')
          if (isThenable(moved)) return moved.then((advanced) => { unawaited(advanced); this.arm(activation) })
          unawaited(moved)
          this.arm(activation)
          return undefined
        }
        // This very tick ran already (the reminder was set again to a due time that fired): it
        // moves on without firing twice, rather than be found due again at once, forever.
        if (activation.recorded(requestId)) return advance(this.ports.timerId())
        this.ports.fired()
        const tick = (): unknown => {
          move()
          return activation.instance.receiveReminder?.(name)
        }
        const done = (outcome: TurnOutcome): PromiseLike<unknown> | undefined => {
          unawaited(outcome)
          // A tick that threw still moves the reminder on (or it would fire again at once).
          if (!outcome.ok) return advance('failed')
          this.arm(activation)
          return undefined
        }
        const outcome = activation.write(tick, [], requestId, this.ports.epoch(), 'receiveReminder')
        return isThenable(outcome) ? outcome.then(done) : done(outcome)
      },
      reject: () => undefined,
    })
  }

  /** An in-memory timer: runs `fn` as a write turn after `ms`, unless cancelled or the activation ends. */
  setTimer(activation: Activation, fn: () => unknown, ms: number): TimerRef {
    if (typeof fn !== 'function' || typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new TroupeError('InvalidArgument', 'setTimer needs a function and a delay in ms >= 0')
    }
    const { clock } = this.ports
    let cancelled = false
    const handle = clock.setTimeout(() => {
      activation.timers.delete(ref)
      if (cancelled || activation.status !== 'active') return
      activation.mailbox.offer({
        mode: 'write',
        start: () => {
          const outcome = activation.write(fn, [], this.ports.timerId(), this.ports.epoch(), 'setTimer callback')
          if (isThenable(outcome)) return outcome.then(unawaited)
          unawaited(outcome)
          return undefined
        },
        reject: () => undefined,
      })
    }, ms)
    const ref: TimerRef = {
      cancel: () => {
        cancelled = true
        clock.clearTimeout(handle)
        activation.timers.delete(ref)
      },
    }
    activation.timers.add(ref)
    return ref
  }
}

/**
 * A timer's or a reminder's turn has no caller waiting on its output gate, and the gate fails
 * when the activation steps down (the view moved the actor, a backup fenced it): unheeded, that
 * rejection is an uncaught error that brings its host down, and a view change that moves actors
 * with reminders then brought every host down in turn.
 */
function unawaited(outcome: TurnOutcome): void {
  outcome.gate?.catch(() => undefined)
}
