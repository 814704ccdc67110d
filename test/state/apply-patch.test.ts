import { describe, expect, test } from 'vitest'
import { isTroupeError } from '../../runtime/errors.ts'
import { applyPatch, type PatchOp } from '../../runtime/state/index.ts'

describe('applyPatch', () => {
  test('never mutates the state it is given', () => {
    const state = { a: { b: [1, 2] }, m: new Map([['k', { n: 1 }]]), s: new Set([1]) }
    const snapshot = structuredClone(state)
    const next = applyPatch(state, [
      { op: 'set', path: ['a', 'b', 0], value: 9 },
      { op: 'set', path: ['m', 'k', 'n'], value: 2 },
      { op: 'add', path: ['s'], value: 2 },
    ])
    expect(state).toEqual(snapshot)
    expect(next).toEqual({ a: { b: [9, 2] }, m: new Map([['k', { n: 2 }]]), s: new Set([1, 2]) })
  })

  test('one owned set across patches (a replay) copies each container once, and still never mutates the given state or the values patches carry', () => {
    const state = { seen: { a: 1 } as Record<string, unknown>, other: { x: 1 } }
    const before = structuredClone(state)
    const owned = new Set<object>()
    const carried = { deep: { n: 1 } }
    let next: typeof state = state
    for (let i = 0; i < 100; i++) next = applyPatch(next, [{ op: 'set', path: ['seen', `k${i}`], value: i }], owned)
    next = applyPatch(next, [{ op: 'set', path: ['seen', 'carried'], value: carried }], owned)
    next = applyPatch(next, [{ op: 'set', path: ['seen', 'carried', 'deep', 'n'], value: 2 }], owned)
    // The root and `seen` copied once each for 100 records (each record copied both before), then the carried value and its inside.
    expect(owned.size).toBe(4)
    expect(state).toEqual(before)
    expect(carried).toEqual({ deep: { n: 1 } })
    expect(Object.keys(next.seen)).toHaveLength(102)
    expect(next.seen.carried).toEqual({ deep: { n: 2 } })
    expect(next.other).toBe(state.other)
  })

  test('a set of the empty path replaces the whole state', () => {
    expect(applyPatch({ a: 1 }, [{ op: 'set', path: [], value: { b: 2 } }])).toEqual({ b: 2 })
  })

  test('a patch that does not fit the state is a CorruptRecord error', () => {
    const bad: PatchOp[][] = [
      [{ op: 'set', path: ['missing', 'x'], value: 1 }],
      [{ op: 'add', path: ['a'], value: 1 }],
      [{ op: 'delete', path: [] }],
      [{ op: 'set', path: ['__proto__'], value: 1 }],
      [{ op: 'bogus', path: ['a'] } as unknown as PatchOp],
    ]
    for (const patch of bad) {
      let caught: unknown
      try { applyPatch({ a: 1 }, patch) } catch (error) { caught = error }
      expect(isTroupeError(caught, 'CorruptRecord')).toBe(true)
    }
  })

  test('refuses to walk into prototypes', () => {
    expect(() => applyPatch({}, [{ op: 'set', path: ['constructor', 'prototype', 'polluted'], value: 1 }])).toThrow(/does not fit/)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
