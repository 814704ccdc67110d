import { TroupeError } from '../errors.ts'

/** Scale the number of hosts with the load, between `minHosts` and `maxHosts` (serverless: down when idle). */
export interface AutoscaleOptions {
  /** Fewest hosts kept up. Default 1. */
  minHosts?: number
  /** Most hosts started. Default 8. */
  maxHosts?: number
  /** Calls per second per host above which a host is added. Default 20,000. */
  scaleUpCallsPerHost?: number
  /** Calls per second per host below which a host is drained. Default 1,000. */
  scaleDownCallsPerHost?: number
  /** How often the load is sampled, in ms. Default 1,000. */
  intervalMs?: number
  /** How long after a scaling step the next may come, in ms. Default 5,000. */
  cooldownMs?: number
}

export type ResolvedAutoscale = Required<AutoscaleOptions>

const defaults: ResolvedAutoscale = Object.freeze({
  minHosts: 1, maxHosts: 8, scaleUpCallsPerHost: 20_000, scaleDownCallsPerHost: 1_000, intervalMs: 1_000, cooldownMs: 5_000,
})

/** Validates autoscale options, or throws `InvalidArgument`. */
export function resolveAutoscale(options: AutoscaleOptions, hostsMax: number): ResolvedAutoscale {
  if (typeof options !== 'object' || options === null) throw invalid('autoscale must be an object')
  const out = { ...defaults, ...options }
  const integer = (value: number, min: number, max: number, name: string): void => {
    if (!Number.isInteger(value) || value < min || value > max) throw invalid(`autoscale.${name} must be an integer from ${min} to ${max}`)
  }
  integer(out.minHosts, 1, hostsMax, 'minHosts')
  integer(out.maxHosts, out.minHosts, hostsMax, 'maxHosts')
  integer(out.scaleUpCallsPerHost, 1, 1e9, 'scaleUpCallsPerHost')
  integer(out.scaleDownCallsPerHost, 0, out.scaleUpCallsPerHost - 1, 'scaleDownCallsPerHost')
  integer(out.intervalMs, 10, 3_600_000, 'intervalMs')
  integer(out.cooldownMs, 0, 3_600_000, 'cooldownMs')
  return out
}

/** What the autoscaler does after one sample. */
export type ScaleDecision = { action: 'hold' } | { action: 'up' | 'down'; to: number; reason: string }

/**
 * The decision part of the autoscaler, free of any platform and clock: from the calls per second
 * the hosts served over the last interval, one host more, one host fewer, or nothing. One step at
 * a time, and none within `cooldownMs` of the last, so a join's own churn is not read as load.
 */
export class Autoscaler {
  private readonly options: ResolvedAutoscale
  private lastStepAtMs = Number.NEGATIVE_INFINITY

  constructor(options: ResolvedAutoscale) {
    this.options = options
  }

  decide(hosts: number, callsPerSecond: number, nowMs: number): ScaleDecision {
    const { minHosts, maxHosts, scaleUpCallsPerHost, scaleDownCallsPerHost, cooldownMs } = this.options
    if (nowMs - this.lastStepAtMs < cooldownMs) return { action: 'hold' }
    const perHost = callsPerSecond / Math.max(1, hosts)
    let decision: ScaleDecision = { action: 'hold' }
    if (hosts < minHosts) decision = { action: 'up', to: hosts + 1, reason: `below minHosts ${minHosts}` }
    else if (hosts > maxHosts) decision = { action: 'down', to: hosts - 1, reason: `above maxHosts ${maxHosts}` }
    else if (perHost > scaleUpCallsPerHost && hosts < maxHosts) decision = { action: 'up', to: hosts + 1, reason: `${Math.round(perHost)} calls/s per host > ${scaleUpCallsPerHost}` }
    else if (perHost < scaleDownCallsPerHost && hosts > minHosts) decision = { action: 'down', to: hosts - 1, reason: `${Math.round(perHost)} calls/s per host < ${scaleDownCallsPerHost}` }
    if (decision.action !== 'hold') this.lastStepAtMs = nowMs
    return decision
  }
}

function invalid(message: string): TroupeError {
  return new TroupeError('InvalidArgument', message)
}
