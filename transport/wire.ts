import { TroupeError } from '../runtime/errors.ts'
import { consistencyLevels } from '../runtime/durability/consistency.ts'
import { decode, wireVersion, type Envelope } from './envelope.ts'

/**
 * The compact form of a frame on a port: `[version, ...tuples]`, each envelope a positional
 * tuple. Structured clone writes every property name of every object it copies; tuples skip
 * that, which roughly doubles what one channel carries (measured in bench/transport).
 *   call:     ['c', id, epoch, key, method, args, chain | 0, 1 (stale)?] or, with a per-call
 *             consistency, [..., chain | 0, 1 | 0 (stale), level (its index in consistencyLevels)]
 *   reply ok: ['r', id, value]
 *   reply err:['e', id, error]
 *   redirect: ['d', id, view]
 *   replicate:['p', id, epoch, key, records, snapshot?] or, with `after`, [..., records, snapshot | 0, after]
 *   replicated:['a', id, key, seq, status]
 *   fetch:    ['f', id, epoch, key, lastEpoch, seq, view, snapshot?]
 *   fetched:  ['g', id, key, lastEpoch, seq, status, snapshot | 0, view?]
 *   rejoined: ['j', id, epoch]
 */
export type WireFrame = unknown[]

/** Encodes a frame of envelopes into its wire form. */
export function toWire(frame: readonly Envelope[]): WireFrame {
  const out: unknown[] = new Array(frame.length + 1)
  out[0] = wireVersion
  for (let i = 0; i < frame.length; i++) {
    const e = frame[i]!
    switch (e.t) {
      case 'call': out[i + 1] = e.consistency !== undefined ? ['c', e.id, e.epoch, e.key, e.method, e.args, e.chain ?? 0, e.stale ? 1 : 0, consistencyLevels.indexOf(e.consistency)]
        : e.stale ? ['c', e.id, e.epoch, e.key, e.method, e.args, e.chain ?? 0, 1] : e.chain ? ['c', e.id, e.epoch, e.key, e.method, e.args, e.chain] : ['c', e.id, e.epoch, e.key, e.method, e.args]; break
      case 'reply': out[i + 1] = e.ok ? ['r', e.id, e.value] : ['e', e.id, e.error]; break
      case 'redirect': out[i + 1] = ['d', e.id, e.view]; break
      case 'replicate': out[i + 1] = e.after !== undefined ? ['p', e.id, e.epoch, e.key, e.records, e.snapshot ?? 0, e.after] : e.snapshot ? ['p', e.id, e.epoch, e.key, e.records, e.snapshot] : ['p', e.id, e.epoch, e.key, e.records]; break
      case 'replicated': out[i + 1] = ['a', e.id, e.key, e.seq, e.status]; break
      case 'fetch': out[i + 1] = e.snapshot ? ['f', e.id, e.epoch, e.key, e.lastEpoch, e.seq, e.view, e.snapshot] : ['f', e.id, e.epoch, e.key, e.lastEpoch, e.seq, e.view]; break
      case 'rejoined': out[i + 1] = ['j', e.id, e.epoch]; break
      case 'fetched': out[i + 1] = e.view ? ['g', e.id, e.key, e.lastEpoch, e.seq, e.status, e.snapshot ?? 0, e.view] : e.snapshot ? ['g', e.id, e.key, e.lastEpoch, e.seq, e.status, e.snapshot] : ['g', e.id, e.key, e.lastEpoch, e.seq, e.status]; break
    }
  }
  return out
}

/** Decodes and validates a wire frame; a bad frame or entry is reported, never thrown. */
export function fromWire(data: unknown, onMalformed: (error: TroupeError, raw: unknown) => void): Envelope[] {
  if (!Array.isArray(data)) {
    onMalformed(malformed(`a frame must be an array starting with version ${wireVersion}`), data)
    return []
  }
  if (data[0] !== wireVersion) {
    onMalformed(malformed(`unsupported frame version ${typeof data[0] === 'number' ? data[0] : typeof data[0]}`), data)
    return []
  }
  const out: Envelope[] = []
  for (let i = 1; i < data.length; i++) {
    const raw: unknown = data[i]
    try {
      out.push(decode(fromTuple(raw)))
    } catch (error) {
      onMalformed(error as TroupeError, raw)
    }
  }
  return out
}

