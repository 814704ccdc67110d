import { TroupeError } from '../errors.ts'

/** Which children a supervisor restarts when one fails (Erlang/OTP). */
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one'

/** Whether a child is restarted: always, only after an abnormal exit, or never (Erlang/OTP). */
export type RestartType = 'permanent' | 'transient' | 'temporary'

/** How a supervisor restarts its children; every field documents its default. */
export interface SupervisionOptions {
  /** Default `one_for_one`: restart only the failed host. */
  strategy?: Strategy
  /** Most restarts allowed within `periodMs` before the supervisor gives up and escalates. Default 5. */
  intensity?: number
  /** The window for `intensity`, in ms. Default 5,000. */
  periodMs?: number
  /** Default `permanent`: a failed host is always replaced. */
  restart?: RestartType
  /**
   * How long after the failover (every host has the view without the failed host) its
   * replacement starts, in ms; a silenced host's worker is terminated at that moment too.
   * Default 50: starting or tearing down a worker takes a core for a while, and the backups
   * taking over the failed host's actors come first (a short backoff, as Akka's backoff supervisor).
   */
  restartDelayMs?: number
}

export type ResolvedSupervision = Required<SupervisionOptions>

export const defaultSupervision: Readonly<ResolvedSupervision> = Object.freeze({ strategy: 'one_for_one', intensity: 5, periodMs: 5000, restart: 'permanent', restartDelayMs: 50 })

/** Validates supervision options, or throws `InvalidArgument`. */
export function resolveSupervision(options: SupervisionOptions = {}): ResolvedSupervision {
  // A field given as undefined keeps its default, as elsewhere in the options.
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined))
  const out = { ...defaultSupervision, ...given } as ResolvedSupervision
  if (!['one_for_one', 'one_for_all', 'rest_for_one'].includes(out.strategy)) throw invalid(`supervision.strategy must be one_for_one, one_for_all or rest_for_one`)
  if (!['permanent', 'transient', 'temporary'].includes(out.restart)) throw invalid(`supervision.restart must be permanent, transient or temporary`)
  if (!Number.isInteger(out.intensity) || out.intensity < 0) throw invalid('supervision.intensity must be an integer >= 0')
  if (!Number.isInteger(out.periodMs) || out.periodMs <= 0) throw invalid('supervision.periodMs must be a positive integer')
  if (!Number.isInteger(out.restartDelayMs) || out.restartDelayMs < 0 || out.restartDelayMs > 60_000) throw invalid('supervision.restartDelayMs must be an integer from 0 to 60,000')
  return out
}

/** What the supervisor decides when a child fails. */
export type Decision =
  | { action: 'ignore' }
  | { action: 'restart'; children: string[] }
  | { action: 'escalate'; reason: string }

/**
 * The decision part of an OTP supervisor, free of any platform: which children to restart when
 * one exits, in start order, and when the restart intensity is spent, escalation instead.
 */
export class Supervisor {
  private readonly options: ResolvedSupervision
  private readonly restarts: number[] = []

  constructor(options: SupervisionOptions = {}) {
    this.options = resolveSupervision(options)
  }

  /**
   * A child exited. `children` are the live children in start order (the failed one included);
   * `abnormal` is false for a clean exit (code 0 and not killed).
   */
  childExited(child: string, children: readonly string[], abnormal: boolean, nowMs: number): Decision {
    const { restart, strategy, intensity, periodMs } = this.options
    if (restart === 'temporary' || (restart === 'transient' && !abnormal)) return { action: 'ignore' }
    while (this.restarts.length > 0 && this.restarts[0]! <= nowMs - periodMs) this.restarts.shift()
    if (this.restarts.length >= intensity) {
      return { action: 'escalate', reason: `more than ${intensity} restarts within ${periodMs} ms (last: ${child})` }
    }
    this.restarts.push(nowMs)
    const index = children.indexOf(child)
    switch (strategy) {
      case 'one_for_one': return { action: 'restart', children: [child] }
      case 'one_for_all': return { action: 'restart', children: [...children] }
      case 'rest_for_one': return { action: 'restart', children: index < 0 ? [child] : children.slice(index) }
    }
  }

  /** Restarts counted in the current window. */
  get recentRestarts(): number {
    return this.restarts.length
  }
}

function invalid(message: string): TroupeError {
  return new TroupeError('InvalidArgument', message)
}
