import { describe, expect, test } from 'vitest'
import { CheckerAssertionError } from '../../sim/checker/assert.ts'
import { HistoryRecorder, precedes, type Invocation, type Operation } from '../../sim/checker/history.ts'
import { checkLinearizability } from '../../sim/checker/linearizability.ts'
import { accountModel, counterModel, registerModel, type Call, type Model } from '../../sim/checker/models.ts'

let requests = 0
function call(client: string, key: string, name: string, input?: unknown): Invocation {
  return { client, key, name, input, requestId: `req-${requests++}` }
}

/** Records a whole operation [from, to] at once (callers order these so that events stay in time order). */
function okOp(r: HistoryRecorder, inv: Invocation, output: unknown, from: number, to: number): number {
  const id = r.invoke(inv, from)
  r.ok(id, output, to)
  return id
}

describe('HistoryRecorder', () => {
  test('records invoke then ok/fail/info as frozen operations in invoke order', () => {
    const r = new HistoryRecorder()
    const a = r.invoke(call('c1', 'Counter/a', 'increment', 1), 0)
    const b = r.invoke(call('c2', 'Counter/a', 'get'), 1)
    const c = r.invoke(call('c3', 'Counter/a', 'increment', 2), 1)
    const d = r.invoke(call('c4', 'Counter/a', 'get'), 2)
    r.ok(b, 1, 3)
    r.fail(a, 'unknown method', 4)
    r.info(c, 9)
    const h = r.history()
    expect(h.map((op) => op.status)).toEqual(['fail', 'ok', 'info', 'info'])
    expect(h.map((op) => op.id)).toEqual([a, b, c, d])
    expect(Object.isFrozen(h) && h.every(Object.isFrozen)).toBe(true)
    expect(h[1]).toMatchObject({ output: 1, invokeTime: 1, completeTime: 3 })
    expect(h[2]).toMatchObject({ completeTime: Infinity, infoTime: 9 })
    expect(h[3]).toMatchObject({ completeTime: Infinity, infoTime: undefined })
  })

  test('rejects completing an operation twice, an unknown id, or before its invoke', () => {
    const r = new HistoryRecorder()
    const a = r.invoke(call('c1', 'R/x', 'read'), 5)
    expect(() => r.ok(a, 0, 4)).toThrow(CheckerAssertionError)
    r.ok(a, 0, 5)
    expect(() => r.ok(a, 0, 6)).toThrow(/not pending/)
    expect(() => r.info(42, 6)).toThrow(/not pending/)
    expect(() => r.invoke(call('c1', 'R/x', 'read'), 1.5)).toThrow(/integer/)
  })

  test('orders equal times by recording order', () => {
    const r = new HistoryRecorder()
    const a = okOp(r, call('c1', 'R/x', 'write', 1), undefined, 0, 5)
    const b = okOp(r, call('c2', 'R/x', 'read'), 1, 5, 6)
    const [opA, opB] = r.history() as [Operation, Operation]
    expect([a, b]).toEqual([0, 1])
    expect(precedes(opA, opB)).toBe(true)
    expect(precedes(opB, opA)).toBe(false)
  })
})

