import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { isTroupeError, TroupeError } from '../../runtime/errors.ts'
import { decode, decodeFrame, nameLengthMax, type Envelope } from '../../transport/envelope.ts'
import { fromWire, toWire } from '../../transport/wire.ts'

const call = { v: 1, t: 'call', id: 'r1', epoch: 3, key: 'Counter/alice', method: 'increment', args: [2] }
const replyOk = { v: 1, t: 'reply', id: 'r1', ok: true, value: { n: 1 } }
const replyErr = { v: 1, t: 'reply', id: 'r1', ok: false, error: { kind: 'UnknownMethod', message: 'no such method' } }
const redirect = { v: 1, t: 'redirect', id: 'r1', view: { epoch: 4, hosts: ['host-0', 'host-1'] } }

/** The error `decode` throws for `input`, or undefined when it accepts it. */
function rejection(input: unknown): unknown {
  try {
    decode(input)
    return undefined
  } catch (error) {
    return error
  }
}

function expectMalformed(input: unknown, message?: RegExp): void {
  const error = rejection(input)
  expect(error).toBeInstanceOf(TroupeError)
  expect((error as TroupeError).kind).toBe('MalformedEnvelope')
  if (message) expect((error as TroupeError).message).toMatch(message)
}

describe('decode', () => {
  test('accepts each kind of valid envelope and returns it', () => {
    for (const envelope of [call, { ...call, chain: ['Bank/main'] }, replyOk, { ...replyOk, value: undefined }, replyErr, redirect]) {
      expect(decode(envelope)).toBe(envelope)
    }
  })

  test('rejects values that are not objects', () => {
    for (const input of [null, undefined, 1, 'call', true, 10n, [call], Symbol('x')]) expectMalformed(input, /must be an object/)
  })

  test('rejects a missing or unsupported version', () => {
    expectMalformed({ ...call, v: 2 }, /version 2/)
    expectMalformed({ ...call, v: '1' }, /version/)
    const { v: _v, ...noVersion } = call
    expectMalformed(noVersion, /version/)
  })

  test('rejects an unknown or missing envelope type', () => {
    expectMalformed({ ...call, t: 'cast' }, /unknown envelope type "cast"/)
    expectMalformed({ ...call, t: 7 }, /unknown envelope type/)
    const { t: _t, ...noType } = call
    expectMalformed(noType, /unknown envelope type/)
    const long = rejection({ ...call, t: 'x'.repeat(10_000) }) as TroupeError
    expect(long.message.length).toBeLessThan(200)
  })

  test('rejects a missing, empty, mistyped or oversized id', () => {
    const { id: _id, ...noId } = call
    for (const input of [noId, { ...call, id: '' }, { ...call, id: 5 }, { ...call, id: 'i'.repeat(nameLengthMax + 1) }]) expectMalformed(input, /id/)
    expect(decode({ ...call, id: 'i'.repeat(nameLengthMax) })).toBeTruthy()
  })

  test('rejects calls with missing or mistyped fields', () => {
    const missing = (field: keyof typeof call) => Object.fromEntries(Object.entries(call).filter(([k]) => k !== field))
    expectMalformed(missing('epoch'), /epoch/)
    expectMalformed({ ...call, epoch: -1 }, /epoch/)
    expectMalformed({ ...call, epoch: 1.5 }, /epoch/)
    expectMalformed({ ...call, epoch: '3' }, /epoch/)
    expectMalformed(missing('key'), /key/)
    expectMalformed({ ...call, key: 'no-slash' }, /key/)
    expectMalformed({ ...call, key: '/alice' }, /key/)
    expectMalformed(missing('method'), /method/)
    expectMalformed({ ...call, method: '' }, /method/)
    expectMalformed(missing('args'), /args/)
    expectMalformed({ ...call, args: { 0: 2 } }, /args/)
    expectMalformed({ ...call, chain: 'Bank/main' }, /chain/)
    expectMalformed({ ...call, chain: ['Bank/main', 3] }, /chain/)
  })

  test('rejects names longer than 1024 characters', () => {
    expect(nameLengthMax).toBe(1024)
    expectMalformed({ ...call, key: `Counter/${'a'.repeat(nameLengthMax)}` }, /key/)
    expectMalformed({ ...call, method: 'm'.repeat(nameLengthMax + 1) }, /method/)
    expectMalformed({ ...call, chain: [`Bank/${'b'.repeat(nameLengthMax)}`] }, /chain/)
    expect(decode({ ...call, method: 'm'.repeat(nameLengthMax) })).toBeTruthy()
  })

  test('rejects replies with a bad ok flag, a missing value, or a bad error', () => {
    const { value: _value, ...noValue } = replyOk
    expectMalformed(noValue, /value/)
    expectMalformed({ ...replyOk, ok: 'yes' }, /ok/)
    expectMalformed({ v: 1, t: 'reply', id: 'r1', ok: false }, /error/)
    expectMalformed({ ...replyErr, error: null }, /error/)
    expectMalformed({ ...replyErr, error: 'boom' }, /error/)
    expectMalformed({ ...replyErr, error: { kind: 'Oops', message: 'x' } }, /error/)
    expectMalformed({ ...replyErr, error: { kind: 'unknownmethod', message: 'x' } }, /error/)
    expectMalformed({ ...replyErr, error: { kind: 'UnknownMethod' } }, /error/)
    expectMalformed({ ...replyErr, error: { kind: 'UnknownMethod', message: 42 } }, /error/)
  })

  test('rejects redirects with a bad view', () => {
    expectMalformed({ ...redirect, view: undefined }, /redirect\.view/)
    expectMalformed({ ...redirect, view: { epoch: -1, hosts: [] } }, /redirect\.view/)
    expectMalformed({ ...redirect, view: { epoch: 1, hosts: ['a', 'a'] } }, /redirect\.view/)
    expectMalformed({ ...redirect, view: { epoch: 1, hosts: [''] } }, /redirect\.view/)
  })

  test('never throws anything but MalformedEnvelope, on any structured-cloneable input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), envelopeLike()), (input) => {
        const wire = structuredClone(input)
                const error = rejection(wire)
        return error === undefined || (error instanceof TroupeError && error.kind === 'MalformedEnvelope')
      }),
      { numRuns: 3000 },
    )
  })

  test('what it accepts has a known type and the wire version', () => {
    fc.assert(
      fc.property(envelopeLike(), (input) => {
        if (rejection(input) !== undefined) return true
        const envelope = decode(input)
        return envelope.v === 1 && ['call', 'reply', 'redirect'].includes(envelope.t) && typeof envelope.id === 'string'
      }),
      { numRuns: 3000 },
    )
  })

  // Regression: decode once called String() on untrusted `v`/`t`, which throws for these values.
  test('reports a version or type that cannot be stringified as MalformedEnvelope ', () => {
    const fromWire = structuredClone({ ...call, v: { toString: false } })
    expect(isTroupeError(rejection(fromWire), 'MalformedEnvelope')).toBe(true)
  })

  test('reports a prototype-less version or type as MalformedEnvelope ', () => {
    expect(isTroupeError(rejection({ ...call, t: Object.create(null) }), 'MalformedEnvelope')).toBe(true)
  })
})

