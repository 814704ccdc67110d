import { describe, expect, test } from 'vitest'
import { applyPatch, beginTurn, resolveDrafts, type Patch } from '../../runtime/state/index.ts'
import { strictDiff } from './support/strict-diff.ts'

interface Counter { count: number }

/** Runs `body` as a turn on `state`; returns the patch and the new state. */
function turnOn<S>(state: S, body: (draft: S) => void): { patch: Patch | undefined; state: S } {
  const turn = beginTurn(state)
  body(turn.draft)
  const patch = turn.commit()
  return { patch, state: turn.state }
}

describe('turns', () => {
  test('a counter increment yields one set and a new state, leaving the old one alone', () => {
    const before: Counter = { count: 1 }
    const { patch, state } = turnOn(before, (s) => { s.count += 2 })
    expect(patch).toEqual([{ op: 'set', path: ['count'], value: 3 }])
    expect(state).toEqual({ count: 3 })
    expect(before).toEqual({ count: 1 })
  })

  test('a method that only reads yields no patch and keeps the very same state', () => {
    const before = { count: 1, items: [{ n: 1 }], byId: new Map([['a', { n: 2 }]]), tags: new Set(['x']), at: new Date(5) }
    const { patch, state } = turnOn(before, (s) => {
      void s.count; void s.items[0]!.n; void [...s.byId.values()].map((v) => v.n); void s.tags.has('x'); void s.at.getTime()
      void JSON.stringify(s.items); void Object.keys(s); void { ...s.items[0] }
    })
    expect(patch).toBeUndefined()
    expect(state).toBe(before)
  })

  test('writing a value equal to the current one yields no patch', () => {
    const before = { count: 1, at: new Date(5), buf: new Uint8Array([1]) }
    const { patch, state } = turnOn(before, (s) => { s.count = 1; s.at.setTime(5); s.buf[0] = 1; s.count = 2; s.count = 1 })
    expect(patch).toBeUndefined()
    expect(state).toBe(before)
  })

  test('a turn that throws leaves the state exactly as it was', () => {
    const before = { count: 1, list: [1, 2, 3], byId: new Map([['a', { n: 1 }]]), tags: new Set([1]) }
    const snapshot = structuredClone(before)
    const turn = beginTurn(before)
    const method = (s: typeof before) => {
      s.count = 99; s.list.sort((a, b) => b - a); s.list.length = 1; s.byId.get('a')!.n = 7; s.byId.delete('a'); s.tags.clear()
      throw new Error('boom')
    }
    expect(() => method(turn.draft)).toThrow('boom')
    turn.rollback()
    expect(turn.state).toBe(before)
    expect(strictDiff(before, snapshot)).toBeUndefined()
  })

  test('rollback after commit restores the original state (for a failed journal append)', () => {
    const before = { count: 1 }
    const turn = beginTurn(before)
    turn.draft.count = 2
    expect(turn.commit()).toBeDefined()
    turn.rollback()
    expect(turn.state).toBe(before)
    expect(before.count).toBe(1)
  })

  test('the same nested object read twice gives the same proxy', () => {
    const turn = beginTurn({ a: { b: { c: 1 } }, list: [{ n: 1 }], byId: new Map([['k', { n: 1 }]]) })
    const s = turn.draft
    expect(s.a).toBe(s.a)
    expect(s.a.b).toBe(s.a.b)
    expect(s.list[0]).toBe(s.list[0])
    expect(s.byId.get('k')).toBe(s.byId.get('k'))
    const first = s.a.b
    first.c = 2
    expect(s.a.b).toBe(first)
    expect(s.a.b.c).toBe(2)
  })

  test('a draft written into a second place is the same object in both for the rest of the turn', () => {
    const before = { a: { n: 1 } as { n: number }, b: undefined as { n: number } | undefined }
    const { patch, state } = turnOn(before, (s) => { s.b = s.a; s.b.n = 2 })
    expect(state.a).toEqual({ n: 2 })
    expect(state.b).toBe(state.a)
    expect(applyPatch(structuredClone(before), patch!)).toEqual({ a: { n: 2 }, b: { n: 2 } })
  })

  test('a new object put in two places is one object for the rest of the turn, and two copies once committed', () => {
    const before = { list: [] as Array<{ q: number }> } as { a?: { q: number }; b?: { q: number }; list: Array<{ q: number }> }
    const { patch, state } = turnOn(before, (s) => {
      const o = { q: 1 }
      s.a = o
      s.b = o
      s.a.q = 2
      expect(s.b.q).toBe(2)
      expect(s.a).toBe(s.b)
      const p = { q: 1 }
      s.list.push(p, p)
      s.list[0]!.q = 3
      expect(s.list[1]!.q).toBe(3)
    })
    expect(state).toEqual({ a: { q: 2 }, b: { q: 2 }, list: [{ q: 3 }, { q: 3 }] })
    expect(strictDiff(applyPatch(structuredClone(before), patch!), state)).toBeUndefined()
  })

  test('a draft inside a new value, changed after the value was written, journals a patch that replays', () => {
    // The new value's slot took the nested draft's in-place edit for its own: the patch set n.a and failed to replay.
    const before = { ef: { a: {} as { a?: boolean } } } as { ef: { a: { a?: boolean } }; n?: { x: unknown } }
    const { patch, state } = turnOn(before, (s) => {
      s.n = { x: s.ef }
      s.ef.a.a = false
    })
    expect(state).toEqual({ ef: { a: { a: false } }, n: { x: { a: { a: false } } } })
    expect(strictDiff(applyPatch(structuredClone(before), patch!), state)).toBeUndefined()
  })

  test('an object reached by two paths in committed state changes only where it is written', () => {
    const shared = { n: 1 }
    const { state } = turnOn({ a: shared, b: shared }, (s) => { s.a.n = 2 })
    expect(state.a.n).toBe(2)
    expect(state.b.n).toBe(1)
    expect(shared.n).toBe(1)
  })

  test('nested writes journal the deepest path only, and share untouched subtrees', () => {
    const before = { deep: { a: { b: { c: 1 } } }, other: { big: [1, 2, 3] } }
    const { patch, state } = turnOn(before, (s) => { s.deep.a.b.c = 2 })
    expect(patch).toEqual([{ op: 'set', path: ['deep', 'a', 'b', 'c'], value: 2 }])
    expect(state.other).toBe(before.other)
  })

  test('delete of a property is journaled', () => {
    const before: { a?: number; b: number } = { a: 1, b: 2 }
    const { patch, state } = turnOn(before, (s) => { delete s.a })
    expect(patch).toEqual([{ op: 'delete', path: ['a'] }])
    expect(state).toEqual({ b: 2 })
  })

  test('a key deleted and set again moves to the end, in the state and in the replay', () => {
    const before = { a: 1, b: 2, c: 3 } as Record<string, number>
    const { patch, state } = turnOn(before, (s) => { delete s.a; s.a = 1 })
    expect(Object.keys(state)).toEqual(['b', 'c', 'a'])
    expect(Object.keys(applyPatch(structuredClone(before), patch!))).toEqual(['b', 'c', 'a'])
  })

  test('replacing a whole subtree journals one set of that subtree', () => {
    const before = { profile: { name: 'a', tags: ['x'] } }
    const { patch } = turnOn(before, (s) => { s.profile = { name: 'b', tags: [] } })
    expect(patch).toEqual([{ op: 'set', path: ['profile'], value: { name: 'b', tags: [] } }])
  })

  test('replace() swaps the whole state and journals a set of the root', () => {
    const before = { count: 1 }
    const turn = beginTurn(before)
    turn.replace({ count: 5 })
    turn.draft.count++
    const patch = turn.commit()
    expect(patch).toEqual([{ op: 'set', path: [], value: { count: 6 } }])
    expect(turn.state).toEqual({ count: 6 })
    expect(before).toEqual({ count: 1 })
  })

  test('replace() may reuse drafts of the old state', () => {
    const before = { items: [1, 2], count: 1 }
    const turn = beginTurn(before)
    const items = turn.draft.items
    turn.replace({ items, count: 0 })
    items.push(3)
    turn.commit()
    expect(turn.state).toEqual({ items: [1, 2, 3], count: 0 })
    expect(before.items).toEqual([1, 2])
  })

  test('a draft used after its turn ended throws', () => {
    const turn = beginTurn({ a: { n: 1 } })
    const a = turn.draft.a
    turn.commit()
    expect(() => a.n).toThrow(TypeError)
    expect(() => { a.n = 2 }).toThrow(TypeError)
  })

  test('commit twice is a programmer error', () => {
    const turn = beginTurn({ n: 1 })
    turn.commit()
    expect(() => turn.commit()).toThrow(/already ended/)
  })
})

