import { TroupeError } from '../runtime/errors.ts'
import { decode, wireVersion, type Envelope } from './envelope.ts'

/**
 * The compact form of a frame on a port: `[version, ...tuples]`, each envelope a positional
 * tuple. Structured clone writes every property name of every object it copies; tuples skip
 * that, which roughly doubles what one channel carries (measured in bench/transport).
 *   call:     ['c', id, epoch, key, method, args, chain | 0, stale?]
 *   reply ok: ['r', id, value]
 *   reply err:['e', id, error]
 *   redirect: ['d', id, view]
 *   replicate:['p', id, epoch, key, records, snapshot?]
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
      case 'call': out[i + 1] = e.stale ? ['c', e.id, e.epoch, e.key, e.method, e.args, e.chain ?? 0, 1] : e.chain ? ['c', e.id, e.epoch, e.key, e.method, e.args, e.chain] : ['c', e.id, e.epoch, e.key, e.method, e.args]; break
      case 'reply': out[i + 1] = e.ok ? ['r', e.id, e.value] : ['e', e.id, e.error]; break
      case 'redirect': out[i + 1] = ['d', e.id, e.view]; break
      case 'replicate': out[i + 1] = e.snapshot ? ['p', e.id, e.epoch, e.key, e.records, e.snapshot] : ['p', e.id, e.epoch, e.key, e.records]; break
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
  if (!Array.isArray(data) || data[0] !== wireVersion) {
    onMalformed(new TroupeError('MalformedEnvelope', `a frame must be an array starting with version ${wireVersion}`), data)
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
  if (!Array.isArray(raw)) throw new TroupeError('MalformedEnvelope', 'a wire envelope must be an array')
  switch (raw[0]) {
    case 'c': {
      const call: Record<string, unknown> = { v: wireVersion, t: 'call', id: raw[1], epoch: raw[2], key: raw[3], method: raw[4], args: raw[5] }
      if (raw.length > 6 && raw[6] !== 0) call.chain = raw[6]
      if (raw.length > 7) call.stale = raw[7] === 1
      return call
    }
    case 'r': return raw.length === 3 ? { v: wireVersion, t: 'reply', id: raw[1], ok: true, value: raw[2] } : {}
    case 'e': return { v: wireVersion, t: 'reply', id: raw[1], ok: false, error: raw[2] }
    case 'd': return { v: wireVersion, t: 'redirect', id: raw[1], view: raw[2] }
    case 'p': {
      const shipment: Record<string, unknown> = { v: wireVersion, t: 'replicate', id: raw[1], epoch: raw[2], key: raw[3], records: raw[4] }
      if (raw.length > 5) shipment.snapshot = raw[5]
      return shipment
    }
    case 'a': return { v: wireVersion, t: 'replicated', id: raw[1], key: raw[2], seq: raw[3], status: raw[4] }
    case 'f': {
      const fetch: Record<string, unknown> = { v: wireVersion, t: 'fetch', id: raw[1], epoch: raw[2], key: raw[3], lastEpoch: raw[4], seq: raw[5], view: raw[6] }
      if (raw.length > 7) fetch.snapshot = raw[7]
      return fetch
    }
    case 'j': return { v: wireVersion, t: 'rejoined', id: raw[1], epoch: raw[2] }
    case 'g': {
      const answer: Record<string, unknown> = { v: wireVersion, t: 'fetched', id: raw[1], key: raw[2], lastEpoch: raw[3], seq: raw[4], status: raw[5] }
      if (raw.length > 6 && raw[6] !== 0) answer.snapshot = raw[6]
      if (raw.length > 7) answer.view = raw[7]
      return answer
    }
    default: throw new TroupeError('MalformedEnvelope', 'unknown wire envelope tag')
  }
}
