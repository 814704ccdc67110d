import { isArgumentsObject, isProxy } from 'node:util/types'
import { Serializer } from 'node:v8'
import { ByteWriter } from './byte-writer.ts'

/**
 * A fast path to V8's structured-clone wire format for the values journals mostly hold:
 * plain objects (string keys), dense plain arrays, strings, numbers, booleans, null and
 * undefined, each object reached once. It writes the bytes `v8.Serializer` writes for them
 * (so `v8.deserialize` reads them back, and nothing about the format changes), straight into
 * a `ByteWriter`: no Serializer object, no Buffer per value. Anything else anywhere in the
 * value (Map, Set, Date, bigint, typed arrays, class instances, null-prototype objects,
 * integer-like keys, holes, shared or cyclic references, proxies, deep nesting) makes the whole
 * value go through `v8.Serializer` instead, so its semantics are V8's exactly.
 *
 * The fast path checks itself against `v8.Serializer` once at load and stays off if a future
 * V8 writes these values differently.
 */

const tag = {
  padding: 0x00, null: 0x30, undefined: 0x5f, true: 0x54, false: 0x46, int32: 0x49, double: 0x4e,
  oneByte: 0x22, twoByte: 0x63, beginObject: 0x6f, endObject: 0x7b, beginDense: 0x41, endDense: 0x24,
} as const

/** Nesting deeper than this goes to `v8.Serializer` (which has its own stack checks). */
const depthMax = 64
/**
 * Objects and arrays written during the current value: one reached twice goes to V8 (which
 * writes a back-reference). A list scanned linearly while short (a Set's `clear` costs more
 * than the scan for the few objects a record holds), then also a Set.
 */
const seenList: (object | undefined)[] = []
let seenCount = 0
const seenSet = new Set<object>()
const seenListMax = 16

/** Records `o` as written; false when it was already. */
function firstVisit(o: object): boolean {
  if (seenCount < seenListMax) {
    for (let i = 0; i < seenCount; i++) if (seenList[i] === o) return false
  } else {
    if (seenCount === seenListMax) for (let i = 0; i < seenListMax; i++) seenSet.add(seenList[i]!)
    if (seenSet.has(o)) return false
    seenSet.add(o)
  }
  seenList[seenCount < seenListMax ? seenCount : seenListMax] = o
  seenCount++
  return true
}

function forgetVisits(): void {
  for (let i = 0; i < seenCount && i <= seenListMax; i++) seenList[i] = undefined
  if (seenCount >= seenListMax) seenSet.clear()
  seenCount = 0
}

function serializerBytes(value: unknown): Uint8Array {
  const serializer = new Serializer()
  serializer.writeHeader()
  serializer.writeValue(value)
  const buffer = serializer.releaseBuffer()
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

/** The header `Serializer.writeHeader` writes (0xff and the wire format version). */
const header = ((): Uint8Array => {
  const serializer = new Serializer()
  serializer.writeHeader()
  return Uint8Array.from(serializer.releaseBuffer())
})()

function varintBytes(n: number): number {
  let bytes = 1
  while (n >= 0x80) { n >>>= 7; bytes++ }
  return bytes
}

declare global {
  interface Buffer {
    /** Node's binding behind `buf.write(s, at, n, 'latin1')`, which spends ~100 ns parsing its arguments. */
    latin1Write?(s: string, at: number, n: number): number
  }
}
const latin1Write = Buffer.prototype.latin1Write

/** Strings at least this long are checked with a regular expression and copied natively. */
const longString = 24
const wide = /[^\x00-\xff]/

/** `s` as a one-byte (Latin-1) string, or (with a char > 0xff) a two-byte one, as V8 writes it. */
function writeString(w: ByteWriter, s: string, base: number): void {
  const n = s.length
  if (n >= longString) {
    if (wide.test(s)) return writeTwoByte(w, s, base)
    w.u8(tag.oneByte)
    w.varint(n)
    w.ensure(n)
    w.pos += latin1Write !== undefined ? w.bytes.latin1Write!(s, w.pos, n) : w.bytes.write(s, w.pos, n, 'latin1')
    return
  }
  w.ensure(n + 2)
  const bytes = w.bytes
  let pos = w.pos
  bytes[pos++] = tag.oneByte
  bytes[pos++] = n
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c > 0xff) return writeTwoByte(w, s, base)
    bytes[pos++] = c
  }
  w.pos = pos
}

