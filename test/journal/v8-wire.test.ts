import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deserialize, Serializer } from 'node:v8'
import { describe, expect, test } from 'vitest'
import { isTroupeError } from '../../runtime/errors.ts'
import { ByteWriter } from '../../runtime/journal/byte-writer.ts'
import { FileJournalStorage } from '../../runtime/journal/file-storage.ts'
import { v8Codec } from '../../runtime/journal/v8-codec.ts'
import { matchesSerializer, wireProbes, writeV8Record, writeV8Value } from '../../runtime/journal/v8-wire.ts'
import { rec } from './conformance.ts'

function serializerBytes(value: unknown): Uint8Array {
  const serializer = new Serializer()
  serializer.writeHeader()
  serializer.writeValue(value)
  return Uint8Array.from(serializer.releaseBuffer())
}

/** What the fast path (or its fallback) writes for `value`, at an odd offset of a small chunk. */
function written(value: unknown, chunkBytes = 16): Uint8Array {
  const w = new ByteWriter(chunkBytes)
  w.u8(0xaa)
  w.begin()
  writeV8Value(w, value)
  return Uint8Array.from(w.bytes.subarray(w.mark, w.pos))
}

const plain: [string, unknown][] = [
  ['numbers', { a: 0, b: -1, c: 2 ** 31 - 1, d: -(2 ** 31), e: 2 ** 31, f: 0.5, g: -0, h: Number.NaN, i: Infinity, j: 2 ** 53 }],
  ['strings', { ascii: 'abc', latin: 'caf\u00e9', wide: '\u20ac', long: 'q'.repeat(1000), longWide: '\u00e9\u20ac'.repeat(100), empty: '', lone: 'a\ud800b' }],
  ['odd-placed two-byte strings', ['x', '\u20ac', 'xy', '\u20acz', { k: '\u4e2d\u6587' }]],
  ['nesting', { a: { b: { c: [1, [2, [3, { d: null, e: undefined, f: true, g: false }]]] } } }],
  ['empty containers', { o: {}, a: [], n: [[]] }],
  ['keys that are not indices', { '': 1, '-1': 2, 'a1': 3, '\u20ac': 4, ' 1': 5 }],
  ['a record', { seq: 12, epoch: 3, requestId: 'req-12', patch: { add: 5 }, result: [1, 'two'] }],
]

