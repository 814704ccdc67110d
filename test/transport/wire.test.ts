import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { TroupeError } from '../../runtime/errors.ts'
import type { Envelope } from '../../transport/envelope.ts'
import { fromWire, toWire } from '../../transport/wire.ts'
import { mutate, mutation, nasty, validEnvelope } from './arbitraries.ts'

const call: Envelope = { v: 1, t: 'call', id: 'r1', epoch: 3, key: 'Counter/alice', method: 'increment', args: [2] }
const reply: Envelope = { v: 1, t: 'reply', id: 'r1', ok: true, value: 3 }
const view = { epoch: 5, hosts: ['host-0', 'host-1'] }
const snapshot = { seq: 3, epoch: 4, state: { n: 3 }, requests: [['r1', 3, 3]] as Array<[string, number, unknown]> }
const tupleOf = (envelope: Envelope): unknown[] => toWire([envelope])[1] as unknown[]

/** Runs `fromWire`, collecting what it delivers and every report (kind, message, raw value). */
function receive(frame: unknown): { out: Envelope[]; reports: Array<{ error: TroupeError; raw: unknown }> } {
  const reports: Array<{ error: TroupeError; raw: unknown }> = []
  const out = fromWire(frame, (error, raw) => reports.push({ error, raw }))
  return { out, reports }
}

function expectOnlyMalformed(reports: Array<{ error: TroupeError }>): void {
  for (const { error } of reports) {
    expect(error).toBeInstanceOf(TroupeError)
    expect(error.kind).toBe('MalformedEnvelope')
  }
}

describe('fromWire: frames', () => {
  const badFrames: Array<[string, unknown, RegExp]> = [
    ['an object', { 0: 1, 1: tupleOf(call), length: 2 }, /must be an array/],
    ['a string', '1', /must be an array/],
    ['null', null, /must be an array/],
    ['undefined', undefined, /must be an array/],
    ['an array of envelope objects (the in-process form)', [call, reply], /unsupported frame version object/],
    ['empty', [], /unsupported frame version undefined/],
    ['version 2', [2, tupleOf(call)], /unsupported frame version 2/],
    ['version "1"', ['1', tupleOf(call)], /unsupported frame version string/],
    ['missing its version', [tupleOf(call), tupleOf(reply)], /unsupported frame version object/],
  ]

  test.each(badFrames)('reports a frame that is %s once, with the frame, and delivers nothing', (_, frame, message) => {
    const { out, reports } = receive(frame)
    expect(out).toEqual([])
    expect(reports).toHaveLength(1)
    expectOnlyMalformed(reports)
    expect(reports[0]!.error.message).toMatch(message)
    expect(reports[0]!.raw).toBe(frame)
  })

  test('a frame holding only its version delivers nothing and reports nothing', () => {
    expect(receive([1])).toEqual({ out: [], reports: [] })
  })
})

