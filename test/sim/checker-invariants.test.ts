import { describe, expect, test } from 'vitest'
import { HistoryRecorder, type Invocation } from '../../sim/checker/history.ts'
import {
  checkCounterFinal,
  checkExactlyOnce,
  checkRegisterFinal,
  checkSingleActivation,
  type ActivationEvent,
} from '../../sim/checker/invariants.ts'
import { checkLinearizability } from '../../sim/checker/linearizability.ts'
import { counterModel, registerModel } from '../../sim/checker/models.ts'

let requests = 0
function call(client: string, key: string, name: string, input?: unknown): Invocation {
  return { client, key, name, input, requestId: `req-${requests++}` }
}

/** Records increments on Counter/a: `acked` ok ones, then `unknown` info ones (all of 1 unless given). */
function counterHistory(acked: number[], unknown: number[]): HistoryRecorder {
  const r = new HistoryRecorder()
  let t = 0
  let value = 0
  for (const by of acked) {
    const id = r.invoke(call('c1', 'Counter/a', 'increment', by), t++)
    value += by
    r.ok(id, value, t++)
  }
  for (const by of unknown) r.info(r.invoke(call('c2', 'Counter/a', 'increment', by), t++), t++)
  const failed = r.invoke(call('c3', 'Counter/a', 'increment', 100), t++)
  r.fail(failed, 'rejected', t++)
  return r
}

describe('checkCounterFinal (acknowledged writes are never lost)', () => {
  test('accepts any final value between acknowledged and acknowledged + unknown', () => {
    const h = counterHistory([1, 2, 3], [1, 1]).history()
    for (const final of [6, 7, 8]) expect(checkCounterFinal(h, new Map([['Counter/a', final]]))).toEqual([])
  })

  test('catches a lost acknowledged increment, in both checkers', () => {
    const r = counterHistory([1, 2, 3], [1])
    const violations = checkCounterFinal(r.history(), new Map([['Counter/a', 5]]))
    expect(violations).toHaveLength(1)
    expect(violations[0]).toMatchObject({ invariant: 'acknowledged-writes-kept', key: 'Counter/a' })
    expect(violations[0]?.message).toMatch(/final value 5 < 6.*lost/)
    // The same final read, recorded as an operation, breaks linearizability too.
    const get = r.invoke(call('c9', 'Counter/a', 'get'), 100)
    r.ok(get, 5, 101)
    const result = checkLinearizability(r.history(), counterModel())
    expect(result.ok).toBe(false)
    expect(result.keys[0]?.offendingOpId).toBe(get)
  })

  test('catches an increment applied more than once', () => {
    const h = counterHistory([1, 2], [1]).history()
    const [violation] = checkCounterFinal(h, new Map([['Counter/a', 5]]))
    expect(violation?.message).toMatch(/final value 5 > 4/)
  })

  test('flags a counter with acknowledged increments but no final value, and honours options', () => {
    const h = counterHistory([1], []).history()
    expect(checkCounterFinal(h, new Map())[0]?.message).toMatch(/no final value/)
    expect(checkCounterFinal(h, new Map([['Counter/a', 11]]), { initial: 10 })).toEqual([])
    expect(checkCounterFinal(h, new Map([['Counter/a', 0]]), { increment: 'add' })).toEqual([])
  })
})

