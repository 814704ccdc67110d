import { copyArguments, copyValue } from '../runtime/payload.ts'
import type { Envelope } from './envelope.ts'

/**
 * A copy of an envelope that a host delivers to itself (a call between two actors on one host,
 * and its reply): what a port would deliver, without its cost. The envelope is copied field by
 * field (the caller changes its own on a resend: epoch, stale) and its chain is a new array (the
 * caller's is the activation's own); the user's payload (arguments, result) is copied too, so
 * caller and callee never share an object, but a payload of primitives (the usual case) skips
 * `structuredClone` (about 2 µs each way).
 * Throws what `structuredClone` throws for a payload that cannot be cloned.
 */
export function loopbackCopy(envelope: Envelope): Envelope {
  switch (envelope.t) {
    case 'call': {
      const copy = { ...envelope, args: copyArguments(envelope.args) }
      if (envelope.chain !== undefined) copy.chain = envelope.chain.slice()
      return copy
    }
    case 'reply':
      return envelope.ok ? { v: 1, t: 'reply', id: envelope.id, ok: true, value: copyValue(envelope.value) } : structuredClone(envelope)
    default:
      return structuredClone(envelope)
  }
}
