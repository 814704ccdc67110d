import type { Limits } from './limits.ts'
import { checkedCopy, describeThrown } from './payload.ts'
import { TroupeError } from './errors.ts'
import { resolveDrafts } from './state/index.ts'

/**
 * What a turn answers: its value with drafts and views of the state resolved, checked and copied
 * once, so the reply, the journal and the request table hold the same plain data, whatever the
 * value's getters or its owner do afterwards. Throws a TroupeError only: a value whose getter
 * throws is `Unserializable`, as one that holds a function is.
 */
export function answerOf(value: unknown, limits: Pick<Limits, 'payloadBytesMax' | 'payloadDepthMax'>, key: string, method: string): unknown {
  let resolved: unknown
  try {
    // As deep as a payload may go (past it, checkPayload refuses the value anyway).
    resolved = resolveDrafts(value, 0, Math.max(256, limits.payloadDepthMax))
  } catch (error) {
    throw new TroupeError('Unserializable', `the result of ${key}.${method} cannot be read: ${describeThrown(error)}`, { actor: key })
  }
  return checkedCopy(resolved, limits.payloadBytesMax, limits.payloadDepthMax, 'result', key, method)
}
