/**
 * Read-only views of committed state, for turns that journal nothing (`@readOnly` and
 * `@reentrant` methods outside a write turn, stale reads). Such a turn runs on the committed
 * state itself; a change it made would live in memory only, and a failover or passivation would
 * silently roll it back. Through this view any change throws a `TypeError` at once instead (the
 * caller gets `ActorFailed`; the actor keeps serving).
 *
 * A view wraps lazily, one proxy per object reached, cached for as long as the object lives
 * (committed state is immutable, so a view never goes stale). `Map`, `Set`, `Date` and typed
 * arrays, whose methods need the real object as `this`, get their reading methods bound to it
 * and their mutators refused; values they hand out are views too.
 */

import { copyContainer, kindOf } from './values.ts'

const views = new WeakMap<object, object>()
const targets = new WeakMap<object, object>()

/** A read-only view of `value` (itself, when it is not an object). */
export function readOnlyView<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value
  const known = views.get(value)
  if (known !== undefined) return known as T
  const target = viewable(value)
  const view = new Proxy(target, handler)
  // A view over a copy (of a frozen or sealed object) is not kept: the object may be a value new
  // in a write turn, which that turn can still change (a sealed object's properties), and a
  // reentrant method must read it as it is now.
  if (target === value) views.set(value, view)
  targets.set(view, target)
  return view as T
}

/**
 * What a view of `value` wraps: `value`, or a shallow copy of a frozen or sealed one. A proxy must
 * read such an object's own properties back as themselves (an invariant), so it could not guard
 * what they hold, and freezing stops neither a Map's `set` nor a Date's `setTime`.
 */
function viewable(value: object): object {
  if (Object.isExtensible(value)) return value
  const kind = kindOf(value)
  return kind === undefined || kind === 'primitive' ? value : copyContainer(value, kind)
}

/** The object behind a read-only view, or undefined when `value` is not one. */
export function readOnlyTarget(value: object): object | undefined {
  return targets.get(value)
}

function refuse(what: string): never {
  throw new TypeError(`this.state is read-only here (a @readOnly or @reentrant method journals nothing, so its change would be lost): cannot ${what}`)
}

const handler: ProxyHandler<object> = {
  get(target, property) {
    const value: unknown = Reflect.get(target, property, target)
    if (typeof value === 'function' && !Array.isArray(target)) return methodOf(target, property, value as (...args: unknown[]) => unknown)
    return readOnlyView(value)
  },
  getOwnPropertyDescriptor(target, property) {
    const descriptor = Reflect.getOwnPropertyDescriptor(target, property)
    if (descriptor && 'value' in descriptor && descriptor.writable) descriptor.value = readOnlyView(descriptor.value)
    return descriptor
  },
  set: (_target, property) => refuse(`set ${String(property)}`),
  deleteProperty: (_target, property) => refuse(`delete ${String(property)}`),
  defineProperty: (_target, property) => refuse(`define ${String(property)}`),
  setPrototypeOf: () => refuse('change a prototype'),
  preventExtensions: () => refuse('freeze or seal it'),
}

const mapMutators = new Set<PropertyKey>(['set', 'delete', 'clear'])
const setMutators = new Set<PropertyKey>(['add', 'delete', 'clear'])
const typedArrayMutators = new Set<PropertyKey>(['set', 'fill', 'copyWithin', 'reverse', 'sort'])

/** A method of a collection, date or typed array, read through a view. */
function methodOf(target: object, property: PropertyKey, fn: (...args: unknown[]) => unknown): unknown {
  const name = String(property)
  if (target instanceof Map) {
    if (mapMutators.has(property)) return () => refuse(`call Map.${name}`)
    if (property === 'get') return (key: unknown) => readOnlyView(target.get(key))
    if (property === 'forEach') return (callback: (value: unknown, key: unknown, map: unknown) => void, thisArg?: unknown) => target.forEach((value, key) => callback.call(thisArg, readOnlyView(value), readOnlyView(key), readOnlyView(target)))
    if (property === 'entries' || property === Symbol.iterator) return function* () { for (const [key, value] of target) yield [readOnlyView(key), readOnlyView(value)] }
    if (property === 'values') return function* () { for (const value of target.values()) yield readOnlyView(value) }
    if (property === 'keys') return function* () { for (const key of target.keys()) yield readOnlyView(key) }
  } else if (target instanceof Set) {
    if (setMutators.has(property)) return () => refuse(`call Set.${name}`)
    if (property === 'forEach') return (callback: (value: unknown, key: unknown, set: unknown) => void, thisArg?: unknown) => target.forEach((value) => callback.call(thisArg, readOnlyView(value), readOnlyView(value), readOnlyView(target)))
    if (property === 'entries') return function* () { for (const value of target) yield [readOnlyView(value), readOnlyView(value)] }
    if (property === 'values' || property === 'keys' || property === Symbol.iterator) return function* () { for (const value of target) yield readOnlyView(value) }
  } else if (target instanceof Date) {
    if (name.startsWith('set')) return () => refuse(`call Date.${name}`)
  } else if (target instanceof DataView) {
    if (name.startsWith('set')) return () => refuse(`call DataView.${name}`)
  } else if (ArrayBuffer.isView(target)) {
    if (typedArrayMutators.has(property)) return () => refuse(`call ${name} on a typed array`)
    if (property === 'subarray') return (...args: unknown[]) => readOnlyView(fn.apply(target, args))
  }
  return fn.bind(target)
}