describe('checkRegisterFinal (acknowledged writes are never lost)', () => {
  function writes(): HistoryRecorder {
    const r = new HistoryRecorder()
    r.ok(r.invoke(call('c1', 'R/x', 'write', 1), 0), undefined, 1)
    r.ok(r.invoke(call('c1', 'R/x', 'write', 2), 2), undefined, 3)
    r.info(r.invoke(call('c2', 'R/x', 'write', 3), 4), 5)
    r.fail(r.invoke(call('c2', 'R/x', 'write', 4), 6), 'rejected', 7)
    return r
  }

  test('accepts the last acknowledged write or a later unknown one', () => {
    const h = writes().history()
    expect(checkRegisterFinal(h, new Map([['R/x', 2]]))).toEqual([])
    expect(checkRegisterFinal(h, new Map([['R/x', 3]]))).toEqual([])
  })

  test('catches a lost write (an overwritten value survives), in both checkers', () => {
    const r = writes()
    const [violation] = checkRegisterFinal(r.history(), new Map([['R/x', 1]]))
    expect(violation?.message).toMatch(/final value 1 is written by #0 .* but acknowledged #1 .* was lost/)
    r.ok(r.invoke(call('c9', 'R/x', 'read'), 10), 1, 11)
    expect(checkLinearizability(r.history(), registerModel(null)).ok).toBe(false)
  })

  test('catches a failed write that took effect and a value never written', () => {
    const h = writes().history()
    expect(checkRegisterFinal(h, new Map([['R/x', 4]]))[0]?.message).toMatch(/never written/)
    expect(checkRegisterFinal(h, new Map([['R/x', null]]))[0]?.message).toMatch(/initial value/)
  })

  test('counts a successful cas as a write', () => {
    const r = writes()
    r.ok(r.invoke(call('c1', 'R/x', 'cas', { from: 2, to: 9 }), 8), true, 9)
    r.ok(r.invoke(call('c1', 'R/x', 'cas', { from: 2, to: 8 }), 10), false, 11)
    const h = r.history()
    expect(checkRegisterFinal(h, new Map([['R/x', 9]]))).toEqual([])
    expect(checkRegisterFinal(h, new Map([['R/x', 8]]))).toHaveLength(1)
    expect(checkRegisterFinal(h, new Map([['R/x', 2]]))).toHaveLength(1)
  })
})

describe('checkSingleActivation (one activation per key per epoch)', () => {
  const at = (time: number, hostId: string, kind: ActivationEvent['kind'], epoch = 1, key = 'Counter/a'): ActivationEvent => ({
    key,
    epoch,
    hostId,
    kind,
    time,
  })

  test('catches overlapping activations on two hosts in one epoch', () => {
    const violations = checkSingleActivation([at(0, 'h1', 'activate'), at(5, 'h2', 'activate'), at(9, 'h1', 'deactivate')])
    expect(violations).toHaveLength(1)
    expect(violations[0]).toMatchObject({ invariant: 'single-activation', key: 'Counter/a' })
    expect(violations[0]?.message).toMatch(/host h1 \(since t=0\) and host h2 \(from t=5\) in epoch 1/)
  })

  test('catches a host activating a key twice in one epoch', () => {
    expect(checkSingleActivation([at(0, 'h1', 'activate'), at(1, 'h1', 'activate')])[0]?.message).toMatch(/twice/)
  })

  test('allows hand-offs, other epochs and other keys', () => {
    const events = [
      at(0, 'h1', 'activate'),
      at(4, 'h1', 'deactivate'),
      at(4, 'h2', 'activate'), // same tick, after the deactivation
      at(5, 'h3', 'activate', 2), // new epoch while h2 still drains epoch 1
      at(5, 'h1', 'activate', 1, 'Counter/b'),
    ]
    expect(checkSingleActivation(events)).toEqual([])
  })

  test('orders events by time, whatever order they are given in', () => {
    const events = [at(9, 'h2', 'activate'), at(0, 'h1', 'activate'), at(3, 'h1', 'deactivate')]
    expect(checkSingleActivation(events)).toEqual([])
    expect(checkSingleActivation([at(9, 'h1', 'deactivate')])[0]?.message).toMatch(/without an open activation/)
  })
})

describe('checkExactlyOnce (a retried requestId takes effect once)', () => {
  test('catches a double-applied requestId', () => {
    const effects = [
      { requestId: 'r1', key: 'Counter/a' },
      { requestId: 'r2', key: 'Counter/a' },
      { requestId: 'r1', key: 'Counter/a' },
    ]
    const violations = checkExactlyOnce(effects)
    expect(violations).toEqual([
      { invariant: 'exactly-once', key: 'Counter/a', message: 'request r1 took effect 2 times (on Counter/a)' },
    ])
  })

  test('accepts each requestId applied once', () => {
    expect(checkExactlyOnce([{ requestId: 'r1', key: 'A/a' }, { requestId: 'r2', key: 'A/a' }])).toEqual([])
  })
})
