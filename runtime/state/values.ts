import { TroupeError } from '../errors.ts'
import type { PathKey } from './patch.ts'

/**
 * What can live in actor state: exactly what a journal can carry and a replica rebuild.
 * Primitives (not symbols), plain objects (prototype `Object.prototype` or `null`), arrays,
 * `Map` (string or number keys), `Set` (primitive members), `Date` and typed arrays.
 * Everything else (functions, symbols, WeakMap, WeakSet, Promise, RegExp, Error, ArrayBuffer,
 * DataView, class instances, subclasses of the above) is refused as `Unjournalable`.
 */
export type ValueKind = 'primitive' | 'object' | 'array' | 'map' | 'set' | 'date' | 'typed'

/** A kind of value the tracker drafts (every kind but primitives). */
export type ContainerKind = Exclude<ValueKind, 'primitive'>

/** A member of a journaled `Set`: members are compared by value, so they must be primitives. */
export type SetMember = string | number | boolean | bigint | null | undefined

const typedArrayPrototypes: ReadonlySet<object> = new Set<object>([
  Int8Array.prototype, Uint8Array.prototype, Uint8ClampedArray.prototype, Int16Array.prototype,
  Uint16Array.prototype, Int32Array.prototype, Uint32Array.prototype, Float32Array.prototype,
  Float64Array.prototype, BigInt64Array.prototype, BigUint64Array.prototype,
])

/** The kind of a journalable value, or `undefined` when it cannot be journaled. */
export function kindOf(value: unknown): ValueKind | undefined {
  const type = typeof value
  if (type === 'function' || type === 'symbol') return undefined
  if (type !== 'object' || value === null) return 'primitive'
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) return 'object'
  if (proto === Array.prototype) return 'array'
  if (proto === Map.prototype) return 'map'
  if (proto === Set.prototype) return 'set'
  if (proto === Date.prototype) return 'date'
  if (typedArrayPrototypes.has(proto as object)) return 'typed'
  return undefined
}

/** True when `key` can be a key of a journaled `Map`. */
export function isMapKey(key: unknown): key is string | number {
  return typeof key === 'string' || typeof key === 'number'
}

/** True when `value` can be a member of a journaled `Set`. */
export function isSetMember(value: unknown): value is SetMember {
  const type = typeof value
  return value === null || (type !== 'object' && type !== 'function' && type !== 'symbol')
}

/** A short description of an unjournalable value for error messages ("a function", "a Promise"). */
export function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'symbol') return 'a symbol'
  if (typeof value !== 'object' || value === null) return `a ${typeof value}`
  const proto: unknown = Object.getPrototypeOf(value)
  const ctor = typeof proto === 'object' && proto !== null ? (proto as { constructor?: unknown }).constructor : undefined
  const name = typeof ctor === 'function' && ctor.name !== '' ? ctor.name : 'unknown class'
  return `a ${name}`
}

/** A shallow copy of a container of the given kind, keeping prototype, order and holes. */
export function copyContainer(value: object, kind: ContainerKind): object {
  switch (kind) {
    case 'object':
      return Object.getPrototypeOf(value) === null ? Object.assign(Object.create(null) as object, value) : { ...value }
    case 'array': return (value as unknown[]).slice()
    case 'map': return new Map(value as Map<unknown, unknown>)
    case 'set': return new Set(value as Set<unknown>)
    case 'date': return new Date((value as Date).getTime())
    case 'typed': return (value as Uint8Array).slice()
  }
}

const identifier = /^[A-Za-z_$][\w$]*$/

/** A path as a reader writes it: `state.items[3].name`, `state.byId["a b"]`. */
export function formatPath(path: readonly PathKey[]): string {
  let out = 'state'
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else out += identifier.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
  }
  return out
}

/** The `Unjournalable` error for a value found at `path`. */
export function unjournalable(path: readonly PathKey[], what: string): TroupeError {
  return new TroupeError('Unjournalable', `${formatPath(path)} is ${what}, which cannot be journaled`)
}

/**
 * Thrown inside the commit walk, which pushes the key of every level it unwinds through
 * (innermost first), so the path costs nothing unless something is wrong.
 */
export class PathFault {
  readonly keysInnermostFirst: PathKey[] = []
  constructor(readonly what: string) {}

  /** The fault as the `Unjournalable` error the caller sees, the path given outermost first. */
  toError(prefix: readonly PathKey[] = []): TroupeError {
    return unjournalable([...prefix, ...this.keysInnermostFirst.slice().reverse()], this.what)
  }
}

/** True when `key` is a canonical array index ("0", "17", not "01" or "-1"). */
export function isArrayIndex(key: string): boolean {
  const n = Number(key)
  return Number.isInteger(n) && n >= 0 && n < 4294967295 && String(n) === key
}
