import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { isTroupeError, TroupeError } from '../../runtime/errors.ts'
import { decode, decodeFrame, idLengthMax, nameLengthMax, type Envelope } from '../../transport/envelope.ts'
import { fromWire, toWire } from '../../transport/wire.ts'
import { brokenEnvelope, validEnvelope } from './arbitraries.ts'

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
    for (const input of [noId, { ...call, id: '' }, { ...call, id: 5 }, { ...call, id: 'i'.repeat(idLengthMax + 1) }]) expectMalformed(input, /id/)
    expect(decode({ ...call, id: 'i'.repeat(idLengthMax) })).toBeTruthy()
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
        return envelope.v === 1 && envelopeTypes.includes(envelope.t) && typeof envelope.id === 'string'
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
  const spec = { dueAtMs: 1_700_000_000_000, everyMs: 1000 }
  const snapshot = { seq: 3, epoch: 4, state: { n: 3 }, requests: [['r1', 3, 3]], reminders: [['tick', spec]] }
  const record = { seq: 4, epoch: 5, requestId: 'r4', patch: [{ op: 'set', path: ['n'], value: 4 }], result: 4 }
  const replicate = { v: 1, t: 'replicate', id: 'p1', epoch: 5, key: 'Counter/alice', records: [record] }
  const replicated = { v: 1, t: 'replicated', id: 'p1', key: 'Counter/alice', seq: 4, status: 'ok' }
  const fetch = { v: 1, t: 'fetch', id: 'f1', epoch: 5, view, key: 'Counter/alice', lastEpoch: 4, seq: 3 }
  const fetched = { v: 1, t: 'fetched', id: 'f1', key: 'Counter/alice', lastEpoch: 4, seq: 3, status: 'ok' }
  const rejoined = { v: 1, t: 'rejoined', id: 'j1', epoch: 5 }
  const withPatch = (...patch: unknown[]) => ({ ...replicate, records: [{ ...record, patch }] })
  const withRecord = (change: Record<string, unknown>) => ({ ...replicate, records: [record, { ...record, seq: 5, ...change }] })

  const accepted: Array<[string, object]> = [
    ['a call with a chain and stale', { ...call, chain: ['Bank/main'], stale: true }],
    ['a call with stale false', { ...call, stale: false }],
    ['an error reply with name, stack and actor', { ...replyErr, error: { kind: 'ActorFailed', message: 'x', name: 'RangeError', stack: 's', actor: 'Counter/alice' } }],
    ['a replicate', replicate],
    ['a replicate with no records', { ...replicate, records: [] }],
    ['a replicate with a snapshot', { ...replicate, snapshot }],
    ['a replicate whose snapshot has no reminders', { ...replicate, snapshot: { seq: 0, epoch: 0, state: undefined, requests: [] } }],
    ['a replicate whose snapshot has a request with an undefined result', { ...replicate, snapshot: { ...snapshot, requests: [['r1', 3, undefined]] } }],
    ['a replicate whose snapshot has a one-shot reminder', { ...replicate, snapshot: { ...snapshot, reminders: [['once', { dueAtMs: -5 }]] } }],
    ['a replicate with reminder operations', withPatch({ op: 'set', path: ['~reminders', 'tick'], value: spec }, { op: 'delete', path: ['~reminders', 'old'] })],
    ['a replicate replacing the whole state', withPatch({ op: 'set', path: [], value: { n: 0 } })],
    ['a replicate at the largest safe epoch', { ...replicate, epoch: Number.MAX_SAFE_INTEGER }],
    ['a replicate that says the epoch before its records', { ...replicate, after: 4 }],
    ['a replicate with a snapshot and the epoch before its records', { ...replicate, snapshot, after: 0 }],
    ['a replicated ok', replicated],
    ['a replicated resync at seq 0', { ...replicated, status: 'resync', seq: 0 }],
    ['a replicated stale', { ...replicated, status: 'stale' }],
    ['a fetch', fetch],
    ['a fetch with the asker\'s copy', { ...fetch, snapshot }],
    ['a fetched ok', fetched],
    ['a fetched unsynced', { ...fetched, status: 'unsynced' }],
    ['a fetched stale with a view', { ...fetched, status: 'stale', view }],
    ['a fetched with a copy', { ...fetched, snapshot }],
    ['a fetched with a copy and a view', { ...fetched, snapshot, view }],
    ['a rejoined', rejoined],
    ['a rejoined at epoch 0', { ...rejoined, epoch: 0 }],
  ]

  test.each(accepted)('accepts %s and returns it', (_, envelope) => {
    expect(decode(envelope)).toBe(envelope)
  })

  test.each(accepted)('%s survives the wire tuples', (_, envelope) => {
    const errors: unknown[] = []
    expect(fromWire(structuredClone(toWire([envelope as Envelope])), (error) => errors.push(error))).toEqual([canonical(envelope as Envelope)])
    expect(errors).toEqual([])
  })

  const badCounts = [-1, 1.5, Number.NaN, Infinity, 2 ** 53, '3', null]
  const badSnapshots: Array<[string, unknown, string]> = [
    ['a string', 'all of it', ''],
    ['null', null, ''],
    ['an array', [3, 4, {}, []], ''],
    ['a negative seq', { ...snapshot, seq: -1 }, ''],
    ['no epoch', without(snapshot, 'epoch'), ''],
    ['a NaN epoch', { ...snapshot, epoch: Number.NaN }, ''],
    ['no requests', without(snapshot, 'requests'), '.requests'],
    ['requests that are an object', { ...snapshot, requests: { 0: ['r1', 3, 3] } }, '.requests'],
    ...([
      ['a string', 'r1'], ['null', null], ['an object', { id: 'r1', seq: 3, result: 3 }], ['a pair', ['r1', 3]],
      ['four elements', ['r1', 3, 3, 'extra']], ['a numeric id', [1, 3, 3]], ['a negative seq', ['r1', -1, 3]],
      ['a fractional seq', ['r1', 1.5, 3]], ['a NaN seq', ['r1', Number.NaN, 3]], ['a string seq', ['r1', '3', 3]],
    ] as const).map(([what, entry]): [string, unknown, string] => [`a request entry that is ${what}`, { ...snapshot, requests: [['r0', 2, 2], entry] }, '.requests']),
    ['reminders that are an object', { ...snapshot, reminders: { tick: spec } }, '.reminders'],
    ['reminders that are null', { ...snapshot, reminders: null }, '.reminders'],
    ...([
      ['a name alone', ['tick']], ['three elements', ['tick', spec, 'extra']], ['an empty name', ['', spec]],
      ['an oversized name', ['x'.repeat(257), spec]], ['a numeric name', [5, spec]], ['a null spec', ['tick', null]],
      ['a spec without dueAtMs', ['tick', {}]], ['a NaN dueAtMs', ['tick', { dueAtMs: Number.NaN }]],
      ['an infinite dueAtMs', ['tick', { dueAtMs: Infinity }]], ['a string dueAtMs', ['tick', { dueAtMs: '5' }]],
      ['a zero period', ['tick', { dueAtMs: 5, everyMs: 0 }]], ['a negative period', ['tick', { dueAtMs: 5, everyMs: -1 }]],
      ['a NaN period', ['tick', { dueAtMs: 5, everyMs: Number.NaN }]], ['a string period', ['tick', { dueAtMs: 5, everyMs: '1000' }]],
    ] as const).map(([what, entry]): [string, unknown, string] => [`a reminder entry with ${what}`, { ...snapshot, reminders: [['ok', spec], entry] }, '.reminders']),
  ]

  const rejected: Array<[string, unknown, RegExp]> = [
    // Every type: the version and id are checked first.
    ...[replicate, replicated, fetch, fetched, rejoined].flatMap((e): Array<[string, unknown, RegExp]> => [
      [`a ${e.t} of version 2`, { ...e, v: 2 }, /version 2/],
      [`a ${e.t} without an id`, without(e, 'id'), /envelope\.id/],
      [`a ${e.t} with an oversized id`, { ...e, id: 'i'.repeat(idLengthMax + 1) }, /envelope\.id/],
    ]),
    ['a call with a NaN epoch', { ...call, epoch: Number.NaN }, /call\.epoch/],
    ['a call with a string stale flag', { ...call, stale: 'yes' }, /call\.stale/],
    ['a reply error whose name is a number', { ...replyErr, error: { ...replyErr.error, name: 1 } }, /reply\.error\.name/],
    ['a reply error whose data is a number', { ...replyErr, error: { ...replyErr.error, data: 1 } }, /reply\.error\.data must be an object/],
    ['a reply error whose data is an array', { ...replyErr, error: { ...replyErr.error, data: [1] } }, /reply\.error\.data must be an object/],
    ['a reply error whose data is null', { ...replyErr, error: { ...replyErr.error, data: null } }, /reply\.error\.data must be an object/],

    ...[undefined, ...badCounts].map((epoch): [string, unknown, RegExp] => [`a replicate with epoch ${String(epoch)}`, { ...replicate, epoch }, /replicate\.epoch/]),
    ...[undefined, '', 'no-slash', '/alice', 5, `Counter/${'a'.repeat(nameLengthMax)}`].map((key): [string, unknown, RegExp] => [`a replicate with key ${String(key).slice(0, 20)}`, { ...replicate, key }, /replicate\.key/]),
    ['a replicate without records', without(replicate, 'records'), /replicate\.records/],
    ['a replicate whose records are an object', { ...replicate, records: { 0: record } }, /replicate\.records/],
    ['a replicate with a null record', { ...replicate, records: [record, null] }, /replicate\.records/],
    ['a replicate with a string record', { ...replicate, records: ['r4'] }, /replicate\.records/],
    ...[0, ...badCounts].map((seq): [string, unknown, RegExp] => [`a replicate with a record at seq ${String(seq)}`, withRecord({ seq }), /replicate\.records/]),
    ...badCounts.map((epoch): [string, unknown, RegExp] => [`a replicate with a record at epoch ${String(epoch)}`, withRecord({ epoch }), /replicate\.records/]),
    ...badCounts.map((after): [string, unknown, RegExp] => [`a replicate with after ${String(after)}`, { ...replicate, after }, /replicate\.after/]),
    ['a replicate with a record without a request id', { ...replicate, records: [without(record, 'requestId')] }, /replicate\.records/],
    ['a replicate with a record whose request id is a number', withRecord({ requestId: 5 }), /replicate\.records/],
    ['a replicate with a record without a patch', { ...replicate, records: [without(record, 'patch')] }, /replicate\.records/],
    ['a replicate with a record whose patch is an object', withRecord({ patch: { op: 'set', path: [] } }), /replicate\.records/],
    ['a replicate with a null patch operation', withPatch(null), /replicate\.records/],
    ['a replicate with a string patch operation', withPatch('set'), /replicate\.records/],
    ['a replicate with a patch operation without a path', withPatch({ op: 'set', value: 1 }), /replicate\.records/],
    ['a replicate with a patch operation whose path is a string', withPatch({ op: 'set', path: 'n', value: 1 }), /replicate\.records/],
    ...[null, {}, { dueAtMs: Number.NaN }, { dueAtMs: 5, everyMs: 0 }, { dueAtMs: 5, everyMs: '1' }].map((value): [string, unknown, RegExp] => [
      `a replicate setting a reminder to ${JSON.stringify(value)}`, withPatch({ op: 'set', path: ['~reminders', 'tick'], value }), /replicate\.records/,
    ]),

    ...[undefined, '', 5, 'k'.repeat(nameLengthMax + 1)].map((key): [string, unknown, RegExp] => [`a replicated with key ${String(key).slice(0, 20)}`, { ...replicated, key }, /replicated\.key/]),
    ...[undefined, ...badCounts].map((seq): [string, unknown, RegExp] => [`a replicated with seq ${String(seq)}`, { ...replicated, seq }, /replicated\.seq/]),
    ...[undefined, 'OK', 'unsynced', 'maybe', 1, null, true].map((status): [string, unknown, RegExp] => [`a replicated with status ${String(status)}`, { ...replicated, status }, /replicated\.status must be ok, resync or stale/]),

    ...(['epoch', 'lastEpoch', 'seq'] as const).flatMap((field) =>
      [undefined, ...badCounts].map((value): [string, unknown, RegExp] => [`a fetch with ${field} ${String(value)}`, { ...fetch, [field]: value }, /fetch\.epoch, lastEpoch and seq/]),
    ),
    ...[undefined, '', 'no-slash', '/alice', `Counter/${'a'.repeat(nameLengthMax)}`].map((key): [string, unknown, RegExp] => [`a fetch with key ${String(key).slice(0, 20)}`, { ...fetch, key }, /fetch\.key/]),
    ...[undefined, null, 'view', { epoch: 5 }, { epoch: -1, hosts: [] }, { epoch: 5, hosts: ['a', 'a'] }, { epoch: 5, hosts: [''] }].map((v): [string, unknown, RegExp] => [
      `a fetch with view ${JSON.stringify(v)}`, { ...fetch, view: v }, /fetch\.view/,
    ]),

    ...(['lastEpoch', 'seq'] as const).flatMap((field) =>
      [undefined, ...badCounts].map((value): [string, unknown, RegExp] => [`a fetched with ${field} ${String(value)}`, { ...fetched, [field]: value }, /fetched\.lastEpoch and seq/]),
    ),
    ...[undefined, '', 5, 'k'.repeat(nameLengthMax + 1)].map((key): [string, unknown, RegExp] => [`a fetched with key ${String(key).slice(0, 20)}`, { ...fetched, key }, /fetched\.key/]),
    ...[undefined, 'resync', 'maybe', 0, null].map((status): [string, unknown, RegExp] => [`a fetched with status ${String(status)}`, { ...fetched, status }, /fetched\.status must be ok, unsynced or stale/]),
    ['a fetched whose snapshot is the wire placeholder 0', { ...fetched, snapshot: 0 }, /fetched\.snapshot/],
    ...[null, 'view', { epoch: 5 }, { epoch: 1.5, hosts: [] }].map((v): [string, unknown, RegExp] => [`a fetched with view ${JSON.stringify(v)}`, { ...fetched, status: 'stale', view: v }, /fetched\.view/]),

    ...[undefined, ...badCounts].map((epoch): [string, unknown, RegExp] => [`a rejoined with epoch ${String(epoch)}`, { ...rejoined, epoch }, /rejoined\.epoch/]),

    // The same snapshot checks behind all three envelopes that carry a copy.
    ...[replicate, fetch, fetched].flatMap((e) =>
      badSnapshots.map(([what, bad, field]): [string, unknown, RegExp] => [`a ${e.t} whose snapshot is ${what}`, { ...e, snapshot: bad }, new RegExp(`${e.t}\\.snapshot${field.replace('.', '\\.')}`)]),
    ),
  ]

  test.each(rejected)('rejects %s', (_, input, message) => {
    expectMalformed(input, message)
  })

  test('error messages stay short however long the bad value', () => {
    for (const input of [{ ...replicated, status: 's'.repeat(100_000) }, { ...fetched, key: 'k'.repeat(100_000) }]) {
      expect((rejection(input) as TroupeError).message.length).toBeLessThan(200)
    }
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

const envelopeTypes: readonly string[] = ['call', 'reply', 'redirect', 'replicate', 'replicated', 'fetch', 'fetched', 'rejoined']

/** `object` without `field`. */
function without(object: object, field: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([k]) => k !== field))
}

