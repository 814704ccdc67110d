import { TroupeError } from './errors.ts'

/**
 * Checks a value before it crosses a boundary: refuses what structured clone cannot carry
 * (functions, symbols, promises, weak collections), cycles and very deep nesting, and anything
 * whose estimated size exceeds the limit. Cheap for the usual small arguments.
 */
export function checkPayload(value: unknown, bytesMax: number, depthMax: number, what: string): void {
  const size = estimate(value, 0, depthMax, bytesMax, what)
  if (size > bytesMax) throw tooLarge(what, bytesMax)
}

function estimate(value: unknown, depth: number, depthMax: number, bytesMax: number, what: string): number {
  switch (typeof value) {
    case 'number': case 'boolean': case 'undefined': case 'bigint': return 8
    case 'string': return 4 + value.length * 2
    case 'function': throw unserializable(what, 'a function')
    case 'symbol': throw unserializable(what, 'a symbol')
  }
  if (value === null) return 8
  if (depth >= depthMax) throw unserializable(what, `nesting deeper than ${depthMax} (or a cycle)`)
  const obj = value as object
  if (obj instanceof Promise || obj instanceof WeakMap || obj instanceof WeakSet) throw unserializable(what, obj.constructor.name)
  if (ArrayBuffer.isView(obj)) return 16 + obj.byteLength
  if (obj instanceof ArrayBuffer) return 16 + obj.byteLength
  if (obj instanceof Date || obj instanceof RegExp) return 24
  let total = 16
  const add = (item: unknown): void => {
    total += estimate(item, depth + 1, depthMax, bytesMax, what)
    if (total > bytesMax) throw tooLarge(what, bytesMax)
  }
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) add(obj[i])
  } else if (obj instanceof Map) {
    for (const [k, v] of obj) { add(k); add(v) }
  } else if (obj instanceof Set) {
    for (const v of obj) add(v)
  } else {
    for (const k in obj) {
      total += 4 + k.length * 2
      add((obj as Record<string, unknown>)[k])
    }
  }
  return total
}

function unserializable(what: string, thing: string): TroupeError {
  return new TroupeError('Unserializable', `${what} holds ${thing}, which cannot be sent`)
}

function tooLarge(what: string, bytesMax: number): TroupeError {
  return new TroupeError('PayloadTooLarge', `${what} is larger than ${bytesMax} bytes`)
}