describe('checkLinearizability', () => {
  const register = registerModel(0)

  test('accepts a linearizable history with concurrent writes and reads', () => {
    const r = new HistoryRecorder()
    const w1 = r.invoke(call('c1', 'R/x', 'write', 1), 0)
    const w2 = r.invoke(call('c2', 'R/x', 'write', 2), 1)
    const rd = r.invoke(call('c3', 'R/x', 'read'), 2)
    r.ok(rd, 1, 3) // w1 then read, w2 later
    r.ok(w1, undefined, 4)
    r.ok(w2, undefined, 5)
    okOp(r, call('c3', 'R/x', 'read'), 2, 6, 7)
    okOp(r, call('c1', 'R/x', 'cas', { from: 2, to: 3 }), true, 8, 9)
    okOp(r, call('c2', 'R/x', 'cas', { from: 2, to: 4 }), false, 10, 11)
    const result = checkLinearizability(r.history(), register)
    expect(result).toMatchObject({ ok: true, verdict: 'linearizable' })
    expect(result.keys).toHaveLength(1)
  })

  test('catches a stale read and names the operation', () => {
    const r = new HistoryRecorder()
    okOp(r, call('c1', 'R/x', 'write', 1), undefined, 0, 1)
    okOp(r, call('c2', 'R/x', 'read'), 1, 2, 3)
    const stale = okOp(r, call('c3', 'R/x', 'read'), 0, 4, 5)
    const result = checkLinearizability(r.history(), register)
    expect(result).toMatchObject({ ok: false, verdict: 'not-linearizable', key: 'R/x' })
    expect(result.keys[0]?.offendingOpId).toBe(stale)
    expect(result.explanation).toContain(`#${stale} client c3 R/x read() → 0`)
    expect(result.explanation).toContain('would return 1')
  })

  test('catches a lost write: an acknowledged increment missing from a later read', () => {
    const r = new HistoryRecorder()
    okOp(r, call('c1', 'Counter/a', 'increment', 1), 1, 0, 1)
    okOp(r, call('c2', 'Counter/a', 'increment', 1), 2, 2, 3)
    const get = okOp(r, call('c1', 'Counter/a', 'get'), 1, 4, 5)
    const result = checkLinearizability(r.history(), counterModel())
    expect(result.ok).toBe(false)
    expect(result.keys[0]?.offendingOpId).toBe(get)
    expect(result.explanation).toMatch(/get\(\) → 1.*would return 2/)
  })

  test('drops failed operations: a read cannot see a failed write', () => {
    const r = new HistoryRecorder()
    const w = r.invoke(call('c1', 'R/x', 'write', 5), 0)
    r.fail(w, 'rejected', 1)
    okOp(r, call('c2', 'R/x', 'read'), 5, 2, 3)
    expect(checkLinearizability(r.history(), register).ok).toBe(false)
  })

  test('lets an unknown write take effect any time after its invoke, or never', () => {
    const r = new HistoryRecorder()
    const w = r.invoke(call('c1', 'R/x', 'write', 7), 0)
    r.info(w, 1)
    okOp(r, call('c2', 'R/x', 'read'), 0, 2, 3) // not yet applied
    okOp(r, call('c2', 'R/x', 'read'), 7, 4, 5) // applied after the client gave up
    expect(checkLinearizability(r.history(), register).ok).toBe(true)
    okOp(r, call('c2', 'R/x', 'read'), 0, 6, 7) // cannot be undone
    const result = checkLinearizability(r.history(), register)
    expect(result.ok).toBe(false)
    expect(result.explanation).toContain('#3')
  })

  test('treats an operation still pending at the end as unknown', () => {
    const r = new HistoryRecorder()
    r.invoke(call('c1', 'Counter/a', 'increment', 3), 0)
    okOp(r, call('c2', 'Counter/a', 'get'), 3, 1, 2)
    expect(checkLinearizability(r.history(), counterModel()).ok).toBe(true)
  })

  test('checks each key on its own and reports the failing key', () => {
    const r = new HistoryRecorder()
    okOp(r, call('c1', 'R/x', 'write', 1), undefined, 0, 1)
    okOp(r, call('c1', 'R/y', 'write', 2), undefined, 2, 3)
    okOp(r, call('c2', 'R/x', 'read'), 1, 4, 5)
    okOp(r, call('c2', 'R/y', 'read'), 1, 6, 7)
    const result = checkLinearizability(r.history(), register)
    expect(result.key).toBe('R/y')
    expect(result.keys.map((k) => [k.key, k.verdict])).toEqual([
      ['R/x', 'linearizable'],
      ['R/y', 'not-linearizable'],
    ])
  })

  test('respects recording order at equal times', () => {
    const r = new HistoryRecorder()
    okOp(r, call('c1', 'R/x', 'write', 1), undefined, 0, 5)
    okOp(r, call('c2', 'R/x', 'read'), 0, 5, 6) // invoked after the write returned, at the same tick
    expect(checkLinearizability(r.history(), register).ok).toBe(false)
  })

  test('throws on an operation the model does not know', () => {
    const r = new HistoryRecorder()
    okOp(r, call('c1', 'R/x', 'frobnicate'), 1, 0, 1)
    expect(() => checkLinearizability(r.history(), register)).toThrow(/does not know frobnicate/)
  })

  test('reports unknown when the step budget runs out', () => {
    const r = new HistoryRecorder()
    okOp(r, call('c1', 'R/x', 'write', 1), undefined, 0, 1)
    okOp(r, call('c1', 'R/x', 'read'), 1, 2, 3)
    const result = checkLinearizability(r.history(), register, { stepsMax: 1 })
    expect(result).toMatchObject({ ok: false, verdict: 'unknown', key: 'R/x' })
  })

  test('the account model never goes negative', () => {
    const r = new HistoryRecorder()
    okOp(r, call('c1', 'Account/a', 'deposit', 5), 5, 0, 1)
    okOp(r, call('c2', 'Account/a', 'withdraw', 7), 'insufficient', 2, 3)
    okOp(r, call('c2', 'Account/a', 'withdraw', 3), 2, 4, 5)
    expect(checkLinearizability(r.history(), accountModel()).ok).toBe(true)
    okOp(r, call('c1', 'Account/a', 'withdraw', 3), -1, 6, 7)
    expect(checkLinearizability(r.history(), accountModel()).ok).toBe(false)
  })
})