function fromTuple(raw: unknown): unknown {
  if (!Array.isArray(raw)) throw malformed('a wire envelope must be an array')
  // Each case checks the tuple's length before reading it, so a truncated tuple is reported as
  // such rather than as whichever field it happens to lack.
  switch (raw[0]) {
    case 'c': {
      arity(raw, 6, 9)
      const call: Record<string, unknown> = { v: wireVersion, t: 'call', id: raw[1], epoch: raw[2], key: raw[3], method: raw[4], args: raw[5] }
      if (raw.length > 6 && raw[6] !== 0) call.chain = raw[6]
      if (raw.length === 8) {
        // toWire writes 1 or nothing; anything else would silently read as "not stale".
        if (raw[7] !== 1) throw malformed('a wire call\'s stale flag must be 1')
        call.stale = true
      } else if (raw.length === 9) {
        if (raw[7] !== 0 && raw[7] !== 1) throw malformed('a wire call\'s stale flag must be 0 or 1')
        if (raw[7] === 1) call.stale = true
        const level = consistencyLevels[raw[8] as number]
        if (!Number.isInteger(raw[8]) || level === undefined) throw malformed('a wire call\'s consistency must be a level index')
        call.consistency = level
      }
      return call
    }
    case 'r': arity(raw, 3, 3); return { v: wireVersion, t: 'reply', id: raw[1], ok: true, value: raw[2] }
    case 'e': arity(raw, 3, 3); return { v: wireVersion, t: 'reply', id: raw[1], ok: false, error: raw[2] }
    case 'd': arity(raw, 3, 3); return { v: wireVersion, t: 'redirect', id: raw[1], view: raw[2] }
    case 'p': {
      arity(raw, 5, 7)
      const shipment: Record<string, unknown> = { v: wireVersion, t: 'replicate', id: raw[1], epoch: raw[2], key: raw[3], records: raw[4] }
      if (raw.length > 5 && (raw.length === 6 || raw[5] !== 0)) shipment.snapshot = raw[5]
      if (raw.length > 6) shipment.after = raw[6]
      return shipment
    }
    case 'a': arity(raw, 5, 5); return { v: wireVersion, t: 'replicated', id: raw[1], key: raw[2], seq: raw[3], status: raw[4] }
    case 'f': {
      arity(raw, 7, 8)
      const fetch: Record<string, unknown> = { v: wireVersion, t: 'fetch', id: raw[1], epoch: raw[2], key: raw[3], lastEpoch: raw[4], seq: raw[5], view: raw[6] }
      if (raw.length > 7) fetch.snapshot = raw[7]
      return fetch
    }
    case 'j': arity(raw, 3, 3); return { v: wireVersion, t: 'rejoined', id: raw[1], epoch: raw[2] }
    case 'g': {
      arity(raw, 6, 8)
      const answer: Record<string, unknown> = { v: wireVersion, t: 'fetched', id: raw[1], key: raw[2], lastEpoch: raw[3], seq: raw[4], status: raw[5] }
      if (raw.length > 6 && raw[6] !== 0) answer.snapshot = raw[6]
      if (raw.length > 7) answer.view = raw[7]
      return answer
    }
    default: throw malformed(`unknown wire envelope tag ${typeof raw[0] === 'string' ? JSON.stringify(raw[0].slice(0, 16)) : typeof raw[0]}`)
  }
}

/** Throws unless the tuple has `min` to `max` elements (its tag included; optional fields trail). */
function arity(raw: unknown[], min: number, max: number): void {
  if (raw.length >= min && raw.length <= max) return
  const expected = min === max ? `${min}` : `${min} to ${max}`
  throw malformed(`a '${raw[0] as string}' wire envelope is a tuple of ${expected} elements; this one is ${raw.length < min ? 'truncated' : 'too long'} (${raw.length})`)
}

function malformed(message: string): TroupeError {
  return new TroupeError('MalformedEnvelope', message)
}
