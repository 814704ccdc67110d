import { assert } from './assert.ts'
import { describeOp, formatValue, partitionByKey, precedes, type Id, type Operation } from './history.ts'
import { sameValue } from './models.ts'

/** Which invariant a violation breaks. */
export type InvariantName = 'acknowledged-writes-kept' | 'single-activation' | 'exactly-once'

/** One broken invariant, with a readable message. */
export interface Violation {
  readonly invariant: InvariantName
  readonly key: string | undefined
  readonly message: string
}

/** Names and initial value for `checkCounterFinal`. */
export interface CounterFinalOptions {
  /** Operation name of an increment (input: the amount); default `'increment'`. */
  readonly increment?: string
  /** Counter value before the run; default 0. */
  readonly initial?: number
}

/**
 * "Acknowledged writes are never lost" for counters: each key's final value must lie between
 * initial + acknowledged increments (+ negative unknown ones) and that + positive unknown ones.
 */
export function checkCounterFinal(
  history: readonly Operation[],
  finals: ReadonlyMap<string, number>,
  options: CounterFinalOptions = {},
): Violation[] {
  const name = options.increment ?? 'increment'
  const initial = options.initial ?? 0
  const violations: Violation[] = []
  const byKey = partitionByKey(history)
  for (const key of new Set([...byKey.keys(), ...finals.keys()])) {
    const ops = byKey.get(key) ?? []
    let acked = 0
    let ackedCount = 0
    let unknownUp = 0
    let unknownDown = 0
    for (const op of ops) {
      if (op.name !== name || op.status === 'fail') continue
      assert(typeof op.input === 'number' && Number.isSafeInteger(op.input), `#${op.id}: increment input must be an integer`)
      if (op.status === 'ok') {
        acked += op.input
        ackedCount++
      } else if (op.input > 0) unknownUp += op.input
      else unknownDown += op.input
    }
    const final = finals.get(key)
    const min = initial + acked + unknownDown
    const max = initial + acked + unknownUp
    const add = (message: string): void => void violations.push({ invariant: 'acknowledged-writes-kept', key, message })
    if (final === undefined) {
      if (ackedCount > 0) add(`${key}: no final value read, but ${ackedCount} increments were acknowledged`)
    } else if (final < min) {
      add(`${key}: final value ${final} < ${min} (initial ${initial} + ${ackedCount} acknowledged increments summing to ${acked}): an acknowledged write was lost`)
    } else if (final > max) {
      add(`${key}: final value ${final} > ${max} (acknowledged + unknown increments): an increment took effect more than once or was invented`)
    }
  }
  return violations
}

/** Names and initial value for `checkRegisterFinal`. */
export interface RegisterFinalOptions {
  /** Operation name of a write (input: the value); default `'write'`. */
  readonly write?: string
  /** Operation name of a compare-and-set (input `{ from, to }`, output: swapped); default `'cas'`. */
  readonly cas?: string
  /** Register value before the run; default `null`. */
  readonly initial?: unknown
}

interface Write {
  readonly op: Operation | undefined
  readonly value: unknown
}

/**
 * "Acknowledged writes are never lost" for registers: each key's final value must be the initial
 * value or one written by an ok or unknown write, and not one overwritten by a later acknowledged write.
 */
export function checkRegisterFinal(
  history: readonly Operation[],
  finals: ReadonlyMap<string, unknown>,
  options: RegisterFinalOptions = {},
): Violation[] {
  const violations: Violation[] = []
  const byKey = partitionByKey(history)
  for (const key of new Set([...byKey.keys(), ...finals.keys()])) {
    if (!finals.has(key)) continue
    const final = finals.get(key)
    const { writes, acked } = registerWrites(byKey.get(key) ?? [], options)
    const initial: Write = { op: undefined, value: options.initial ?? null }
    const overwrittenBy = (w: Write): Operation | undefined =>
      acked.find((a) => a !== w.op && (w.op === undefined || precedes(w.op, a)))
    const matching = [initial, ...writes].filter((w) => sameValue(w.value, final))
    if (matching.some((w) => overwrittenBy(w) === undefined)) continue
    const add = (message: string): void => void violations.push({ invariant: 'acknowledged-writes-kept', key, message })
    const first = matching[0]
    if (first === undefined) {
      add(`${key}: final value ${formatValue(final)} was never written by an ok or unknown write, nor initial`)
    } else {
      const by = overwrittenBy(first)
      assert(by !== undefined, `${key}: a rejected final value is overwritten`)
      const source = first.op === undefined ? 'the initial value' : `written by ${describeOp(first.op)}`
      add(`${key}: final value ${formatValue(final)} is ${source}, but acknowledged ${describeOp(by)} came after it: that write was lost`)
    }
  }
  return violations
}

