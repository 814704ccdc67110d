import fc from 'fast-check'
import type { Envelope } from '../../transport/envelope.ts'

/**
 * Generators of valid envelopes of every type, for the wire and decode properties. Optional
 * fields are absent rather than undefined, and `stale` is only ever `true`: `stale: false`
 * is valid but the wire writes it as absent, so it would not come back key for key.
 */
const id = fc.string({ minLength: 1, maxLength: 12 })
const count = fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER))
const key = fc.tuple(fc.constantFrom('Counter', 'Bank'), fc.string({ minLength: 1, maxLength: 8 })).map(([type, name]) => `${type}/${name}`)
const view = fc.record({ epoch: fc.nat(), hosts: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 4 }) })
const reminderSpec = fc.record(
  { dueAtMs: fc.double({ noNaN: true, noDefaultInfinity: true }), everyMs: fc.double({ min: 1, max: 1e9, noNaN: true }) },
  { requiredKeys: ['dueAtMs'] },
)
const patchOp = fc.oneof(
  fc.record({ op: fc.constant('set'), path: fc.array(fc.oneof(fc.string(), fc.nat()), { maxLength: 3 }), value: fc.anything() }),
  fc.record({ op: fc.constant('set'), path: fc.tuple(fc.constant('~reminders'), fc.string({ minLength: 1 })), value: reminderSpec }),
  fc.record({ op: fc.constant('delete'), path: fc.array(fc.string(), { minLength: 1, maxLength: 3 }) }),
)
const record = fc.record({ seq: fc.integer({ min: 1 }), epoch: fc.nat(), requestId: fc.string(), patch: fc.array(patchOp, { maxLength: 3 }), result: fc.anything() })

export const snapshot = fc.record(
  {
    seq: count,
    epoch: count,
    state: fc.anything(),
    requests: fc.array(fc.tuple(fc.string(), fc.nat(), fc.anything()), { maxLength: 4 }),
    reminders: fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 256 }), reminderSpec), { maxLength: 3 }),
  },
  { requiredKeys: ['seq', 'epoch', 'state', 'requests'] },
)

const call = fc.record(
  { v: fc.constant(1), t: fc.constant('call'), id, epoch: count, key, method: id, args: fc.array(fc.anything(), { maxLength: 3 }), chain: fc.array(key, { maxLength: 3 }), stale: fc.constant(true), consistency: fc.constantFrom('memory', 'local', 'quorum', 'strong') },
  { requiredKeys: ['v', 't', 'id', 'epoch', 'key', 'method', 'args'] },
)
const replyOk = fc.record({ v: fc.constant(1), t: fc.constant('reply'), id, ok: fc.constant(true), value: fc.anything() })
const replyError = fc.record({
  v: fc.constant(1),
  t: fc.constant('reply'),
  id,
  ok: fc.constant(false),
  error: fc.record(
    { kind: fc.constantFrom('UnknownMethod', 'ActorFailed', 'CallTimeout', 'StaleEpoch'), message: fc.string(), name: fc.string(), stack: fc.string(), actor: key },
    { requiredKeys: ['kind', 'message'] },
  ),
})
const redirect = fc.record({ v: fc.constant(1), t: fc.constant('redirect'), id, view })
const replicate = fc.record(
  { v: fc.constant(1), t: fc.constant('replicate'), id, epoch: count, key, records: fc.array(record, { maxLength: 3 }), snapshot },
  { requiredKeys: ['v', 't', 'id', 'epoch', 'key', 'records'] },
)
const replicated = fc.record({ v: fc.constant(1), t: fc.constant('replicated'), id, key, seq: count, status: fc.constantFrom('ok', 'resync', 'stale') })
const fetch = fc.record(
  { v: fc.constant(1), t: fc.constant('fetch'), id, epoch: count, view, key, lastEpoch: count, seq: count, snapshot },
  { requiredKeys: ['v', 't', 'id', 'epoch', 'view', 'key', 'lastEpoch', 'seq'] },
)
const fetched = fc.record(
  { v: fc.constant(1), t: fc.constant('fetched'), id, key, lastEpoch: count, seq: count, status: fc.constantFrom('ok', 'unsynced', 'stale'), snapshot, view },
  { requiredKeys: ['v', 't', 'id', 'key', 'lastEpoch', 'seq', 'status'] },
)
const rejoined = fc.record({ v: fc.constant(1), t: fc.constant('rejoined'), id, epoch: count })

/** A valid envelope of any of the eight types. */
export function validEnvelope(): fc.Arbitrary<Envelope> {
  return fc.oneof(call, replyOk, replyError, redirect, replicate, replicated, fetch, fetched, rejoined) as fc.Arbitrary<Envelope>
}

/** Values that break one check or another: wrong types, negatives, fractions, NaN, oversized. */
export const nasty = fc.oneof(
  fc.constantFrom(undefined, null, 0, -1, 1.5, Number.NaN, Infinity, -0, '', 'x'.repeat(1025), 'x'.repeat(4097), true, [], {}, [[]], [null], 2 ** 53),
  fc.anything(),
)

/** One edit to a wire tuple: drop, replace or append an element. */
export type Mutation = { kind: 'drop'; at: number } | { kind: 'replace'; at: number; value: unknown } | { kind: 'append'; value: unknown }

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: nasty }),
  fc.record({ kind: fc.constant('append' as const), value: nasty }),
)

/** A copy of `tuple` with `mutations` applied in order (positions wrap around its length). */
export function mutate(tuple: readonly unknown[], mutations: readonly Mutation[]): unknown[] {
  const out = [...tuple]
  for (const m of mutations) {
    if (m.kind === 'append') out.push(m.value)
    else if (out.length === 0) continue
    else if (m.kind === 'drop') out.splice(m.at % out.length, 1)
    else out[m.at % out.length] = m.value
  }
  return out
}

type PathKey = string | number

/** Every path into `value`'s own fields, down to `depth` levels. */
function pathsOf(value: unknown, depth: number, prefix: PathKey[] = []): PathKey[][] {
  if (depth === 0 || typeof value !== 'object' || value === null) return []
  const out: PathKey[][] = []
  for (const name of Object.keys(value)) {
    const path = [...prefix, Array.isArray(value) ? Number(name) : name]
    out.push(path, ...pathsOf((value as Record<string, unknown>)[name], depth - 1, path))
  }
  return out
}

/** A copy of `envelope` with the field at `path` removed (`drop`) or replaced by `value`. */
function edit(envelope: Envelope, path: PathKey[], value: unknown, drop: boolean): Record<string, unknown> {
  const copy = structuredClone(envelope) as unknown as Record<string, unknown>
  let parent = copy as Record<PathKey, unknown>
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<PathKey, unknown>
  const last = path[path.length - 1]!
  if (!drop) parent[last] = value
  else if (Array.isArray(parent)) parent.splice(last as number, 1)
  else delete parent[last]
  return copy
}

/**
 * A valid envelope with one field, at any depth (a snapshot's request entry, a record's patch
 * operation, a reminder's period), dropped or replaced by a nasty value: reaches every check.
 */
export function brokenEnvelope(): fc.Arbitrary<Record<string, unknown>> {
  return validEnvelope().chain((envelope) =>
    fc.tuple(fc.constantFrom(...pathsOf(envelope, 5)), nasty, fc.boolean()).map(([path, value, drop]) => edit(envelope, path, value, drop)),
  )
}
