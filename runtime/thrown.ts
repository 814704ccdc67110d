import { isTroupeError, errorDataBytesMax, type SerializedError } from './errors.ts'
import { checkPayload, copyValue } from './payload.ts'

/** Turns anything a user method threw into an `ActorFailed` wire error, keeping name, message and stack. */
export function serializeThrown(thrown: unknown, actor: string): SerializedError {
  if (isTroupeError(thrown)) return { ...thrown.toJSON(), actor: thrown.actor ?? actor }
  if (thrown instanceof Error) {
    const out: SerializedError = { kind: 'ActorFailed', message: thrown.message, name: thrown.name, actor }
    if (thrown.stack !== undefined) out.stack = thrown.stack
    const data = fieldsOf(thrown)
    if (data !== undefined) out.data = data
    return out
  }
  let text: string
  try { text = String(thrown) } catch { text = 'unprintable value' }
  return { kind: 'ActorFailed', message: `non-Error thrown: ${text}`, name: typeof thrown, actor }
}

/** Copies of an error's own enumerable fields and its cause, leaving out what cannot be copied (undefined when none is left, or too large). */
function fieldsOf(error: Error): Record<string, unknown> | undefined {
  const names = Object.keys(error).filter((name) => name !== 'name' && name !== 'message' && name !== 'stack')
  if ('cause' in error && !names.includes('cause')) names.push('cause')
  let data: Record<string, unknown> | undefined
  for (const name of names) {
    try {
      const copy = copyValue((error as unknown as Record<string, unknown>)[name])
      ;(data ??= {})[name] = copy
    } catch {
      // A function, a symbol, a class with private state: it stays behind.
    }
  }
  if (data === undefined) return undefined
  try {
    checkPayload(data, errorDataBytesMax, 16, 'error data')
  } catch {
    return undefined
  }
  return data
}