function writeTwoByte(w: ByteWriter, s: string, base: number): void {
  const byteLength = 2 * s.length
  // V8 pads so the characters start at an even offset of the value's bytes.
  if ((w.pos - w.mark - base + 1 + varintBytes(byteLength)) & 1) w.u8(tag.padding)
  w.u8(tag.twoByte)
  w.varint(byteLength)
  w.ensure(byteLength)
  w.pos += w.bytes.write(s, w.pos, byteLength, 'utf16le')
}

function writeNumber(w: ByteWriter, x: number): void {
  if ((x | 0) === x && (x !== 0 || 1 / x > 0)) {
    w.u8(tag.int32)
    w.varint(((x << 1) ^ (x >> 31)) >>> 0)
  } else {
    w.u8(tag.double)
    w.f64(x)
  }
}

/** Writes `v`; false when it needs `v8.Serializer` (the caller then rewinds). */
function writeValue(w: ByteWriter, v: unknown, depth: number, base: number): boolean {
  switch (typeof v) {
    case 'string': writeString(w, v, base); return true
    case 'number': writeNumber(w, v); return true
    case 'boolean': w.u8(v ? tag.true : tag.false); return true
    case 'undefined': w.u8(tag.undefined); return true
    case 'object': {
      if (v === null) { w.u8(tag.null); return true }
      if (depth >= depthMax || isProxy(v) || !firstVisit(v)) return false
      const proto = Object.getPrototypeOf(v) as unknown
      if (proto === Object.prototype) return !isArgumentsObject(v) && writeObject(w, v as Record<string, unknown>, depth, base)
      if (proto === Array.prototype && Array.isArray(v)) return writeArray(w, v as unknown[], depth, base)
      return false
    }
    default: return false
  }
}

/**
 * Own enumerable string keys in V8's order, by for-in (faster than `Object.keys` plus keyed
 * loads): the caller made sure `Object.prototype`, the only prototype here, has no enumerable
 * keys. Like V8, for-in skips a key a getter deleted meanwhile.
 */
function writeObject(w: ByteWriter, o: Record<string, unknown>, depth: number, base: number): boolean {
  w.u8(tag.beginObject)
  let count = 0
  for (const key in o) {
    const c = key.charCodeAt(0)
    if (c >= 0x30 && c <= 0x39) return false // maybe an array index, which V8 writes as a number
    writeString(w, key, base)
    if (!writeValue(w, o[key], depth + 1, base)) return false
    count++
  }
  w.u8(tag.endObject)
  w.varint(count)
  return true
}

/** Whether `Object.prototype` has no enumerable keys (so for-in sees own keys only). */
function plainPrototype(): boolean {
  for (const _ in Object.prototype) return false
  return true
}

function writeArray(w: ByteWriter, a: unknown[], depth: number, base: number): boolean {
  const n = a.length
  if (n > 0 && Object.keys(a).length !== n) return false // extra properties (or holes)
  w.u8(tag.beginDense)
  w.varint(n)
  for (let i = 0; i < n; i++) {
    const v = a[i]
    if (v === undefined && !(i in a)) return false // a hole
    if (!writeValue(w, v, depth + 1, base)) return false
  }
  w.u8(tag.endDense)
  w.varint(0)
  w.varint(n)
  return true
}

let fast = true

/**
 * Writes `value` in V8's wire format (header included) at `w.pos`: the fast path when it
 * applies, else `v8.Serializer`'s bytes. Throws what `v8.Serializer` throws (DataCloneError).
 * `own`: `value` is a plain object the journal itself just made (a record or snapshot copy),
 * so its top level skips the checks for proxies, prototypes and repeats.
 */
