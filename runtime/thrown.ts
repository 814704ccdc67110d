import { errorDataBytesMax, isTroupeError, type SerializedError } from './errors.ts'
import { copyValue, payloadBytes } from './payload.ts'

/**
 * Turns anything a user method threw into an `ActorFailed` wire error, keeping name, message,
 * stack, and the error's own fields as `data`. Never throws: an error that cannot even be read
 * (a Proxy whose traps throw, a throwing `message` getter) still answers the caller.
 */
export function serializeThrown(thrown: unknown, actor: string): SerializedError {
  try {
    if (isTroupeError(thrown)) {
      const out: SerializedError = { ...thrown.toJSON(), actor: thrown.actor ?? actor }
      // A TroupeError a user built may hold anything in its data: checked like any error's fields.
      const data = thrown.data === undefined ? undefined : fieldsOf(thrown.data, Object.keys(thrown.data))
      if (data === undefined) delete out.data
      else out.data = data
      return out
    }
    if (thrown instanceof Error) {
      const out: SerializedError = { kind: 'ActorFailed', message: String(thrown.message), name: String(thrown.name), actor }
      if (thrown.stack !== undefined) out.stack = String(thrown.stack)
      const names = Object.keys(thrown).filter((name) => name !== 'name' && name !== 'message' && name !== 'stack')
      if ('cause' in thrown && !names.includes('cause')) names.push('cause')
      const data = fieldsOf(thrown, names)
      if (data !== undefined) out.data = data
      return out
    }
    return { kind: 'ActorFailed', message: `non-Error thrown: ${String(thrown)}`, name: typeof thrown, actor }
  } catch {
    return { kind: 'ActorFailed', message: 'the actor threw a value that cannot be read', name: typeof thrown, actor }
  }
}

/** How deep an error's fields may nest. */
const errorDataDepthMax = 16

/**
 * Copies of the named fields, each measured before it is copied; a field that cannot be copied,
 * is nested too deep or would take the whole past `errorDataBytesMax` is left out, and the rest
 * kept. An Error among them (a `cause`) becomes `{ name, message }`: its stack and its own causes
 * stay inside. Undefined when no field is left.
 */
function fieldsOf(source: object, names: readonly string[]): Record<string, unknown> | undefined {
  let data: Record<string, unknown> | undefined
  let bytesLeft = errorDataBytesMax
  for (const name of names) {
    if (name === '__proto__') continue
    try {
      let value = (source as Record<string, unknown>)[name]
      if (value instanceof Error) value = { name: String(value.name), message: String(value.message).slice(0, 1024) }
      const bytes = payloadBytes(value, bytesLeft, errorDataDepthMax)
      if (bytes === undefined) continue
      const copy = copyValue(value)
      ;(data ??= {})[name] = copy
      bytesLeft -= bytes
    } catch {
      // A getter that throws, a value structured clone refuses: this field stays behind.
    }
  }
  return data
}