describe('fromWire: entries', () => {
  const badEntries: Array<[string, unknown, RegExp]> = [
    ['an envelope object', call, /must be an array/],
    ['a string', 'c', /must be an array/],
    ['null', null, /must be an array/],
    ['a number', 1, /must be an array/],
    ['an empty tuple', [], /unknown wire envelope tag undefined/],
    ['a tuple with an unknown tag', ['x', 'r1', 3], /unknown wire envelope tag "x"/],
    ['a tuple tagged with a type name', ['call', 'r1', 3, 'Counter/alice', 'increment', []], /unknown wire envelope tag "call"/],
    ['a tuple with a numeric tag', [1, 'r1'], /unknown wire envelope tag number/],
    ['a tuple with an array tag', [['c'], 'r1'], /unknown wire envelope tag object/],
    // Truncated: each tag's shortest form minus its last element.
    ['a truncated reply', ['r', 'r1'], /'r' wire envelope is a tuple of 3 elements.*truncated/],
    ['a bare reply tag', ['r'], /'r' wire envelope is a tuple of 3 elements/],
    ['a truncated error reply', ['e', 'r1'], /'e' wire envelope is a tuple of 3 elements/],
    ['a truncated redirect', ['d', 'r1'], /'d' wire envelope is a tuple of 3 elements/],
    ['a truncated call', ['c', 'r1', 3, 'Counter/alice', 'increment'], /'c' wire envelope is a tuple of 6 to 9 elements/],
    ['a bare call tag', ['c'], /'c' wire envelope is a tuple of 6 to 9 elements/],
    ['a truncated replicate', ['p', 'p1', 5, 'Counter/alice'], /'p' wire envelope is a tuple of 5 to 7 elements/],
    ['a truncated replicated', ['a', 'p1', 'Counter/alice', 4], /'a' wire envelope is a tuple of 5 elements/],
    ['a truncated fetch', ['f', 'f1', 5, 'Counter/alice', 4, 3], /'f' wire envelope is a tuple of 7 to 8 elements/],
    ['a truncated fetched', ['g', 'f1', 'Counter/alice', 4, 3], /'g' wire envelope is a tuple of 6 to 8 elements/],
    ['a truncated rejoined', ['j', 'j1'], /'j' wire envelope is a tuple of 3 elements/],
    // Too long: a trailing element no encoder writes.
    ['a reply with an extra element', ['r', 'r1', 3, 'extra'], /'r' wire envelope is a tuple of 3 elements.*too long/],
    ['a call with an extra element', [...tupleOf({ ...call, consistency: 'local' } as Envelope), 'extra'], /'c' wire envelope is a tuple of 6 to 9/],
    // A per-call consistency: a level's index, after a stale flag of 0 or 1.
    ...[-1, 4, 1.5, 'local', null].map((level): [string, unknown, RegExp] => [`a call with consistency ${JSON.stringify(level)}`, ['c', 'r1', 3, 'Counter/alice', 'increment', [], 0, 0, level], /consistency must be a level index/]),
    ['a call with consistency and stale flag 2', ['c', 'r1', 3, 'Counter/alice', 'increment', [], 0, 2, 1], /stale flag must be 0 or 1/],
    ['a replicated with an extra element', ['a', 'p1', 'Counter/alice', 4, 'ok', 'extra'], /'a' wire envelope is a tuple of 5 elements/],
    ['a rejoined with an extra element', ['j', 'j1', 5, 6], /'j' wire envelope is a tuple of 3 elements/],
    ['a fetched with an extra element', ['g', 'f1', 'Counter/alice', 4, 3, 'ok', 0, view, 'extra'], /'g' wire envelope is a tuple of 6 to 8/],
    // The stale flag: toWire writes 1 or nothing.
    ...[0, true, '1', null].map((flag): [string, unknown, RegExp] => [`a call with stale flag ${JSON.stringify(flag)}`, ['c', 'r1', 3, 'Counter/alice', 'increment', [], 0, flag], /stale flag must be 1/]),
    // Right length, bad fields: decode's own messages come through.
    ['a call with a negative epoch', ['c', 'r1', -1, 'Counter/alice', 'increment', []], /call\.epoch/],
    ['a call whose chain is not an array', ['c', 'r1', 3, 'Counter/alice', 'increment', [], 'Bank/main'], /call\.chain/],
    ['an error reply without kind', ['e', 'r1', { message: 'x' }], /reply\.error/],
    ['a redirect with a bad view', ['d', 'r1', { epoch: -1, hosts: [] }], /redirect\.view/],
    ['a replicate with a bad record', ['p', 'p1', 5, 'Counter/alice', [{ seq: 0 }]], /replicate\.records/],
    ['a replicate with a bad request entry', ['p', 'p1', 5, 'Counter/alice', [], { ...snapshot, requests: [['r1', 3]] }], /replicate\.snapshot\.requests/],
    ['a replicated with an unknown status', ['a', 'p1', 'Counter/alice', 4, 'maybe'], /replicated\.status/],
    ['a replicated with a NaN seq', ['a', 'p1', 'Counter/alice', Number.NaN, 'ok'], /replicated\.seq/],
    ['a fetch with a fractional seq', ['f', 'f1', 5, 'Counter/alice', 4, 1.5, view], /fetch\.epoch, lastEpoch and seq/],
    ['a fetched with a bad copy', ['g', 'f1', 'Counter/alice', 4, 3, 'ok', { seq: 3 }], /fetched\.snapshot/],
    ['a fetched with a bad reminder', ['g', 'f1', 'Counter/alice', 4, 3, 'ok', { ...snapshot, reminders: [['t', { dueAtMs: 1, everyMs: 0 }]] }], /fetched\.snapshot\.reminders/],
    ['a fetched with a bad view', ['g', 'f1', 'Counter/alice', 4, 3, 'stale', 0, { epoch: 5 }], /fetched\.view/],
    ['a rejoined with a string epoch', ['j', 'j1', '5'], /rejoined\.epoch/],
  ]

  test.each(badEntries)('reports an entry that is %s, and still delivers the rest of its frame', (_, entry, message) => {
    const { out, reports } = receive([1, tupleOf(call), entry, tupleOf(reply)])
    expect(out).toEqual([call, reply])
    expect(reports).toHaveLength(1)
    expectOnlyMalformed(reports)
    expect(reports[0]!.error.message).toMatch(message)
    expect(reports[0]!.raw).toBe(entry)
  })

  // Regression: ['r', id] used to be reported as "unsupported envelope version undefined".
  test('a truncated reply is reported as truncated, not as a version problem', () => {
    const { reports } = receive([1, ['r', 'r1']])
    expect(reports[0]!.error.message).toMatch(/truncated/)
    expect(reports[0]!.error.message).not.toMatch(/version/)
  })

  test('reports every bad entry of a frame, in order, with its raw value, between the good ones', () => {
    const bad = [['r', 'r1'], 'junk', ['j', 'j1', -1], ['x']]
    const good = [call, reply, { v: 1, t: 'rejoined', id: 'j2', epoch: 0 } as Envelope]
    const { out, reports } = receive([1, bad[0], tupleOf(good[0]!), bad[1], bad[2], tupleOf(good[1]!), tupleOf(good[2]!), bad[3]])
    expect(out).toEqual(good)
    expectOnlyMalformed(reports)
    expect(reports.map((r) => r.raw)).toEqual(bad)
  })

  test('optional trailing fields: a call\'s chain placeholder 0 and a fetched\'s snapshot placeholder 0 mean absent', () => {
    const { out, reports } = receive([1, ['c', 'r1', 3, 'Counter/alice', 'get', [], 0], ['g', 'f1', 'Counter/alice', 4, 3, 'ok', 0]])
    expect(reports).toEqual([])
    expect(out).toEqual([
      { v: 1, t: 'call', id: 'r1', epoch: 3, key: 'Counter/alice', method: 'get', args: [] },
      { v: 1, t: 'fetched', id: 'f1', key: 'Counter/alice', lastEpoch: 4, seq: 3, status: 'ok' },
    ])
    // toEqual overlooks undefined fields; the placeholders must leave no key at all.
    expect(Object.keys(out[0]!)).not.toContain('chain')
    expect(Object.keys(out[1]!)).not.toContain('snapshot')
  })
})

