import { assert } from './assert.ts'
import { describeOp, formatValue, partitionByKey, type Operation } from './history.ts'
import type { Call, Model } from './models.ts'
import { searchLinearization, type SearchOp, type SearchOutcome } from './wgl-search.ts'

/** Bounds of the linearizability search. */
export interface LinearizabilityOptions {
  /** Model steps allowed per key (and per prefix check while explaining) before giving up; default 5,000,000. */
  readonly stepsMax?: number
}

/** `unknown` means the search ran out of its step budget. */
export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown'

/** The verdict for one actor key. */
export interface KeyVerdict {
  readonly key: string
  readonly verdict: Verdict
  /** Operations checked (ok and info; fail ones are dropped). */
  readonly operations: number
  readonly steps: number
  readonly explanation: string
  /** The operation whose completion first makes the history non-linearizable. */
  readonly offendingOpId: number | undefined
}

/** The verdict for a whole history: `ok` only when every key is linearizable. */
export interface LinearizabilityResult {
  readonly ok: boolean
  readonly verdict: Verdict
  /** The first key that is not linearizable (or, failing that, whose check was inconclusive). */
  readonly key?: string
  readonly explanation: string
  readonly keys: readonly KeyVerdict[]
}

const stepsMaxDefault = 5_000_000

/**
 * Checks that a history is linearizable with respect to `model`, each actor key on its own.
 * `fail` operations are removed; `info` operations may take effect at any time after their invoke, or never.
 */
export function checkLinearizability<S, I extends Call, O>(
  history: readonly Operation[],
  model: Model<S, I, O>,
  options: LinearizabilityOptions = {},
): LinearizabilityResult {
  const stepsMax = options.stepsMax ?? stepsMaxDefault
  const keys = [...partitionByKey(history)].map(([key, ops]) => checkKey(key, ops, model, stepsMax))
  const bad = keys.find((k) => k.verdict === 'not-linearizable') ?? keys.find((k) => k.verdict === 'unknown')
  if (bad === undefined) {
    const count = keys.reduce((sum, k) => sum + k.operations, 0)
    return { ok: true, verdict: 'linearizable', explanation: `${keys.length} keys, ${count} operations: linearizable`, keys }
  }
  return { ok: false, verdict: bad.verdict, key: bad.key, explanation: bad.explanation, keys }
}

/** Checks the operations of a single key (all must share that key). */
export function checkKey<S, I extends Call, O>(
  key: string,
  history: readonly Operation[],
  model: Model<S, I, O>,
  stepsMax = stepsMaxDefault,
): KeyVerdict {
  const ops = history.filter((op) => op.status !== 'fail').map((op) => prepare(op, key, model))
  const returns = ops.filter((o) => o.known).sort((a, b) => a.returnTime - b.returnTime || a.returnSeq - b.returnSeq)
  const last = returns[returns.length - 1]
  const full = searchLinearization(ops, model, stepsMax, last === undefined ? -1 : ops.indexOf(last))
  const base = { key, verdict: full.verdict, operations: ops.length, steps: full.steps }
  if (full.verdict === 'linearizable') return { ...base, explanation: `${key}: linearizable`, offendingOpId: undefined }
  if (full.verdict === 'unknown') {
    const explanation = `${key}: search gave up after ${stepsMax} steps (${ops.length} operations)`
    return { ...base, explanation, offendingOpId: undefined }
  }
  assert(last !== undefined, `${key}: a history without known outputs is always linearizable`)
  const shortest = shortestFailingPrefix(ops, returns, { ops, outcome: full }, model, stepsMax)
  const offending = returns[shortest.index]!
  return { ...base, explanation: explain(key, offending, shortest.failure, model), offendingOpId: offending.op.id }
}

function prepare<S, I extends Call, O>(op: Operation, key: string, model: Model<S, I, O>): SearchOp<I> {
  assert(op.key === key, `operation #${op.id} has key ${op.key}, expected ${key}`)
  const input = model.decode({ name: op.name, input: op.input })
  assert(input !== undefined, `the ${model.name} model does not know ${op.name}(${formatValue(op.input)}) (#${op.id})`)
  return {
    op,
    input,
    known: op.status === 'ok',
    callTime: op.invokeTime,
    callSeq: op.invokeSeq,
    returnTime: op.completeTime,
    returnSeq: op.completeSeq,
  }
}

/** A failing search with the operations it ran on (the `blocked` order indexes into them). */
interface Failure<S, I> {
  readonly ops: readonly SearchOp<I>[]
  readonly outcome: SearchOutcome<S>
}

/**
 * Binary search for the shortest prefix (ending at a known return) that is not linearizable;
 * a failing prefix stays failing when extended. `full` is the failing search of the whole history.
 */
function shortestFailingPrefix<S, I extends Call, O>(
  ops: readonly SearchOp<I>[],
  returns: readonly SearchOp<I>[],
  full: Failure<S, I>,
  model: Model<S, I, O>,
  stepsMax: number,
): { index: number; failure: Failure<S, I> } {
  let lo = 0 // prefixes ending before returns[lo] are linearizable (or inconclusive)
  let hi = returns.length - 1 // the prefix ending with returns[hi] is known to fail
  let failure = full
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const cut = prefix(ops, returns[mid]!)
    const outcome = searchLinearization(cut, model, stepsMax, cut.indexOf(returns[mid]!))
    if (outcome.verdict === 'not-linearizable') {
      hi = mid
      failure = { ops: cut, outcome }
    } else lo = mid + 1
  }
  return { index: hi, failure }
}

function explain<S, I extends Call, O>(key: string, last: SearchOp<I>, failure: Failure<S, I>, model: Model<S, I, O>): string {
  const lines = [`${key}: not linearizable; it first fails when ${describeOp(last.op)} returns`]
  const blocked = failure.outcome.blocked
  if (blocked !== undefined) {
    const order = blocked.order.map((i) => failure.ops[i]!.op)
    const step = model.step(blocked.state, last.input)
    const expected = step.ok ? `would return ${formatValue(step.output)}` : 'cannot apply'
    lines.push(`after ${formatOrder(order)}, the state is ${model.key(blocked.state)}, where it ${expected}`)
  }
  return lines.join('; ')
}

/** The history as seen right after `last` returned: later returns become unknown, later calls are dropped. */
function prefix<I>(ops: readonly SearchOp<I>[], last: SearchOp<I>): SearchOp<I>[] {
  const before = (time: number, seq: number): boolean =>
    time < last.returnTime || (time === last.returnTime && seq <= last.returnSeq)
  return ops
    .filter((o) => before(o.callTime, o.callSeq))
    .map((o) => (o.known && !before(o.returnTime, o.returnSeq) ? { ...o, known: false } : o))
}

function formatOrder(order: readonly Operation[]): string {
  if (order.length === 0) return 'no other operation'
  const shown = order.slice(-6).map((op) => {
    const input = op.input === undefined ? '' : formatValue(op.input)
    const output = op.status === 'ok' ? ` → ${formatValue(op.output)}` : ' (unknown)'
    return `#${op.id} ${op.name}(${input})${output}`
  })
  const hidden = order.length - shown.length
  return `${hidden > 0 ? `${hidden} earlier ops, ` : ''}${shown.join(', ')}`
}