describe('V8 wire fast path', () => {
  test('passes its load-time self-check (so it is on)', () => {
    const w = new ByteWriter(64)
    for (const probe of wireProbes) expect(matchesSerializer(probe, w)).toBe(true)
  })

  test.each(plain)('writes exactly the bytes of v8.Serializer for %s', (_, value) => {
    expect(matchesSerializer(value, new ByteWriter(8))).toBe(true)
    expect(written(value)).toEqual(serializerBytes(value))
  })

  test('writeV8Record writes the bytes of the record object, falling back for what it cannot write', () => {
    const values: unknown[] = [0, 'x', { n: [1, 2] }, new Map([[1, 2]]), 10n, undefined, { d: new Date(5) }]
    for (const patch of values) {
      for (const result of values) {
        const record = { seq: 3, epoch: 1, requestId: 'r', patch, result }
        const w = new ByteWriter(8)
        writeV8Record(w, record)
        expect(Uint8Array.from(w.bytes.subarray(0, w.pos))).toEqual(serializerBytes(record))
      }
    }
    const odd = { seq: 'not a number' as unknown as number, epoch: 1, requestId: 'r', patch: 1, result: 2 }
    const w = new ByteWriter(8)
    writeV8Record(w, odd)
    expect(deserialize(w.bytes.subarray(0, w.pos))).toEqual(odd)
  })

  class Point { constructor(readonly x: number) {} }
  const shared = { s: 1 }
  const cyclic: Record<string, unknown> = { name: 'loop' }
  cyclic.self = cyclic
  const holey = [1, , 3] // eslint-disable-line no-sparse-arrays
  const extra = Object.assign([1, 2], { tag: 'x' })
  const nullProto = Object.assign(Object.create(null) as object, { a: 1 })
  const withIndex = { 1: 'one', a: 'a' }
  const deep: Record<string, unknown> = {}
  let cursor = deep
  for (let i = 0; i < 200; i++) { cursor.next = {}; cursor = cursor.next as Record<string, unknown> }
  const fallbacks: [string, unknown][] = [
    ['Map, Set, Date, bigint', { m: new Map([['a', 1]]), s: new Set([1]), d: new Date(1), b: 2n ** 70n }],
    ['typed arrays and buffers', { u: new Uint8Array([1, 2]), f: new Float64Array([0.5]) }],
    ['a class instance', { p: new Point(1) }],
    ['a shared object', { a: shared, b: shared }],
    ['a cycle', cyclic],
    ['a holey array', { holey }],
    ['an array with extra properties', { extra }],
    ['a null-prototype object', { nullProto }],
    ['an integer-like key', withIndex],
    ['boxed primitives and a regexp', { n: Object(1), s: Object('s'), r: /x/g }],
    ['deep nesting', deep],
  ]

  test.each(fallbacks)('falls back to v8.Serializer for %s: same bytes, same value', (_, value) => {
    expect(written(value)).toEqual(serializerBytes(value))
    const back = deserialize(written(value)) as Record<string, unknown>
    expect(back).toEqual(deserialize(serializerBytes(value)))
  })

  test('keeps shared references and cycles as V8 does', () => {
    const twice = deserialize(written({ a: shared, b: shared })) as { a: object; b: object }
    expect(twice.a).toBe(twice.b)
    const loop = deserialize(written(cyclic)) as Record<string, unknown>
    expect(loop.self).toBe(loop)
  })

  test('refuses what V8 refuses (functions, symbols, proxies, arguments) with its DataCloneError', () => {
    const args = (function (..._: unknown[]) { return arguments })(1, 2) // eslint-disable-line prefer-rest-params
    for (const value of [{ f: () => 1 }, { s: Symbol('x') }, { p: new Proxy({}, {}) }, { args }, new Proxy([1], {})]) {
      expect(() => serializerBytes(value)).toThrow()
      expect(() => written(value)).toThrow()
    }
  })

  test('reads a getter once per write, and skips a property a getter deleted, like V8', () => {
    let reads = 0
    const value = { get a() { reads++; return 1 }, b: 2 }
    expect(written(value)).toEqual(serializerBytes(value))
    expect(reads).toBe(2)
    const deleting: Record<string, unknown> = { get a() { delete deleting.b; return 1 }, b: 2, c: 3 }
    expect(deserialize(written(deleting))).toEqual({ a: 1, c: 3 })
  })

  test('uses for-in only while Object.prototype has no enumerable keys', () => {
    const value = { a: 1 }
    Object.defineProperty(Object.prototype, 'polluted', { value: 1, enumerable: true, configurable: true, writable: true })
    try {
      expect(written(value)).toEqual(serializerBytes(value))
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted
    }
  })

  test('the codec decodes what encodeInto wrote to the same values as encode', () => {
    for (const [, value] of [...plain, ...fallbacks]) {
      const w = new ByteWriter(16)
      v8Codec.encodeInto!(value, w)
      expect(w.bytes.subarray(0, w.pos)).toEqual(Buffer.from(v8Codec.encode(value)))
    }
  })
})

describe('file journal entries in shared chunks', () => {
  test('records larger than a chunk, spanning chunks, and refused values in between all round-trip', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-wire-'))
    try {
      const storage = await FileJournalStorage.open({ dir })
      const big = 'b'.repeat(3 << 20)
      const writes: Promise<void>[] = []
      for (let seq = 1; seq <= 40; seq++) {
        const patch = seq % 10 === 0 ? { big, seq } : { seq, text: `\u20ac${'t'.repeat(seq * 1000)}`, when: new Date(seq) }
        writes.push(storage.append('K/1', [rec(seq, 1, patch)]))
        const refused = storage.append('K/2', [rec(1, 1, { fn: () => seq })])
        await expect(refused).rejects.toSatisfy((e: unknown) => isTroupeError(e, 'Unjournalable'))
      }
      writes.push(storage.append('K/3', [rec(1), rec(2), rec(3)]))
      await Promise.all(writes)
      const check = async (s: FileJournalStorage): Promise<void> => {
        const records = await s.read('K/1')
        expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
        for (const r of records) {
          if (r.seq % 10 === 0) expect(r.patch).toEqual({ big, seq: r.seq })
          else expect(r.patch).toEqual({ seq: r.seq, text: `\u20ac${'t'.repeat(r.seq * 1000)}`, when: new Date(r.seq) })
        }
        expect(await s.read('K/2')).toEqual([])
        expect(await s.read('K/3')).toEqual([rec(1), rec(2), rec(3)])
      }
      await check(storage)
      await storage.close()
      const reopened = await FileJournalStorage.open({ dir })
      await check(reopened)
      await reopened.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
