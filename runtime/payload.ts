import { TroupeError } from './errors.ts'

/** Why `estimate` refused a value; turned into a TroupeError with the payload's name only then (no message is built per call). */
class Refusal {
  constructor(readonly kind: 'Unserializable' | 'PayloadTooLarge', readonly thing: string) {}
}

/**
 * Checks a value before it crosses a boundary: refuses what structured clone cannot carry
 * (functions, symbols, promises, weak collections), cycles and very deep nesting, and anything
 * whose estimated size exceeds the limit. Cheap for the usual small arguments. The error names
 * the payload: `the ${part} of ${key}.${method}`, or `part` alone when no key is given.
 */
export function checkPayload(value: unknown, bytesMax: number, depthMax: number, part: string, key?: string, method?: string): void {
  try {
    if (estimate(value, 0, depthMax, bytesMax) <= bytesMax) return
  } catch (error) {
    // A getter or a Proxy trap that throws: the value cannot be read, so it cannot be sent either.
    if (!(error instanceof Refusal)) throw new TroupeError('Unserializable', `${payloadName(part, key, method)} cannot be read: ${describeThrown(error)}`)
    if (error.kind === 'Unserializable') throw new TroupeError('Unserializable', `${payloadName(part, key, method)} holds ${error.thing}, which cannot be sent`)
  }
  throw new TroupeError('PayloadTooLarge', `${payloadName(part, key, method)} is larger than ${bytesMax} bytes`)
}

/** How an error names a payload: `the ${part} of ${key}.${method}`, or `part` alone without a key. */
function payloadName(part: string, key: string | undefined, method: string | undefined): string {
  return key === undefined ? part : `the ${part} of ${key}.${method}`
}

/**
 * `checkPayload`, then a copy (`copyValue`) that shares nothing with the value: what a turn
 * answers is fixed when it ends, so the reply, the journal and the request table hold the same
 * plain data, whatever the value's getters or its owner do later. Throws a TroupeError only.
 */
export function checkedCopy(value: unknown, bytesMax: number, depthMax: number, part: string, key?: string, method?: string): unknown {
  checkPayload(value, bytesMax, depthMax, part, key, method)
  try {
    return copyValue(value)
  } catch (error) {
    throw new TroupeError('Unserializable', `${payloadName(part, key, method)} cannot be copied: ${describeThrown(error)}`)
  }
}

/** One line on something thrown, for an error message; never throws. */
export function describeThrown(thrown: unknown): string {
  try {
    return thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown)
  } catch {
    return 'a value that cannot be read'
  }
}

/** The estimated size of `value` in bytes, or undefined when it is larger than `bytesMax`, nested deeper than `depthMax`, or cannot be sent (or read). Never throws. */
export function payloadBytes(value: unknown, bytesMax: number, depthMax: number): number | undefined {
  try {
    const bytes = estimate(value, 0, depthMax, bytesMax)
    return bytes <= bytesMax ? bytes : undefined
  } catch {
    return undefined // a Refusal, or a getter or Proxy trap that threw: cannot be sent either way
  }
}

const tooLarge = new Refusal('PayloadTooLarge', '')

function estimate(value: unknown, depth: number, depthMax: number, bytesMax: number): number {
  switch (typeof value) {
    case 'number': case 'boolean': case 'undefined': case 'bigint': return 8
    case 'string': return 4 + value.length * 2
    case 'function': throw new Refusal('Unserializable', 'a function')
    case 'symbol': throw new Refusal('Unserializable', 'a symbol')
  }
  if (value === null) return 8
  if (depth >= depthMax) throw new Refusal('Unserializable', `nesting deeper than ${depthMax} (or a cycle)`)
  const obj = value as object
  if (obj instanceof Promise || obj instanceof WeakMap || obj instanceof WeakSet) throw new Refusal('Unserializable', obj.constructor.name)
  // structuredClone shares a SharedArrayBuffer: a "copy" the caller and callee would both write.
  if (ArrayBuffer.isView(obj)) {
    if (isShared(obj.buffer)) throw new Refusal('Unserializable', 'a view of a SharedArrayBuffer')
    return 16 + obj.byteLength
  }
  if (obj instanceof ArrayBuffer) return 16 + obj.byteLength
  if (isShared(obj)) throw new Refusal('Unserializable', 'a SharedArrayBuffer')
  if (obj instanceof Date || obj instanceof RegExp) return 24
  let total = 16
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      total += estimate(obj[i], depth + 1, depthMax, bytesMax)
      if (total > bytesMax) throw tooLarge
    }
  } else if (obj instanceof Map) {
    for (const [k, v] of obj) {
      total += estimate(k, depth + 1, depthMax, bytesMax) + estimate(v, depth + 1, depthMax, bytesMax)
      if (total > bytesMax) throw tooLarge
    }
  } else if (obj instanceof Set) {
    for (const v of obj) {
      total += estimate(v, depth + 1, depthMax, bytesMax)
      if (total > bytesMax) throw tooLarge
    }
  } else {
    for (const k in obj) {
      total += 4 + k.length * 2 + estimate((obj as Record<string, unknown>)[k], depth + 1, depthMax, bytesMax)
      if (total > bytesMax) throw tooLarge
    }
  }
  return total
}

function isShared(value: object): boolean {
  return typeof SharedArrayBuffer === 'function' && value instanceof SharedArrayBuffer
}

function isPlainPrimitive(value: unknown): boolean {
  const type = typeof value
  return value === null || type === 'number' || type === 'string' || type === 'boolean' || type === 'undefined' || type === 'bigint'
}

/** A copy of a value that shares nothing with it: a primitive as it is, anything else through `structuredClone` (which throws what it cannot clone). */
export function copyValue(value: unknown): unknown {
  return isPlainPrimitive(value) ? value : structuredClone(value)
}

/**
 * A copy of a call's arguments that shares nothing with them (the caller may change its objects
 * once the call is made), cloned as one value when any argument is an object, so two arguments
 * that share an object still share one copy; arguments that are all primitives (the usual case)
 * cost a slice. Throws what `structuredClone` throws.
 */
export function copyArguments(args: unknown[]): unknown[] {
  for (let i = 0; i < args.length; i++) if (!isPlainPrimitive(args[i])) return structuredClone(args)
  return args.slice()
}