/** A small seeded generator (mulberry32), so the large histories are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Simulates `clients` concurrent clients per key running `perKey` operations; outputs are the true ones. */
function simulate<S>(model: Model<S, Call, unknown>, calls: (rand: () => number) => Call, keys: string[], perKey: number, clients: number, seed: number): HistoryRecorder {
  const rand = seeded(seed)
  const r = new HistoryRecorder()
  type Slot = { id: number; call: Call; phase: 'invoked' | 'applied'; output: unknown; outcome: 'ok' | 'fail' | 'info' }
  for (const key of keys) {
    let state = model.init()
    const slots: (Slot | undefined)[] = Array.from({ length: clients })
    let started = 0
    for (let t = 0; started < perKey || slots.some((s) => s !== undefined); t++) {
      for (let c = 0; c < clients; c++) {
        const slot = slots[c]
        if (rand() < 0.5) continue
        if (slot === undefined) {
          if (started >= perKey) continue
          const next = calls(rand)
          const roll = rand()
          const outcome = roll < 0.9 ? 'ok' : roll < 0.95 ? 'fail' : 'info'
          slots[c] = { id: r.invoke({ client: `c${c}`, key, ...next, requestId: `${key}-${started}` }, t), call: next, phase: 'invoked', output: undefined, outcome }
          started++
        } else if (slot.phase === 'invoked' && slot.outcome !== 'fail' && !(slot.outcome === 'info' && rand() < 0.5)) {
          const step = model.step(state, model.decode(slot.call)!)
          state = step.state
          slot.phase = 'applied'
          slot.output = step.output
        } else {
          if (slot.outcome === 'ok' && slot.phase === 'applied') r.ok(slot.id, slot.output, t)
          else if (slot.outcome === 'fail') r.fail(slot.id, 'rejected', t)
          else r.info(slot.id, t)
          slots[c] = undefined
        }
      }
    }
  }
  return r
}

describe('checkLinearizability on long histories', () => {
  const registerCalls = (rand: () => number): Call => {
    const v = Math.floor(rand() * 4)
    const roll = rand()
    if (roll < 0.4) return { name: 'read', input: undefined }
    if (roll < 0.8) return { name: 'write', input: v }
    return { name: 'cas', input: { from: v, to: Math.floor(rand() * 4) } }
  }
  const counterCalls = (rand: () => number): Call =>
    rand() < 0.5 ? { name: 'get', input: undefined } : { name: 'increment', input: 1 + Math.floor(rand() * 3) }

  test('checks 200 operations per key at concurrency 5 quickly, and explains a corrupted read', () => {
    const model = registerModel(0) as Model<unknown, Call, unknown>
    const keys = ['R/a', 'R/b', 'R/c']
    const history = simulate(model, registerCalls, keys, 200, 5, 7).history()
    let started = performance.now()
    const ok = checkLinearizability(history, model)
    const okMs = performance.now() - started
    expect(ok.ok).toBe(true)
    expect(ok.keys.map((k) => k.operations).every((n) => n > 180)).toBe(true)
    expect(okMs).toBeLessThan(2_000)

    const victim = history.find((op, i) => i > 300 && op.key === 'R/b' && op.name === 'read' && op.status === 'ok')!
    const corrupted = history.map((op) => (op === victim ? { ...op, output: 99 } : op))
    started = performance.now()
    const bad = checkLinearizability(corrupted, model)
    const badMs = performance.now() - started
    expect(bad).toMatchObject({ ok: false, key: 'R/b' })
    expect(bad.keys.find((k) => k.key === 'R/b')?.offendingOpId).toBe(victim.id)
    expect(bad.explanation).toContain(`#${victim.id} `)
    expect(badMs).toBeLessThan(5_000)
  })

  test('checks a long counter history with unknown increments', () => {
    const model = counterModel() as unknown as Model<unknown, Call, unknown>
    const history = simulate(model, counterCalls, ['Counter/a', 'Counter/b'], 200, 5, 11).history()
    expect(history.some((op) => op.status === 'info')).toBe(true)
    expect(checkLinearizability(history, model).ok).toBe(true)
  })
})