describe('replication and recovery envelopes', () => {
  const view = { epoch: 5, hosts: ['host-0', 'host-1', 'host-2'] }
  const snapshot = { seq: 3, epoch: 4, state: { n: 3 }, requests: [['r1', 3, 3]], reminders: [] }
  const fetch = { v: 1, t: 'fetch', id: 'f1', epoch: 5, view, key: 'Counter/alice', lastEpoch: 4, seq: 3 }
  const fetched = { v: 1, t: 'fetched', id: 'f1', key: 'Counter/alice', lastEpoch: 4, seq: 3, status: 'ok' }
  const rejoined = { v: 1, t: 'rejoined', id: 'j1', epoch: 5 }

  test('a fetch may carry the asker\'s copy; an answer may say its copy is ok, unsynced or stale; a host may say it rejoined', () => {
    for (const envelope of [fetch, { ...fetch, snapshot }, fetched, { ...fetched, status: 'unsynced' }, { ...fetched, status: 'stale', view }, { ...fetched, snapshot }, rejoined]) {
      expect(decode(envelope)).toBe(envelope)
    }
  })

  test('they survive the wire tuples unchanged', () => {
    for (const envelope of [fetch, { ...fetch, snapshot }, fetched, { ...fetched, status: 'unsynced', snapshot }, { ...fetched, status: 'stale', view }, rejoined]) {
      const errors: unknown[] = []
      expect(fromWire(toWire([envelope as Envelope]), (error) => errors.push(error))).toEqual([envelope])
      expect(errors).toEqual([])
    }
  })

  test('bad copies, positions, keys, views and statuses are MalformedEnvelope', () => {
    expectMalformed({ ...fetch, snapshot: { seq: -1, epoch: 4, state: 1, requests: [] } }, /fetch.snapshot/)
    expectMalformed({ ...fetch, snapshot: { seq: 3, epoch: 4, state: 1 } }, /fetch.snapshot/)
    expectMalformed({ ...fetch, snapshot: 'all of it' }, /fetch.snapshot/)
    expectMalformed({ ...fetch, seq: 1.5 }, /fetch.epoch, lastEpoch and seq/)
    expectMalformed({ ...fetch, key: 'no-slash' }, /fetch.key/)
    expectMalformed({ ...fetch, view: { epoch: 5 } }, /fetch.view/)
    expectMalformed({ ...fetched, status: 'maybe' }, /fetched.status must be ok, unsynced or stale/)
    expectMalformed({ ...fetched, lastEpoch: -1 }, /fetched.lastEpoch/)
    expectMalformed({ ...fetched, snapshot: { seq: 3 } }, /fetched.snapshot/)
    expectMalformed({ ...rejoined, epoch: -1 }, /rejoined.epoch/)
    expectMalformed({ ...rejoined, epoch: '5' }, /rejoined.epoch/)
    expectMalformed({ v: 1, t: 'rejoined', id: 'j1' }, /rejoined.epoch/)
  })
})

