import { errorDataBytesMax, isTroupeError, type SerializedError } from './errors.ts'
import { copyValue, payloadBytes } from './payload.ts'

/**
 * Turns anything a user method threw into an `ActorFailed` wire error, keeping name, message,
 * stack, and the error's own fields as `data`. Never throws: an error that cannot even be read
 * (a Proxy whose traps throw, a throwing `message` getter) still answers the caller.
 */
export function serializeThrown(thrown: unknown, actor: string): SerializedError {
  try {
    // By kind and name, not class: a TroupeError the actor's module built comes from its own copy
    // of troupe. A plain object with a `kind` field (say HostUnavailable, which would make the
    // outcome unknown and the failure unjournaled) is a user's value, like any thrown object.
    if (thrown instanceof Error && thrown.name === 'TroupeError' && isTroupeError(thrown) && typeof thrown.toJSON === 'function') {
      const out: SerializedError = { ...thrown.toJSON(), actor: thrown.actor ?? actor }
      out.message = bounded(out.message)
      if (out.stack !== undefined) out.stack = bounded(out.stack)
      // A TroupeError a user built may hold anything in its data: checked like any error's fields.
      const data = thrown.data === undefined ? undefined : fieldsOf(thrown.data, Object.keys(thrown.data))
      if (data === undefined) delete out.data
      else out.data = data
      return out
    }
    if (thrown instanceof Error) {
      // Each read on its own: a getter that throws loses its own part only.
      const out: SerializedError = { kind: 'ActorFailed', message: bounded(readable(() => String(thrown.message), 'an error whose message cannot be read')), name: bounded(readable(() => String(thrown.name), 'Error'), errorNameCharsMax), actor }
      const stack = readable(() => thrown.stack === undefined ? undefined : String(thrown.stack), undefined)
      if (stack !== undefined) out.stack = bounded(stack)
      const names = Object.keys(thrown).filter((name) => name !== 'name' && name !== 'message' && name !== 'stack')
      if ('cause' in thrown && !names.includes('cause')) names.push('cause')
      if (thrown instanceof AggregateError && !names.includes('errors')) names.push('errors')
      const data = fieldsOf(thrown, names)
      if (data !== undefined) out.data = data
      return out
    }
    // String() throws for an object without a prototype, or with a toString that throws.
    const text = readable(() => String(thrown), typeof thrown === 'object' ? Object.prototype.toString.call(thrown) : typeof thrown)
    const out: SerializedError = { kind: 'ActorFailed', message: bounded(`non-Error thrown: ${text}`), name: typeof thrown, actor }
    // A thrown plain object ({ code, ... }): its fields are its data, as an error's are.
    if (typeof thrown === 'object' && thrown !== null) {
      const data = fieldsOf(thrown, Object.keys(thrown))
      if (data !== undefined) out.data = data
    }
    return out
  } catch {
    return { kind: 'ActorFailed', message: 'the actor threw a value that cannot be read', name: typeof thrown, actor }
  }
}

/** What `read` returns, or `fallback` if it throws. */
function readable<T>(read: () => T, fallback: T): T {
  try {
    return read()
  } catch {
    return fallback
  }
}

/** The most characters of an error's message, or of its stack, that reach the caller and the journal. */
export const errorTextCharsMax = 16 * 1024
const errorNameCharsMax = 256

/** `text`, cut to `max` characters with a note of how many were left out. */
function bounded(text: string, max = errorTextCharsMax): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`
}

/** An Error inside an error's data (a cause): its name and the start of its message; its stack and its own causes stay inside. */
function summaryOf(error: Error): { name: string; message: string } {
  return { name: String(error.name), message: String(error.message).slice(0, 1024) }
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
      if (value instanceof Error) value = summaryOf(value)
      // An AggregateError's errors, each as a cause is.
      else if (name === 'errors' && source instanceof AggregateError && Array.isArray(value)) value = value.map((e: unknown) => (e instanceof Error ? summaryOf(e) : e))
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
