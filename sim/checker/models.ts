import { formatValue } from './history.ts'

/** A call as a model sees it: an operation's name and input. */
export interface Call {
  readonly name: string
  readonly input: unknown
}

/** The result of applying one input: `ok` is false when the input cannot apply in `state` at all. */
export interface StepResult<State, Output> {
  readonly ok: boolean
  readonly state: State
  readonly output: Output
}

/**
 * A deterministic sequential specification of one actor. `step` must not mutate `state`;
 * `key` must map equal states, and only equal states, to equal strings (used for memoization).
 */
export interface Model<State, Input extends Call, Output> {
  readonly name: string
  init(): State
  /** Validates a recorded call; `undefined` when the model does not know it. */
  decode(call: Call): Input | undefined
  step(state: State, input: Input): StepResult<State, Output>
  /** Whether an observed (recorded) output agrees with the model's output. */
  matches(expected: Output, observed: unknown): boolean
  key(state: State): string
}

/** Structural equality for plain data (numbers, strings, booleans, null, arrays, plain objects). */
export function sameValue(a: unknown, b: unknown): boolean {
  return Object.is(a, b) || formatValue(a) === formatValue(b)
}

/** Register inputs: `read`, `write(value)`, `cas({ from, to })`. */
export type RegisterInput =
  | { readonly name: 'read'; readonly input: unknown }
  | { readonly name: 'write'; readonly input: unknown }
  | { readonly name: 'cas'; readonly input: { readonly from: unknown; readonly to: unknown } }

/** A read/write/compare-and-set register: read → value, write → undefined (ignored), cas → whether it swapped. */
export function registerModel(initial: unknown = null): Model<unknown, RegisterInput, unknown> {
  return {
    name: 'register',
    init: () => initial,
    decode(call) {
      if (call.name === 'read' || call.name === 'write') return { name: call.name, input: call.input }
      if (call.name === 'cas' && isCasInput(call.input)) return { name: 'cas', input: call.input }
      return undefined
    },
    step(state, input) {
      if (input.name === 'read') return { ok: true, state, output: state }
      if (input.name === 'write') return { ok: true, state: input.input, output: undefined }
      const swap = sameValue(state, input.input.from)
      return { ok: true, state: swap ? input.input.to : state, output: swap }
    },
    matches(expected, observed) {
      return expected === undefined || sameValue(expected, observed)
    },
    key: (state) => formatValue(state),
  }
}

function isCasInput(input: unknown): input is { from: unknown; to: unknown } {
  return typeof input === 'object' && input !== null && 'from' in input && 'to' in input
}

/** Counter inputs: `increment(by)` and `get`. */
export type CounterInput =
  | { readonly name: 'increment'; readonly input: number }
  | { readonly name: 'get'; readonly input: unknown }

/** A counter: increment(by) → the new value, get → the value. */
export function counterModel(initial = 0): Model<number, CounterInput, number> {
  return {
    name: 'counter',
    init: () => initial,
    decode(call) {
      if (call.name === 'get') return { name: 'get', input: call.input }
      if (call.name === 'increment' && Number.isSafeInteger(call.input)) {
        return { name: 'increment', input: call.input as number }
      }
      return undefined
    },
    step(state, input) {
      if (input.name === 'get') return { ok: true, state, output: state }
      const next = state + input.input
      return { ok: true, state: next, output: next }
    },
    matches: (expected, observed) => expected === observed,
    key: (state) => String(state),
  }
}

/** Bank account inputs: `deposit(amount)`, `withdraw(amount)` and `balance`. */
export type AccountInput =
  | { readonly name: 'deposit'; readonly input: number }
  | { readonly name: 'withdraw'; readonly input: number }
  | { readonly name: 'balance'; readonly input: unknown }

/**
 * A bank account that never goes negative: deposit → new balance, withdraw → new balance or
 * `'insufficient'` (and no change), balance → balance.
 */
export function accountModel(initial = 0): Model<number, AccountInput, number | 'insufficient'> {
  return {
    name: 'account',
    init: () => initial,
    decode(call) {
      if (call.name === 'balance') return { name: 'balance', input: call.input }
      const amount = call.input
      if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 0) return undefined
      if (call.name === 'deposit' || call.name === 'withdraw') return { name: call.name, input: amount }
      return undefined
    },
    step(state, input) {
      if (input.name === 'balance') return { ok: true, state, output: state }
      if (input.name === 'deposit') return { ok: true, state: state + input.input, output: state + input.input }
      if (input.input > state) return { ok: true, state, output: 'insufficient' }
      return { ok: true, state: state - input.input, output: state - input.input }
    },
    matches: (expected, observed) => expected === observed,
    key: (state) => String(state),
  }
}