describe('fromWire: properties', () => {
  /** Checks that every entry of `frame` was delivered or reported, and reports only MalformedEnvelope. */
  function accountsForEvery(frame: unknown): Envelope[] {
    const { out, reports } = receive(frame)
    expectOnlyMalformed(reports)
    // A bad frame is one report; a good one, one delivery or report per entry.
    expect(out.length + reports.length).toBe(Array.isArray(frame) && frame[0] === 1 ? frame.length - 1 : 1)
    return out
  }

  /** Checks that `envelopes` come back from the wire (through structured clone, as on a port) unchanged. */
  function survivesTheWire(envelopes: Envelope[]): void {
    const { out, reports } = receive(structuredClone(toWire(envelopes)))
    expect(reports).toEqual([])
    expect(out).toEqual(envelopes)
  }

  test('never throws on any value, and accounts for it', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.array(fc.anything()).map((entries) => [1, ...entries])), (frame) => {
        survivesTheWire(accountsForEvery(structuredClone(frame)))
      }),
      { numRuns: 2000 },
    )
  })

  test('valid envelopes of every type survive the wire unchanged', () => {
    fc.assert(fc.property(fc.array(validEnvelope(), { maxLength: 6 }), survivesTheWire), { numRuns: 1000 })
  })

  test('mutated tuples (elements dropped, replaced or appended): never throws, each entry delivered or reported, what is delivered survives the wire', () => {
    const mutated = fc.tuple(validEnvelope(), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([envelope, edits]) => mutate(tupleOf(envelope), edits))
    fc.assert(
      fc.property(fc.array(fc.oneof(mutated, validEnvelope().map(tupleOf), nasty), { minLength: 1, maxLength: 6 }), (entries) => {
        survivesTheWire(accountsForEvery(structuredClone([1, ...entries])))
      }),
      { numRuns: 3000 },
    )
  })
})
