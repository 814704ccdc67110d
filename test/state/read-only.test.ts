import { describe, expect, test } from 'vitest'
import { beginTurn, readOnlyTarget, readOnlyView, resolveDrafts } from '../../runtime/state/index.ts'

function state() {
  return {
    n: 1,
    list: [1, 2, { deep: 3 }],
    byName: new Map<string, { score: number }>([['ada', { score: 5 }]]),
    tags: new Set(['a', 'b']),
    at: new Date(0),
    bytes: new Uint8Array([1, 2, 3]),
    nested: { inner: { value: 'x' } },
  }
}

describe('read-only views of committed state', () => {
  test('read everything as the state holds it', () => {
    const raw = state()
    const view = readOnlyView(raw)
    expect(view.n).toBe(1)
    expect(view.list.length).toBe(3)
    expect(view.list.map((x) => (typeof x === 'number' ? x * 2 : x.deep))).toEqual([2, 4, 3])
    expect(view.byName.get('ada')!.score).toBe(5)
    expect([...view.byName].map(([k, v]) => [k, v.score])).toEqual([['ada', 5]])
    expect(view.byName.size).toBe(1)
    expect(view.tags.has('a')).toBe(true)
    expect([...view.tags]).toEqual(['a', 'b'])
    expect(view.at.getTime()).toBe(0)
    expect(view.bytes[1]).toBe(2)
    expect(Array.from(view.bytes.subarray(1))).toEqual([2, 3])
    expect({ ...view.nested.inner }).toEqual({ value: 'x' })
    expect(JSON.stringify(view.nested)).toBe('{"inner":{"value":"x"}}')
    expect(Array.isArray(view.list)).toBe(true)
    expect(view.byName instanceof Map).toBe(true)
    expect(Object.keys(view)).toEqual(Object.keys(raw))
  })

  test.each([
    ['assign a field', (s: ReturnType<typeof state>) => { s.n = 2 }],
    ['assign a nested field', (s: ReturnType<typeof state>) => { s.nested.inner.value = 'y' }],
    ['delete a field', (s: ReturnType<typeof state>) => { delete (s as Partial<ReturnType<typeof state>>).n }],
    ['push onto an array', (s: ReturnType<typeof state>) => { s.list.push(4) }],
    ['sort an array', (s: ReturnType<typeof state>) => { s.list.sort() }],
    ['set an array element', (s: ReturnType<typeof state>) => { s.list[0] = 9 }],
    ['change an object inside an array', (s: ReturnType<typeof state>) => { (s.list[2] as { deep: number }).deep = 4 }],
    ['set a Map entry', (s: ReturnType<typeof state>) => { s.byName.set('bob', { score: 1 }) }],
    ['change a value inside a Map', (s: ReturnType<typeof state>) => { s.byName.get('ada')!.score = 6 }],
    ['clear a Map', (s: ReturnType<typeof state>) => { s.byName.clear() }],
    ['add to a Set', (s: ReturnType<typeof state>) => { s.tags.add('c') }],
    ['delete from a Set', (s: ReturnType<typeof state>) => { s.tags.delete('a') }],
    ['change a Date', (s: ReturnType<typeof state>) => { s.at.setFullYear(2000) }],
    ['write a typed array element', (s: ReturnType<typeof state>) => { s.bytes[0] = 9 }],
    ['fill a typed array', (s: ReturnType<typeof state>) => { s.bytes.fill(0) }],
    ['write through a subarray', (s: ReturnType<typeof state>) => { s.bytes.subarray(1)[0] = 9 }],
    ['define a property', (s: ReturnType<typeof state>) => { Object.defineProperty(s, 'extra', { value: 1 }) }],
    ['assign through Object.assign', (s: ReturnType<typeof state>) => { Object.assign(s.nested, { more: 1 }) }],
  ])('refuses to %s with a TypeError, and the state is unchanged', (_name, change) => {
    const raw = state()
    const before = structuredClone(raw)
    expect(() => change(readOnlyView(raw))).toThrowError(TypeError)
    expect(raw).toEqual(before)
  })

  test.each([
    ['a frozen object\'s unfrozen child', () => { const raw = { f: Object.freeze({ inner: { x: 1 } }) }; return [raw, (s: typeof raw) => { s.f.inner.x = 666 }] as const }],
    ['a frozen Map', () => { const raw = { m: Object.freeze(new Map([['a', 1]])) }; return [raw, (s: typeof raw) => { s.m.set('b', 2) }] as const }],
    ['a frozen Date', () => { const raw = { d: Object.freeze(new Date(0)) }; return [raw, (s: typeof raw) => { s.d.setTime(5) }] as const }],
    ['a sealed array', () => { const raw = { a: Object.seal([{ n: 1 }]) }; return [raw, (s: typeof raw) => { s.a[0]!.n = 2 }] as const }],
    ['a frozen state', () => { const raw = Object.freeze({ list: [1] }); return [raw, (s: typeof raw) => { s.list.push(2) }] as const }],
  ])('guards what %s holds: a change throws a TypeError, and reads see the same values', (_name, make) => {
    const [raw, change] = make()
    const before = structuredClone(raw)
    const view = readOnlyView(raw)
    expect(() => (change as (s: typeof view) => void)(view)).toThrowError(TypeError)
    expect(raw).toEqual(before)
    expect(structuredClone(resolveDrafts(view))).toEqual(before)
  })

  test('a result that holds views resolves to the committed values themselves (plain data on the wire)', () => {
    const raw = state()
    const view = readOnlyView(raw)
    expect(readOnlyTarget(view.nested)).toBe(raw.nested)
    const result = resolveDrafts({ items: view.list, who: view.byName.get('ada'), n: view.n }) as Record<string, unknown>
    expect(result.items).toBe(raw.list)
    expect(result.who).toBe(raw.byName.get('ada'))
    expect(() => structuredClone(result)).not.toThrow()
    expect(resolveDrafts(view)).toBe(raw)
  })
})