export function writeV8Value(w: ByteWriter, value: unknown, own = false): void {
  const base = w.pos - w.mark
  if (fast && plainPrototype()) {
    w.raw(header)
    let done = false
    try {
      done = own ? writeObject(w, value as Record<string, unknown>, 0, base) : writeValue(w, value, 0, base)
    } finally { forgetVisits() }
    if (done) return
    w.pos = w.mark + base
  }
  w.raw(serializerBytes(value))
}

/** The record's keys as V8 writes them; the first also carries the header and the object tag. */
const recordKeys = ['seq', 'epoch', 'requestId', 'patch', 'result'].map((key, i) => {
  const w = new ByteWriter(64)
  if (i === 0) { w.raw(header); w.u8(tag.beginObject) }
  writeString(w, key, 0)
  return Uint8Array.from(w.bytes.subarray(0, w.pos))
})

/**
 * Writes the bytes `v8.Serializer` writes for the plain object
 * `{ seq, epoch, requestId, patch, result }` of `r`'s values: the journal's hot path, with
 * the keys pre-encoded and the fields read by name (`r` is the journal's own copy).
 */
export function writeV8Record(w: ByteWriter, r: { seq: number; epoch: number; requestId: string; patch: unknown; result: unknown }): void {
  const base = w.pos - w.mark
  if (fast && typeof r.seq === 'number' && typeof r.epoch === 'number' && plainPrototype()) {
    let done = false
    try {
      w.raw(recordKeys[0]!)
      writeNumber(w, r.seq)
      w.raw(recordKeys[1]!)
      writeNumber(w, r.epoch)
      w.raw(recordKeys[2]!)
      done = writeValue(w, r.requestId, 1, base)
      w.raw(recordKeys[3]!)
      done &&= writeValue(w, r.patch, 1, base)
      w.raw(recordKeys[4]!)
      done &&= writeValue(w, r.result, 1, base)
    } finally { forgetVisits() }
    if (done) {
      w.u8(tag.endObject)
      w.u8(5)
      return
    }
    w.pos = w.mark + base
  }
  w.raw(serializerBytes({ seq: r.seq, epoch: r.epoch, requestId: r.requestId, patch: r.patch, result: r.result }))
}

/** Whether the fast path writes exactly V8's bytes for `value` (tests and the load-time check). */
export function matchesSerializer(value: unknown, w: ByteWriter): boolean {
  w.begin()
  const start = w.pos
  w.raw(header)
  let done = false
  try { done = writeValue(w, value, 0, 0) } finally { forgetVisits() }
  const mine = w.bytes.subarray(start, w.pos)
  const theirs = serializerBytes(value)
  w.pos = start
  return done && mine.byteLength === theirs.byteLength && mine.every((b, i) => b === theirs[i])
}

/** Values whose bytes the fast path must reproduce, or it stays off. */
export const wireProbes: readonly unknown[] = [
  { seq: 1, epoch: 0, requestId: 'r-1', patch: { n: 1, s: 'x', t: true, f: false, z: null, u: undefined }, result: 0 },
  { neg: -5, big: 2 ** 31, frac: 0.25, negZero: -0, nan: Number.NaN, max: 2 ** 31 - 1, min: -(2 ** 31) },
  { latin: 'caf\u00e9', wide: '\u20ac\u00fc', long: 'y'.repeat(300), empty: '', nested: { list: ['a', 'b'], empty: [] } },
  ['x', '\u20ac', 'x\u20ac', { a: 'b' }, '\u00e9'.repeat(40), 'z\u20ac'.repeat(20), 'o'.repeat(200)],
]

fast = wireProbes.every((value) => matchesSerializer(value, new ByteWriter(64))) && recordMatches()

function recordMatches(): boolean {
  const r = { seq: 7, epoch: 300, requestId: 'r-\u20ac', patch: { a: [1, 'b'] }, result: undefined }
  const w = new ByteWriter(64)
  writeV8Record(w, r)
  const theirs = serializerBytes(r)
  return w.pos === theirs.byteLength && theirs.every((b, i) => b === w.bytes[i])
}