/** The fields each type carries over the wire; anything else on a decoded object is ignored. */
const wireFields: Record<string, readonly string[]> = {
  call: ['epoch', 'key', 'method', 'args', 'chain', 'stale', 'consistency'],
  redirect: ['view'],
  replicate: ['epoch', 'key', 'records', 'snapshot', 'after'],
  replicated: ['key', 'seq', 'status'],
  fetch: ['epoch', 'view', 'key', 'lastEpoch', 'seq', 'snapshot'],
  fetched: ['key', 'lastEpoch', 'seq', 'status', 'snapshot', 'view'],
  rejoined: ['epoch'],
}

/** What `envelope` should come back as from the wire: its type's fields, and `stale: false` as absent. */
function canonical(envelope: Envelope): Record<string, unknown> {
  const e = envelope as unknown as Record<string, unknown>
  const fields = envelope.t === 'reply' ? ['ok', envelope.ok ? 'value' : 'error'] : wireFields[envelope.t]!
  const out: Record<string, unknown> = { v: e.v, t: e.t, id: e.id }
  for (const field of fields) if (e[field] !== undefined) out[field] = e[field]
  if (out.stale === false) delete out.stale
  return out
}

describe('decode and the wire agree', () => {
  test('whatever decode accepts comes back from toWire/fromWire as its type\'s fields, unchanged', () => {
    fc.assert(
      fc.property(fc.oneof(envelopeLike(), validEnvelope()), (input) => {
        const wire = structuredClone(input)
        if (rejection(wire) !== undefined) return
        const errors: unknown[] = []
        expect(fromWire(structuredClone(toWire([decode(wire)])), (error) => errors.push(error))).toEqual([canonical(wire as Envelope)])
        expect(errors).toEqual([])
      }),
      { numRuns: 3000 },
    )
  })

  test('every valid envelope is accepted as it is', () => {
    fc.assert(fc.property(validEnvelope(), (envelope) => decode(envelope) === envelope), { numRuns: 1000 })
  })
})