describe('decodeFrame', () => {
  test('reports a frame that is not an array, and returns nothing', () => {
    for (const input of [call, 'frame', null, undefined, 3, { 0: call, length: 1 }]) {
      const reports: unknown[] = []
      expect(decodeFrame(input, (error, raw) => reports.push([error.kind, raw]))).toEqual([])
      expect(reports).toEqual([['MalformedEnvelope', input]])
    }
  })

  test('keeps the valid envelopes in order and reports each bad one with its raw value', () => {
    const bad = { ...call, v: 9 }
    const reports: [string, unknown][] = []
    const out = decodeFrame([call, bad, replyOk, 'junk', redirect], (error, raw) => reports.push([error.kind, raw]))
    expect(out).toEqual([call, replyOk, redirect])
    expect(reports).toEqual([['MalformedEnvelope', bad], ['MalformedEnvelope', 'junk']])
  })

  test('reports an unstringifiable version with kind MalformedEnvelope', () => {
    const kinds: unknown[] = []
    decodeFrame(structuredClone([{ ...call, v: { toString: false } }]), (error) => kinds.push(error.kind))
    expect(kinds).toEqual(['MalformedEnvelope'])
  })

  test('accounts for every entry of any frame, never throwing', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.anything(), envelopeLike())), (frame) => {
                let reported = 0
        const out = decodeFrame(structuredClone(frame), (error) => {
          expect(error.kind).toBe('MalformedEnvelope')
          reported++
        })
        return out.length + reported === frame.length
      }),
      { numRuns: 500 },
    )
  })
})

/** Objects shaped almost like envelopes, so the property reaches the checks deep in each branch. */
function envelopeLike(): fc.Arbitrary<Record<string, unknown>> {
  const name = fc.oneof(fc.string(), fc.constantFrom('Counter/alice', '/x', 'x/'), fc.string({ minLength: 1020, maxLength: 1030 }))
  return fc.record(
    {
      v: fc.oneof(fc.constant(1), fc.anything()),
      t: fc.oneof(fc.constantFrom('call', 'reply', 'redirect'), fc.anything()),
      id: fc.oneof(name, fc.anything()),
      epoch: fc.oneof(fc.integer(), fc.double(), fc.anything()),
      key: fc.oneof(name, fc.anything()),
      method: fc.oneof(name, fc.anything()),
      args: fc.oneof(fc.array(fc.anything()), fc.anything()),
      chain: fc.oneof(fc.array(name), fc.anything()),
      ok: fc.oneof(fc.boolean(), fc.anything()),
      value: fc.anything(),
      error: fc.oneof(fc.record({ kind: fc.constantFrom('UnknownMethod', 'Nope', 'CallTimeout'), message: fc.oneof(fc.string(), fc.integer()) }), fc.anything()),
      view: fc.oneof(fc.record({ epoch: fc.integer(), hosts: fc.array(fc.string()) }), fc.anything()),
    },
    { requiredKeys: [] },
  )
}