function registerWrites(ops: readonly Operation[], options: RegisterFinalOptions): { writes: Write[]; acked: Operation[] } {
  const writeName = options.write ?? 'write'
  const casName = options.cas ?? 'cas'
  const writes: Write[] = []
  const acked: Operation[] = []
  for (const op of ops) {
    if (op.status === 'fail') continue
    if (op.name === writeName) {
      writes.push({ op, value: op.input })
      if (op.status === 'ok') acked.push(op)
    } else if (op.name === casName && (op.status === 'info' || op.output === true)) {
      const input = op.input
      assert(typeof input === 'object' && input !== null && 'to' in input, `#${op.id}: cas input must be { from, to }`)
      writes.push({ op, value: input.to })
      if (op.status === 'ok') acked.push(op)
    }
  }
  return { writes, acked }
}

/** An activation or deactivation of an actor on a host, as the runtime reports it. */
export interface ActivationEvent {
  readonly key: string
  readonly epoch: number
  readonly hostId: Id
  readonly kind: 'activate' | 'deactivate'
  readonly time: number
}

/**
 * "One activation per key per epoch": flags two activations of a key in the same epoch that
 * overlap in time, on two hosts or twice on one. Events at equal times count in the given order.
 */
export function checkSingleActivation(events: readonly ActivationEvent[]): Violation[] {
  const violations: Violation[] = []
  const open = new Map<string, Map<Id, { epoch: number; time: number }>>()
  const ordered = events.map((e, i) => ({ e, i })).sort((a, b) => a.e.time - b.e.time || a.i - b.i)
  for (const { e } of ordered) {
    const hosts = open.get(e.key) ?? new Map<Id, { epoch: number; time: number }>()
    open.set(e.key, hosts)
    const add = (message: string): void => void violations.push({ invariant: 'single-activation', key: e.key, message })
    if (e.kind === 'deactivate') {
      if (!hosts.delete(e.hostId)) add(`${e.key}: host ${e.hostId} deactivated at t=${e.time} without an open activation`)
      continue
    }
    for (const [host, a] of hosts) {
      if (a.epoch !== e.epoch) continue
      if (host === e.hostId) {
        add(`${e.key}: host ${host} activated it twice in epoch ${e.epoch} (t=${a.time} and t=${e.time})`)
      } else {
        add(`${e.key}: active on host ${host} (since t=${a.time}) and host ${e.hostId} (from t=${e.time}) in epoch ${e.epoch}`)
      }
    }
    hosts.set(e.hostId, { epoch: e.epoch, time: e.time })
  }
  return violations
}

/** The runtime applied (ran or journaled) the turn of `requestId` on `key`. */
export interface EffectEvent {
  readonly requestId: string
  readonly key: string
}

/** "A retried requestId takes effect once": flags every requestId applied more than once. */
export function checkExactlyOnce(effects: readonly EffectEvent[]): Violation[] {
  const seen = new Map<string, string[]>()
  for (const { requestId, key } of effects) {
    const keys = seen.get(requestId)
    if (keys === undefined) seen.set(requestId, [key])
    else keys.push(key)
  }
  const violations: Violation[] = []
  for (const [requestId, keys] of seen) {
    if (keys.length < 2) continue
    const message = `request ${requestId} took effect ${keys.length} times (on ${[...new Set(keys)].join(', ')})`
    violations.push({ invariant: 'exactly-once', key: keys[0], message })
  }
  return violations
}
