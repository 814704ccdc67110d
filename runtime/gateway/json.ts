/**
 * JSON in and out of the gateway. Actor results may hold values JSON has no form for; they are
 * written as: Map -> object (or `[key, value]` pairs when a key is not a string), Set -> array,
 * bigint -> decimal string, typed arrays -> arrays of numbers, Date -> ISO string (its toJSON).
 */

/** `JSON.stringify` with the conversions above; `undefined` becomes `null`. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value === undefined ? null : value, replacer, indent) ?? 'null'
}

function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Map) {
    const entries = [...value.entries()]
    return entries.every(([k]) => typeof k === 'string') ? Object.fromEntries(entries) : entries
  }
  if (value instanceof Set) return [...value]
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number | bigint>, (n) => (typeof n === 'bigint' ? n.toString() : n))
  return value
}
