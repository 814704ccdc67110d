import { isTroupeError, type ErrorKind } from '../runtime/errors.ts'
import type { Random } from '../runtime/random.ts'
import { chance, intBetween, pick } from './seed.ts'

/** Which model judges an operation: each actor family has its own keys and checker. */
export type Family = 'counter' | 'register' | 'account' | 'bank'

/** One operation a client performs: how it is called, and how the history records it. */
export interface OpSpec {
  readonly family: Family
  readonly key: string
  /** The method called (also the history's operation name). */
  readonly name: string
  /** The history's input (the model's view of the arguments). */
  readonly input: unknown
  /** The call's arguments, before the operation tag. */
  readonly args: readonly unknown[]
  /** State-changing calls carry the operation's tag as a trailing argument (for the effect log). */
  readonly tagged: boolean
}

/** The keys of one run, per family. */
export interface Keyspace {
  readonly counter: readonly string[]
  readonly register: readonly string[]
  readonly account: readonly string[]
  readonly bank: readonly string[]
}

/** Draws the keys of a run: a few per family, so operations on one key interleave. */
export function drawKeyspace(random: Random, transfers: boolean): Keyspace {
  const keys = (type: string, prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${type}/${prefix}${i}`)
  return {
    counter: keys('Counter', 'c', intBetween(random, 1, 3)),
    register: keys('Register', 'r', intBetween(random, 1, 3)),
    account: keys('Account', 'a', intBetween(random, 1, 2)),
    bank: transfers ? keys('Account', 'bank', intBetween(random, 2, 3)) : [],
  }
}

/** Draws the next operation of a client; `unique` gives a value never written before, `recent` the last value seen at a key. */
export function drawOperation(random: Random, keys: Keyspace, unique: () => string, recent: (key: string) => unknown): OpSpec {
  const families: Family[] = ['counter', 'register', 'account', ...(keys.bank.length > 0 ? (['bank'] as const) : [])]
  const family = pick(random, families)
  const key = pick(random, keys[family])
  const roll = intBetween(random, 0, 99)
  const op = (name: string, input: unknown, args: readonly unknown[], tagged: boolean): OpSpec => ({ family, key, name, input, args, tagged })
  if (family === 'counter') {
    if (roll < 60) { const by = intBetween(random, 1, 5); return op('increment', by, [by], true) }
    return op('get', undefined, [], false)
  }
  if (family === 'register') {
    if (roll < 45) { const v = unique(); return op('write', v, [v], true) }
    if (roll < 85) return op('read', undefined, [], false)
    const from = chance(random, 0.2) ? null : recent(key) ?? null
    const to = unique()
    return op('cas', { from, to }, [from, to], true)
  }
  const amount = intBetween(random, 1, 10)
  if (family === 'account') {
    if (roll < 40) return op('deposit', amount, [amount], true)
    if (roll < 70) return op('withdraw', amount, [amount], true)
    return op('balance', undefined, [], false)
  }
  if (roll < 35) return op('deposit', amount, [amount], true)
  if (roll < 80) {
    const to = pick(random, keys.bank.filter((k) => k !== key))
    const toId = to.slice(to.indexOf('/') + 1)
    return op('transfer', { to, amount: Math.ceil(amount / 2) }, [toId, Math.ceil(amount / 2)], true)
  }
  return op('balance', undefined, [], false)
}

/** The read that gives a key's final value, by family. */
export function finalRead(family: Family, key: string): OpSpec {
  const name = family === 'counter' ? 'get' : family === 'register' ? 'read' : 'balance'
  return { family, key, name, input: undefined, args: [], tagged: false }
}

/** How a call ended, as the history records it. */
export type Outcome =
  | { readonly status: 'ok'; readonly output: unknown }
  | { readonly status: 'fail'; readonly error: string }
  | { readonly status: 'info'; readonly error: string }

/**
 * Errors that guarantee the call took no effect: refused before a turn ran (unknown type or
 * method, deadlock, bad argument) or a turn that threw (turns are atomic, and the simulation's
 * actors check before they change state). Everything else — a timeout, an unavailable host, a
 * stop, a storage error — leaves it unknown.
 *
 * `ActivationFailed` and `MailboxFull` say "not run by this attempt": a duplicate or a retry of the
 * same call may still run it later, once (named scenario "a call answered ActivationFailed may
 * still run through a later copy, once"), so they leave the outcome unknown. A `Deadlock` or an `InvalidArgument` should be decided again on every
 * copy, but today a resend of a call that already ran can be answered either (regression seeds
 * full 130 and 161, failed-means-no-effect): they stay definite failures so the checker keeps
 * reporting that bug.
 */
const noEffectKinds: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  'UnknownActorType', 'UnknownMethod', 'Deadlock', 'ActorFailed', 'InvalidArgument',
])

/** Classifies a call's result or error into ok / fail / info. */
export function outcomeOf(spec: OpSpec, result: { ok: true; value: unknown } | { ok: false; error: unknown }): Outcome {
  if (result.ok) return { status: 'ok', output: result.value }
  const error = result.error
  if (!isTroupeError(error)) return { status: 'info', error: String(error) }
  if (spec.name === 'withdraw' && error.kind === 'ActorFailed' && error.causeName === 'RangeError') {
    return { status: 'ok', output: 'insufficient' }
  }
  const text = `${error.kind}: ${error.message}`
  return noEffectKinds.has(error.kind) ? { status: 'fail', error: text } : { status: 'info', error: text }
}