describe('arrays', () => {
  test('push journals the new index only', () => {
    const { patch, state } = turnOn({ list: [1, 2] }, (s) => { s.list.push(3) })
    expect(patch).toEqual([{ op: 'set', path: ['list', 2], value: 3 }])
    expect(state.list).toEqual([1, 2, 3])
  })

  test('pop, splice, sort, shrinking length and holes replay exactly', () => {
    const before = { list: [5, 1, 4, 2, 3, 9, 8] as (number | undefined)[] }
    const { patch, state } = turnOn(before, (s) => {
      s.list.pop(); s.list.splice(1, 2, 7); s.list.sort((a, b) => a! - b!); delete s.list[1]; s.list.length = 8
    })
    expect(strictDiff(applyPatch(structuredClone(before), patch!), state)).toBeUndefined()
    expect(1 in state.list).toBe(false)
    expect(state.list.length).toBe(8)
    expect(before.list).toEqual([5, 1, 4, 2, 3, 9, 8])
  })

  test('Array.isArray and iteration work on array drafts', () => {
    const turn = beginTurn({ list: [{ n: 1 }, { n: 2 }] })
    const list = turn.draft.list
    expect(Array.isArray(list)).toBe(true)
    expect(list.map((x) => x.n)).toEqual([1, 2])
    for (const item of list) item.n *= 10
    expect(turn.commit()).toEqual([{ op: 'set', path: ['list', 0, 'n'], value: 10 }, { op: 'set', path: ['list', 1, 'n'], value: 20 }])
  })
})