describe('a read-only view written into a write turn\'s state', () => {
  test('is refused with Unjournalable (it would reach the journal as a proxy)', async () => {
    const { beginTurn } = await import('../../runtime/state/index.ts')
    const kept = readOnlyView({ inner: { n: 1 } })
    const turn = beginTurn<Record<string, unknown>>({ a: 1 })
    expect(() => { turn.draft.copy = kept.inner }).toThrowError(expect.objectContaining({ kind: 'Unjournalable' }))
    turn.rollback()
  })

  test('is refused inside a new value too, and anywhere in a replaced state', async () => {
    const { beginTurn } = await import('../../runtime/state/index.ts')
    const kept = readOnlyView({ inner: { n: 1 } })
    for (const write of [
      (draft: Record<string, unknown>) => { draft.wrapped = { deeper: [kept.inner] } },
      (draft: Record<string, unknown>) => { draft.inMap = new Map([['k', kept]]) },
    ]) {
      const turn = beginTurn<Record<string, unknown>>({ a: 1 })
      write(turn.draft)
      expect(() => turn.commit()).toThrowError(expect.objectContaining({ kind: 'Unjournalable', message: expect.stringContaining('read-only view') }))
      turn.rollback()
    }
    const replaced = beginTurn<Record<string, unknown>>({ a: 1 })
    replaced.replace({ a: 2, b: { c: kept } })
    expect(() => replaced.commit()).toThrowError(expect.objectContaining({ kind: 'Unjournalable' }))
    replaced.rollback()
  })
})

describe('resolveDrafts deeper than 256 (a payloadDepthMax raised past it)', () => {
  test('turns every draft into plain data down to the depth asked for', async () => {
    const { beginTurn } = await import('../../runtime/state/index.ts')
    type Deep = { next?: Deep; n: number }
    const root: Deep = { n: 0 }
    let at = root
    for (let i = 1; i <= 300; i++) at = at.next = { n: i }
    const turn = beginTurn<Deep>(root)
    let cursor = turn.draft
    for (let i = 0; i < 300; i++) cursor = cursor.next!
    cursor.n = -1
    expect(() => structuredClone(resolveDrafts(turn.draft, 0, 400))).not.toThrow()
    // The default stops at 256: a draft is left inside, which no copy can carry.
    expect(() => structuredClone(resolveDrafts(turn.draft))).toThrow()
    turn.rollback()
  })
})

describe('a view of a write turn\'s draft (what a @reentrant method sees beside it)', () => {
  test('follows a sealed new value as the write turn changes it', () => {
    const turn = beginTurn<{ n?: { x: number } }>({})
    const draft = turn.draft
    draft.n = Object.seal({ x: 1 })
    const view = readOnlyView(draft)
    expect(view.n!.x).toBe(1)
    draft.n!.x = 2 // sealed: its properties stay writable
    expect(view.n!.x).toBe(2)
  })
})
