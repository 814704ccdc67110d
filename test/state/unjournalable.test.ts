import { describe, expect, test } from 'vitest'
import { isTroupeError } from '../../runtime/errors.ts'
import { assertJournalable, beginTurn } from '../../runtime/state/index.ts'
import { strictDiff } from './support/strict-diff.ts'

type Loose = Record<string, unknown> & { nested: Record<string, unknown>; list: unknown[]; byId: Map<unknown, unknown>; tags: Set<unknown> }

function fresh(): Loose {
  return { nested: { deep: {} }, list: [1, { x: 1 }], byId: new Map([['a', { n: 1 }]]), tags: new Set([1]) }
}

/** The Unjournalable error `body` causes, at the write or at commit; checks the state is unchanged. */
function refusal(body: (s: Loose) => void): Error {
  const before = fresh()
  const snapshot = structuredClone(before)
  const turn = beginTurn(before)
  let caught: unknown
  try {
    body(turn.draft)
    turn.commit()
  } catch (error) {
    caught = error
    turn.rollback()
  }
  expect(isTroupeError(caught, 'Unjournalable')).toBe(true)
  expect(turn.state).toBe(before)
  expect(strictDiff(before, snapshot)).toBeUndefined()
  return caught as Error
}

class Point { x = 1 }

describe('unjournalable values', () => {
  test('rejects a function put into state with Unjournalable naming the path', () => {
    expect(refusal((s) => { s.nested.cb = () => 1 }).message).toMatch(/state\.nested\.cb is a function/)
  })

  test('rejects a function hidden inside a new object at commit, naming the full path', () => {
    expect(refusal((s) => { s.nested.deep = { inner: [0, { cb: () => 1 }] } }).message).toMatch(/state\.nested\.deep\.inner\[1\]\.cb is a function/)
  })

  test('rejects a function added to a new object after it was written into state', () => {
    expect(refusal((s) => { const o: Record<string, unknown> = {}; s.nested.o = o; o.late = () => 1 }).message).toMatch(/state\.nested\.o\.late is a function/)
  })

  test('rejects a symbol value and a symbol key', () => {
    expect(refusal((s) => { s.nested.sym = Symbol('x') }).message).toMatch(/state\.nested\.sym is a symbol/)
    expect(refusal((s) => { (s.nested as Record<symbol, unknown>)[Symbol('k')] = 1 }).message).toMatch(/symbol key/)
  })

  test('rejects WeakMap, WeakSet, Promise and class instances', () => {
    expect(refusal((s) => { s.list.push(new WeakMap()) }).message).toMatch(/state\.list\[2\] is a WeakMap/)
    expect(refusal((s) => { s.nested.ws = new WeakSet() }).message).toMatch(/is a WeakSet/)
    expect(refusal((s) => { s.byId.set('p', Promise.resolve(1)) }).message).toMatch(/state\.byId\.p is a Promise/)
    expect(refusal((s) => { s.nested.deep = { at: new Point() } }).message).toMatch(/state\.nested\.deep\.at is a Point/)
  })

  test('rejects object Map keys and object Set members', () => {
    expect(refusal((s) => { s.byId.set({}, 1) }).message).toMatch(/Map keys must be strings or numbers/)
    expect(refusal((s) => { s.tags.add({}) }).message).toMatch(/Set members must be primitives/)
    expect(refusal((s) => { s.nested.m = new Map([[{}, 1]]) }).message).toMatch(/state\.nested\.m is a Map with a key/)
  })

  test('rejects a cycle', () => {
    expect(refusal((s) => { s.nested.self = s.nested }).message).toMatch(/cycle/)
    expect(refusal((s) => { const o: Record<string, unknown> = {}; o.o = o; s.nested.o = o }).message).toMatch(/cycle/)
  })

  test('rejects non-index properties on arrays and __proto__ keys', () => {
    expect(refusal((s) => { (s.list as unknown as Record<string, unknown>).extra = 1 }).message).toMatch(/non-index property/)
    expect(refusal((s) => { s.nested.__proto__ = {} }).message).toMatch(/__proto__/)
  })

  test('allows typed arrays, Dates, bigint, undefined, NaN and null-prototype objects', () => {
    const turn = beginTurn<Record<string, unknown>>({})
    Object.assign(turn.draft, { u8: new Uint8Array(2), f64: new Float64Array([Number.NaN]), at: new Date(0), big: 10n, none: undefined, nan: Number.NaN, bare: Object.create(null) as object })
    expect(turn.commit()).toHaveLength(7)
  })

  test('rejects what a copy would drop: a getter or setter, a property that is not enumerable, own properties of a Map, Set or Date', () => {
    let reads = 0
    expect(refusal((s) => { s.nested.g = { get x() { return ++reads } } }).message).toMatch(/state\.nested\.g\.x is an accessor property/)
    expect(refusal((s) => { s.nested.h = Object.defineProperty({ a: 1 }, 'hidden', { value: 42, enumerable: false }) }).message).toMatch(/state\.nested\.h is an object with properties that are not enumerable/)
    expect(refusal((s) => { s.nested.m = Object.assign(new Map([['k', 1]]), { extra: 'x' }) }).message).toMatch(/state\.nested\.m is a Map with properties of its own/)
    expect(refusal((s) => { s.nested.t = Object.assign(new Set([1]), { extra: 'x' }) }).message).toMatch(/a Set with properties of its own/)
    expect(refusal((s) => { s.nested.d = Object.assign(new Date(0), { extra: 'x' }) }).message).toMatch(/a Date with properties of its own/)
    expect(refusal((s) => { s.nested.shared = new Int32Array(new SharedArrayBuffer(8)) }).message).toMatch(/state\.nested\.shared is a typed array on a SharedArrayBuffer/)
  })

  test('assertJournalable checks a whole initial state', () => {
    expect(() => assertJournalable({ ok: [1, new Map([['a', new Set([1])]])] })).not.toThrow()
    expect(() => assertJournalable({ bad: { list: [new Point()] } })).toThrow(/state\.bad\.list\[0\] is a Point/)
  })

  test('a state proxy kept from another turn is refused', () => {
    const old = beginTurn({ a: { n: 1 } })
    const stale = old.draft.a
    old.commit()
    const turn = beginTurn<Record<string, unknown>>({})
    expect(() => { turn.draft.x = stale }).toThrow(/another turn/)
  })
})