/**
 * Objects shaped almost like envelopes of every type, so the properties reach the checks deep in
 * each branch: random fields of the right names, and valid envelopes with one field broken.
 */
function envelopeLike(): fc.Arbitrary<Record<string, unknown>> {
  const name = fc.oneof(fc.string(), fc.constantFrom('Counter/alice', '/x', 'x/'), fc.string({ minLength: 1020, maxLength: 1030 }))
  const number = fc.oneof(fc.integer(), fc.double(), fc.anything())
  const snapshot = fc.record(
    { seq: number, epoch: number, state: fc.anything(), requests: fc.oneof(fc.array(fc.oneof(fc.tuple(name, number, fc.anything()), fc.anything())), fc.anything()), reminders: fc.anything() },
    { requiredKeys: [] },
  )
  const record = fc.record({ seq: number, epoch: number, requestId: fc.oneof(name, fc.anything()), patch: fc.oneof(fc.array(fc.anything()), fc.anything()), result: fc.anything() }, { requiredKeys: [] })
  const random = fc.record(
    {
      v: fc.oneof(fc.constant(1), fc.anything()),
      t: fc.oneof(fc.constantFrom(...envelopeTypes), fc.anything()),
      id: fc.oneof(name, fc.anything()),
      epoch: number,
      key: fc.oneof(name, fc.anything()),
      method: fc.oneof(name, fc.anything()),
      args: fc.oneof(fc.array(fc.anything()), fc.anything()),
      chain: fc.oneof(fc.array(name), fc.anything()),
      stale: fc.oneof(fc.boolean(), fc.anything()),
      ok: fc.oneof(fc.boolean(), fc.anything()),
      value: fc.anything(),
      error: fc.oneof(fc.record({ kind: fc.constantFrom('UnknownMethod', 'Nope', 'CallTimeout'), message: fc.oneof(fc.string(), fc.integer()) }), fc.anything()),
      view: fc.oneof(fc.record({ epoch: fc.integer(), hosts: fc.array(fc.string()) }), fc.anything()),
      records: fc.oneof(fc.array(record), fc.anything()),
      snapshot: fc.oneof(snapshot, fc.anything()),
      seq: number,
      lastEpoch: number,
      status: fc.oneof(fc.constantFrom('ok', 'resync', 'stale', 'unsynced', 'maybe'), fc.anything()),
    },
    { requiredKeys: [] },
  )
  return fc.oneof(random, brokenEnvelope())
}
