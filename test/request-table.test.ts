import { describe, expect, test } from 'vitest'
import { RequestTable } from '../runtime/durability/request-table.ts'

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

  test('round-trips through its entries (snapshots and replicas)', () => {
    const table = new RequestTable(4)
    for (let i = 0; i < 7; i++) table.set(`id${i}`, i, { n: i })
    expect(new RequestTable(4, table.toEntries()).toEntries()).toEqual(table.toEntries())
  })
})