describe('Map, Set, Date and typed arrays', () => {
  test('Map.set inside nested object is journaled', () => {
    const before = { room: { members: new Map<string, { joined: number }>() } }
    const { patch, state } = turnOn(before, (s) => { s.room.members.set('alice', { joined: 1 }) })
    expect(patch).toEqual([{ op: 'set', path: ['room', 'members', 'alice'], value: { joined: 1 } }])
    expect(state.room.members.get('alice')).toEqual({ joined: 1 })
    expect(before.room.members.size).toBe(0)
  })

  test('a change inside a Map value is journaled by path through the Map key', () => {
    const before = { byId: new Map([[7, { score: 1 }]]) }
    const { patch } = turnOn(before, (s) => { s.byId.get(7)!.score++ })
    expect(patch).toEqual([{ op: 'set', path: ['byId', 7, 'score'], value: 2 }])
  })

  test('Map delete, clear and iteration', () => {
    const before = { m: new Map([['a', 1], ['b', 2]]) }
    const turn = beginTurn(before)
    const m = turn.draft.m
    expect([...m]).toEqual([['a', 1], ['b', 2]])
    expect(m.delete('a')).toBe(true)
    expect(m.size).toBe(1)
    m.clear(); m.set('c', 3)
    expect(turn.commit()).toEqual([{ op: 'clear', path: ['m'] }, { op: 'set', path: ['m', 'c'], value: 3 }])
    expect([...turn.state.m]).toEqual([['c', 3]])
  })

  test('Set add and delete are journaled as add and remove', () => {
    const before = { tags: new Set(['a', 'b']) }
    const { patch, state } = turnOn(before, (s) => { s.tags.add('c'); s.tags.delete('a'); s.tags.add('b') })
    expect(patch).toEqual([{ op: 'remove', path: ['tags'], value: 'a' }, { op: 'add', path: ['tags'], value: 'c' }])
    expect([...state.tags]).toEqual(['b', 'c'])
  })

  test('Date setters copy the Date and journal it whole', () => {
    const before = { at: new Date(Date.UTC(2020, 0, 1)) }
    const { patch, state } = turnOn(before, (s) => {
      expect(s.at instanceof Date).toBe(true)
      s.at.setUTCFullYear(2021)
    })
    expect(patch).toEqual([{ op: 'set', path: ['at'], value: new Date(Date.UTC(2021, 0, 1)) }])
    expect(state.at.getUTCFullYear()).toBe(2021)
    expect(before.at.getUTCFullYear()).toBe(2020)
  })

  test('typed array writes copy the array and journal it whole', () => {
    const before = { buf: new Uint8Array([1, 2, 3]) }
    const { patch, state } = turnOn(before, (s) => { s.buf[0] = 9; s.buf.reverse() })
    expect(patch).toEqual([{ op: 'set', path: ['buf'], value: new Uint8Array([3, 2, 9]) }])
    expect(state.buf).toEqual(new Uint8Array([3, 2, 9]))
    expect(before.buf).toEqual(new Uint8Array([1, 2, 3]))
  })
})

