import { describe, expect, test } from 'vitest'
import { intentTag, RequestTable } from '../runtime/durability/request-table.ts'

describe('RequestTable', () => {
  test('keeps the newest sizeMax request ids and forgets the oldest', () => {
    const table = new RequestTable(3)
    for (let i = 1; i <= 5; i++) table.set(`r${i}`, i, i * 10)
    expect(table.get('r1')).toBeUndefined()
    expect(table.get('r2')).toBeUndefined()
    expect(table.get('r5')).toEqual({ seq: 5, result: 50 })
    expect(table.toEntries()).toEqual([['r3', 3, 30], ['r4', 4, 40], ['r5', 5, 50]])
    expect(table.size).toBe(3)
  })

  test('a repeated id updates its entry without taking a new place', () => {
    const table = new RequestTable(2)
    table.set('a', 1, 'x')
    table.set('b', 2, 'y')
    table.set('a', 3, 'z')
    expect(table.toEntries()).toEqual([['a', 3, 'z'], ['b', 2, 'y']])
    table.set('c', 4, 'w')
    expect(table.get('a')).toBeUndefined()
  })

  test('knows its unfinished turns (an intent, no outcome yet): ended by the outcome, kept by snapshots, dropped on eviction', () => {
    const intent = (method: string) => ({ [intentTag]: true as const, method, args: [1] })
    const table = new RequestTable(3)
    table.set('t1', 1, intent('transfer'))
    table.set('t2', 2, intent('move'))
    table.set('x', 3, 'plain')
    expect(table.hasUnfinished).toBe(true)
    expect(table.unfinished().map((u) => [u.requestId, u.seq, u.intent.method])).toEqual([['t1', 1, 'transfer'], ['t2', 2, 'move']])
    table.set('t2', 4, 7) // t2's own record: it ended
    expect(table.unfinished().map((u) => u.requestId)).toEqual(['t1'])
    expect(new RequestTable(3, table.toEntries()).unfinished().map((u) => u.requestId)).toEqual(['t1'])
    table.set('y', 5, 'plain') // evicts t1, the oldest
    expect(table.hasUnfinished).toBe(false)
    expect(table.unfinished()).toEqual([])
  })

  test('round-trips through its entries (snapshots and replicas)', () => {
    const table = new RequestTable(4)
    for (let i = 0; i < 7; i++) table.set(`id${i}`, i, { n: i })
    expect(new RequestTable(4, table.toEntries()).toEntries()).toEqual(table.toEntries())
  })
})

describe('RequestTable against a plain model', () => {
  test('many ids: its index finds every id it keeps and none it evicted, across growth and eviction', async () => {
    const fc = (await import('fast-check')).default
    fc.assert(fc.property(fc.integer({ min: 1, max: 80 }), fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 400 }), (sizeMax, ops) => {
      const table = new RequestTable(sizeMax)
      const model = new Map<string, number>()
      ops.forEach((n, seq) => {
        const id = `client.q:${n.toString(36)}`
        if (seq % 2 === 0) expect(table.get(id)?.seq).toBe(model.get(id))
        table.set(id, seq, n)
        if (!model.has(id) && model.size === sizeMax) model.delete(model.keys().next().value!)
        model.set(id, seq)
      })
      for (let n = 0; n <= 400; n++) {
        const id = `client.q:${n.toString(36)}`
        expect(table.get(id)?.seq).toBe(model.get(id))
      }
      expect(table.size).toBe(model.size)
    }), { numRuns: 300 })
  })

  test('any sequence of sets keeps exactly the newest sizeMax distinct ids, each with its last record, oldest first', async () => {
    const fc = (await import('fast-check')).default
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), fc.integer({ min: 0, max: 99 })), { maxLength: 60 }), (sizeMax, ops) => {
      const table = new RequestTable(sizeMax)
      const model: Array<[string, number, unknown]> = []
      for (const [id, seq] of ops) {
        // Look ids up too (a call's arrival): a lookup that misses lets the set after it skip its own.
        if (seq % 3 === 0) table.get(id)
        if (seq % 5 === 0) table.get(String.fromCharCode(id.charCodeAt(0) + 1))
        table.set(id, seq, `r${seq}`)
        const at = model.findIndex((e) => e[0] === id)
        if (at >= 0) model[at] = [id, seq, `r${seq}`]
        else {
          model.push([id, seq, `r${seq}`])
          if (model.length > sizeMax) model.shift()
        }
      }
      expect(table.toEntries()).toEqual(model)
      expect(table.size).toBe(model.length)
      for (const id of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) {
        const e = model.find((m) => m[0] === id)
        expect(table.get(id)).toEqual(e ? { seq: e[1], result: e[2] } : undefined)
      }
      expect(new RequestTable(sizeMax, table.toEntries()).toEntries()).toEqual(model)
    }), { numRuns: 500 })
  })
})
