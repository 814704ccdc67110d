import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { bruteForceLinearizable } from '../../sim/checker/brute-force.ts'
import { HistoryRecorder, type Operation } from '../../sim/checker/history.ts'
import { checkLinearizability } from '../../sim/checker/linearizability.ts'
import { counterModel, registerModel, type Call, type Model } from '../../sim/checker/models.ts'

const runs = 10_000

interface OpPlan {
  readonly key: string
  readonly call: Call
  readonly outcome: 'ok' | 'fail' | 'info'
  /** For info: whether it took effect, and how long after its invoke (maybe after the client gave up). */
  readonly applied: boolean
  readonly late: number
  /** Sorted event keys: invoke, effect, completion; time = floor(key / 3), so times often tie. */
  readonly at: readonly [number, number, number]
  /** A wrong output to record instead of the true one, if any. */
  readonly corrupt: number | null
}

const value = fc.integer({ min: 0, max: 2 })
const registerCall: fc.Arbitrary<Call> = fc.oneof(
  fc.constant({ name: 'read', input: undefined }),
  value.map((v) => ({ name: 'write', input: v })),
  fc.tuple(value, value).map(([from, to]) => ({ name: 'cas', input: { from, to } })),
)
const counterCall: fc.Arbitrary<Call> = fc.oneof(
  fc.constant({ name: 'get', input: undefined }),
  fc.integer({ min: 1, max: 2 }).map((by) => ({ name: 'increment', input: by })),
)

function plans(call: fc.Arbitrary<Call>, corruptMax: number, cleanWeight: number): fc.Arbitrary<OpPlan[]> {
  const plan = fc.record({
    key: fc.constantFrom('K/a', 'K/a', 'K/a', 'K/b'),
    call,
    outcome: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'fail', 'info') as fc.Arbitrary<OpPlan['outcome']>,
    applied: fc.boolean(),
    late: fc.nat(30),
    at: fc.tuple(fc.nat(36), fc.nat(36), fc.nat(36)).map((t) => [...t].sort((a, b) => a - b) as [number, number, number]),
    corrupt: fc.oneof(
      { weight: cleanWeight, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: corruptMax }) },
    ),
  })
  return fc.array(plan, { minLength: 1, maxLength: 8 })
}

/** Runs the plan against the model (each op takes effect at its effect key) and records what clients saw. */
function record<S>(ops: readonly OpPlan[], model: Model<S, Call, unknown>): readonly Operation[] {
  type Event = { at: number; phase: number; i: number }
  const events: Event[] = []
  ops.forEach((op, i) => {
    events.push({ at: op.at[0], phase: 0, i }, { at: op.at[2], phase: 2, i })
    if (op.outcome === 'ok') events.push({ at: op.at[1], phase: 1, i })
    if (op.outcome === 'info' && op.applied) events.push({ at: op.at[0] + op.late, phase: 1, i })
  })
  events.sort((a, b) => a.at - b.at || a.phase - b.phase || a.i - b.i)
  const recorder = new HistoryRecorder()
  const states = new Map<string, S>()
  const outputs: unknown[] = []
  const ids: number[] = []
  for (const { at, phase, i } of events) {
    const op = ops[i]!
    const time = Math.floor(at / 3)
    if (phase === 0) {
      ids[i] = recorder.invoke({ client: `c${i % 3}`, key: op.key, ...op.call, requestId: `r${i}` }, time)
    } else if (phase === 1) {
      const input = model.decode(op.call)!
      const result = model.step(states.get(op.key) ?? model.init(), input)
      states.set(op.key, result.state)
      outputs[i] = result.output
    } else if (op.outcome === 'ok') {
      recorder.ok(ids[i]!, op.corrupt === null ? outputs[i] : corrupted(op, outputs[i]), time)
    } else if (op.outcome === 'fail') recorder.fail(ids[i]!, 'rejected', time)
    else recorder.info(ids[i]!, time)
  }
  return recorder.history()
}

function corrupted(op: OpPlan, output: unknown): unknown {
  if (op.call.name === 'cas') return op.corrupt! % 2 === 0
  return output === undefined ? undefined : op.corrupt
}

function agreeWithBruteForce(
  name: string,
  call: fc.Arbitrary<Call>,
  model: Model<unknown, Call, unknown>,
  corrupt: { readonly max: number; readonly cleanWeight: number },
) {
  test(`agrees with a brute-force checker on ${runs} random ${name} histories`, () => {
    const verdicts = { yes: 0, no: 0 }
    fc.assert(
      fc.property(plans(call, corrupt.max, corrupt.cleanWeight), (ops) => {
        const history = record(ops, model)
        const expected = bruteForceLinearizable(history, model)
        const result = checkLinearizability(history, model)
        expect(result.ok).toBe(expected)
        if (!result.ok) {
          expect(result.verdict).toBe('not-linearizable')
          expect(result.keys.find((k) => k.key === result.key)?.offendingOpId).toBeTypeOf('number')
        }
        verdicts[expected ? 'yes' : 'no']++
      }),
      { numRuns: runs, seed: 0x7e0be },
    )
    expect(verdicts.yes).toBeGreaterThan(runs / 5)
    expect(verdicts.no).toBeGreaterThan(runs / 5)
  })
}

describe('linearizability checker vs brute force', () => {
  agreeWithBruteForce('register', registerCall, registerModel(0) as Model<unknown, Call, unknown>, {
    max: 2,
    cleanWeight: 2,
  })
  agreeWithBruteForce('counter', counterCall, counterModel(0) as unknown as Model<unknown, Call, unknown>, {
    max: 6,
    cleanWeight: 6,
  })
})