describe('committed state shares nothing the turn can still reach', () => {
  test('an object written into state is copied: changing it through a kept reference later changes no state', () => {
    const kept = { n: 1, inner: { list: [1, 2] }, byId: new Map([['a', { v: 1 }]]), at: new Date(0), tags: new Set([1]) }
    const { patch, state } = turnOn<Record<string, typeof kept>>({}, (s) => { s.o = kept })
    kept.n = 99
    kept.inner.list.push(3)
    kept.byId.get('a')!.v = 5
    kept.at.setTime(1000)
    kept.tags.add(2)
    const expected = { o: { n: 1, inner: { list: [1, 2] }, byId: new Map([['a', { v: 1 }]]), at: new Date(0), tags: new Set([1]) } }
    expect(strictDiff(state, expected)).toBeUndefined()
    // The journal's record holds the very same value as the state: a backup replays what the primary holds.
    expect(patch).toEqual([{ op: 'set', path: ['o'], value: expected.o }])
    expect((patch![0] as { value: unknown }).value).toBe(state.o)
  })

  test('a container reached twice in a new value is copied once; a cycle is still refused', () => {
    const shared = { n: 1 }
    const { state } = turnOn<Record<string, { a: { n: number }; b: { n: number } }>>({}, (s) => { s.o = { a: shared, b: shared } })
    expect(state.o!.a).toBe(state.o!.b)
    expect(state.o!.a).not.toBe(shared)
  })

  test('a null-prototype object is committed as a plain object, as the journal and every backup read it back', () => {
    const bare = Object.assign(Object.create(null) as Record<string, number>, { x: 1 })
    const { state } = turnOn<Record<string, Record<string, number>>>({}, (s) => { s.bare = bare })
    expect(Object.getPrototypeOf(state.bare)).toBe(Object.prototype)
    expect(state.bare).toEqual({ x: 1 })
  })

  test("what a typed array's fill, sort or subarray returned in a turn does not alias the committed array", () => {
    let filled: Uint8Array | undefined
    let part: Uint8Array | undefined
    const { state } = turnOn({ t: new Uint8Array([1, 9, 3]) }, (s) => { filled = s.t.fill(3, 0, 1); part = s.t.subarray(0, 2) })
    expect(state.t).toEqual(new Uint8Array([3, 9, 3]))
    filled![1] = 77
    part![0] = 55
    expect(state.t).toEqual(new Uint8Array([3, 9, 3]))
  })
})

describe('resolveDrafts: a draft handed out of its turn becomes a plain copy of its value', () => {
  test('of every kind of container, typed arrays and dates keeping their class, read or written', () => {
    const before = { items: [{ n: 1 }], byId: new Map([['a', { n: 2 }]]), tags: new Set(['x']), at: new Date(5), bytes: new Uint8Array([1, 2, 3]), floats: new Float64Array([0.5]), nested: { deep: { v: 1 } } }
    const turn = beginTurn(before)
    const s = turn.draft
    s.bytes[0] = 9
    s.at.setTime(7)
    s.items.push({ n: 2 })
    const out = resolveDrafts({ ...s, list: [s.bytes, s.at], inMap: new Map([['k', s.floats]]) }) as Record<string, unknown>
    expect(out['bytes']).toBeInstanceOf(Uint8Array)
    expect(Array.from(out['bytes'] as Uint8Array)).toEqual([9, 2, 3])
    expect(out['floats']).toBeInstanceOf(Float64Array)
    expect(out['at']).toBeInstanceOf(Date)
    expect((out['at'] as Date).getTime()).toBe(7)
    expect((out['list'] as unknown[])[0]).toBeInstanceOf(Uint8Array)
    expect((out['inMap'] as Map<string, unknown>).get('k')).toBeInstanceOf(Float64Array)
    expect(out['items']).toEqual([{ n: 1 }, { n: 2 }])
    expect(out['byId']).toEqual(new Map([['a', { n: 2 }]]))
    expect(out['tags']).toEqual(new Set(['x']))
    expect(out['nested']).toEqual({ deep: { v: 1 } })
    // A plain copy: it can be cloned (a proxy cannot), and it outlives the turn.
    expect(() => structuredClone(out)).not.toThrow()
    turn.commit()
    expect(Array.from(out['bytes'] as Uint8Array)).toEqual([9, 2, 3])
  })

  test('values without drafts come back as they are, a Map too', () => {
    const m = new Map([['a', { n: 1 }]])
    const args = [m, { x: 1 }, [1, 2]]
    const resolved = resolveDrafts(args) as unknown[]
    expect(resolved).toBe(args)
    expect(resolved[0]).toBe(m)
  })
})
