import type { Operation } from './checker/history.ts'
import { checkCounterFinal, checkExactlyOnce, checkRegisterFinal, checkSingleActivation, type ActivationEvent } from './checker/invariants.ts'
import { checkLinearizability } from './checker/linearizability.ts'
import { accountModel, counterModel, registerModel } from './checker/models.ts'
import type { Family } from './operations.ts'

/** One broken property of a run: an invariant, a model, or liveness. */
export interface SimViolation {
  readonly invariant: string
  readonly key: string | undefined
  readonly message: string
}

/** What the checkers read: the history, final values and tags, and activation events. */
export interface RunEvidence {
  readonly history: readonly Operation[]
  readonly families: ReadonlyMap<string, Family>
  readonly finals: ReadonlyMap<string, unknown>
  /** Each key's final tags: the operations its state says were applied, in order (see sim/actors.ts). */
  readonly finalTags: ReadonlyMap<string, readonly string[]>
  readonly activations: readonly ActivationEvent[]
}

/** What the checkers found: violations, and keys whose linearizability search gave up. */
export interface CheckReport {
  readonly violations: SimViolation[]
  readonly inconclusive: string[]
}

/** Model steps per key before the linearizability search gives up (the key counts as inconclusive). */
const linearizabilityStepsMax = 200_000

/** Runs every checker over a finished run. */
export function checkRun(evidence: RunEvidence): CheckReport {
  const violations: SimViolation[] = []
  const inconclusive: string[] = []
  const of = (family: Family): Operation[] => evidence.history.filter((op) => evidence.families.get(op.key) === family)
  const finalsOf = (family: Family): Map<string, unknown> => new Map([...evidence.finals].filter(([key]) => evidence.families.get(key) === family))
  const linearizable = (family: Family, result: ReturnType<typeof checkLinearizability>): void => {
    for (const verdict of result.keys) {
      if (verdict.verdict === 'not-linearizable') violations.push({ invariant: `linearizable-${family}`, key: verdict.key, message: verdict.explanation })
      else if (verdict.verdict === 'unknown') inconclusive.push(verdict.key)
    }
  }
  const options = { stepsMax: linearizabilityStepsMax }
  linearizable('counter', checkLinearizability(of('counter'), counterModel(0), options))
  linearizable('register', checkLinearizability(of('register'), registerModel(null), options))
  linearizable('account', checkLinearizability(of('account'), accountModel(0), options))
  // A key that could not be read at the end is a liveness violation, reported by the run; not a lost write too.
  const read = (v: SimViolation): boolean => v.key === undefined || evidence.finals.has(v.key)
  violations.push(...checkCounterFinal(of('counter'), finalsOf('counter') as Map<string, number>).filter(read))
  violations.push(...checkRegisterFinal(of('register'), finalsOf('register')).filter(read))
  violations.push(...checkBankConservation(of('bank'), finalsOf('bank')))
  violations.push(...checkSingleActivation(evidence.activations))
  const applied = [...evidence.finalTags].flatMap(([key, tags]) => tags.map((tag) => ({ requestId: tag, key })))
  violations.push(...checkExactlyOnce(applied))
  violations.push(...checkFailedHadNoEffect(evidence.history, applied))
  violations.push(...checkAcknowledgedApplied(evidence.history, evidence.finalTags))
  return { violations, inconclusive }
}

/**
 * Every acknowledged state change is in its key's final state: the tag of each ok operation that
 * changed state (and, for an ok transfer, the tag of its deposit on the receiving account).
 */
export function checkAcknowledgedApplied(history: readonly Operation[], finalTags: ReadonlyMap<string, readonly string[]>): SimViolation[] {
  const sets = new Map([...finalTags].map(([key, tags]) => [key, new Set(tags)]))
  const violations: SimViolation[] = []
  const expect = (op: Operation, key: string, tag: string): void => {
    const tags = sets.get(key)
    if (tags === undefined || tags.has(tag)) return // an unread key is reported by liveness
    violations.push({ invariant: 'acknowledged-writes-kept', key, message: `${op.key}.${op.name}(${JSON.stringify(op.input)}) (${op.requestId}) was acknowledged at t=${op.completeTime} but ${key}'s final state does not hold it${tag === op.requestId ? '' : ` (its ${tag})`}` })
  }
  for (const op of history) {
    if (op.status !== 'ok' || op.requestId === undefined) continue
    const changed = op.name === 'increment' || op.name === 'write' || op.name === 'deposit' || op.name === 'transfer' ||
      (op.name === 'cas' && op.output === true) || (op.name === 'withdraw' && op.output !== 'insufficient')
    if (!changed) continue
    expect(op, op.key, op.requestId)
    if (op.name === 'transfer') expect(op, (op.input as { to: string }).to, `${op.requestId}>deposit`)
  }
  return violations
}

/**
 * Money is conserved: transfers move it, so the bank's final total lies between the
 * acknowledged deposits and those plus the unknown ones.
 */
export function checkBankConservation(history: readonly Operation[], finals: ReadonlyMap<string, unknown>): SimViolation[] {
  if (finals.size === 0) return []
  let acked = 0
  let unknown = 0
  for (const op of history) {
    if (op.name !== 'deposit' || op.status === 'fail') continue
    if (op.status === 'ok') acked += op.input as number
    else unknown += op.input as number
  }
  const keys = new Set(history.map((op) => op.key))
  if ([...keys].some((key) => !finals.has(key))) return [] // a key was unreadable: liveness reports it
  const total = [...finals.values()].reduce<number>((sum, v) => sum + (v as number), 0)
  if (total >= acked && total <= acked + unknown) return []
  const message = `the bank holds ${total}, but deposits put in between ${acked} (acknowledged) and ${acked + unknown} (with unknown ones): ` +
    (total > acked + unknown ? 'money was created' : 'money was lost')
  return [{ invariant: 'money-conserved', key: undefined, message }]
}

/** An operation recorded as failed ("definitely did not happen") must have no effect: its tag is in no final state. */
export function checkFailedHadNoEffect(history: readonly Operation[], applied: ReadonlyArray<{ requestId: string; key: string }>): SimViolation[] {
  const failed = new Map(history.filter((op) => op.status === 'fail').map((op) => [op.requestId, op]))
  const violations: SimViolation[] = []
  for (const { requestId, key } of applied) {
    const op = failed.get(requestId.split('>')[0]!) // a transfer's deposit is part of the transfer
    if (op === undefined) continue
    failed.delete(requestId)
    violations.push({ invariant: 'failed-means-no-effect', key: op.key, message: `${op.key}.${op.name} (${requestId}) failed with ${op.error ?? '?'} but its effect is in ${key}'s final state` })
  }
  return violations
}
