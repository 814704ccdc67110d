import { assertOpen, DraftNode, ensureCopy, NODE, nodeOf, writeError } from './node.ts'
import { isArrayIndex } from './values.ts'

/**
 * Dates and typed arrays are values replaced whole: a method that can change one (a Date
 * setter; a typed array's `set`, `fill`, `sort`, `reverse`, `copyWithin`, `subarray`, `buffer`)
 * first makes a private copy; commit journals the copy only if its contents differ.
 */
type Method = (...args: unknown[]) => unknown

function self(receiver: unknown): DraftNode {
  const node = nodeOf(receiver)
  if (node === undefined) throw new TypeError('Date/typed-array draft method called on an incompatible receiver')
  assertOpen(node)
  return node
}

/** Wrappers for every method on `proto`: mutating ones run on the copy, the others on the current value. */
function wrapMethods(proto: object, mutating: ReadonlySet<PropertyKey>): Record<PropertyKey, Method> {
  const methods: Record<PropertyKey, Method> = Object.create(null) as Record<PropertyKey, Method>
  for (const key of Reflect.ownKeys(proto)) {
    const method = Object.getOwnPropertyDescriptor(proto, key)?.value as unknown
    if (typeof method !== 'function' || key === 'constructor') continue
    const fn = method as Method
    methods[key] = mutating.has(key)
      ? function (this: unknown, ...args: unknown[]) { return Reflect.apply(fn, ensureCopy(self(this)), args) }
      : function (this: unknown, ...args: unknown[]) { return Reflect.apply(fn, self(this).current(), args) }
  }
  return methods
}

const dateSetters = new Set<PropertyKey>(Reflect.ownKeys(Date.prototype).filter((key) => typeof key === 'string' && key.startsWith('set')))
const dateMethods = wrapMethods(Date.prototype, dateSetters)

const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object
const typedMutators = new Set<PropertyKey>(['set', 'fill', 'sort', 'reverse', 'copyWithin', 'subarray'])
const typedMethods = wrapMethods(typedArrayPrototype, typedMutators)

function refuse(node: DraftNode, prop: string | symbol, noun: string): never {
  throw writeError(node, undefined, `given a property ${String(prop)} (${noun} hold no properties of their own)`)
}

const common = {
  deleteProperty: () => false,
  getPrototypeOf: (node: DraftNode) => Object.getPrototypeOf(node.base) as object | null,
  setPrototypeOf: () => false,
  preventExtensions: () => false,
}

/** Date drafts: reads run on the current Date, setters on a private copy. */
export const dateHandler: ProxyHandler<DraftNode> = {
  ...common,
  get(node, prop) {
    if (prop === NODE) return node
    assertOpen(node)
    return dateMethods[prop] ?? Reflect.get(node.current(), prop)
  },
  set: (node, prop) => refuse(node, prop, 'Dates'),
  defineProperty: (node, prop) => refuse(node, prop, 'Dates'),
  has: (node, prop) => prop !== NODE && Reflect.has(node.current(), prop),
  ownKeys: () => [],
  getOwnPropertyDescriptor: () => undefined,
}

/** Typed array drafts: element writes and mutating methods go to a private copy. */
export const typedHandler: ProxyHandler<DraftNode> = {
  ...common,
  get(node, prop) {
    if (prop === NODE) return node
    assertOpen(node)
    if (prop === 'buffer') return (ensureCopy(node) as Uint8Array).buffer
    return typedMethods[prop] ?? Reflect.get(node.current(), prop)
  },
  set(node, prop, value) {
    assertOpen(node)
    if (typeof prop === 'symbol' || !isArrayIndex(prop)) refuse(node, prop, 'typed arrays')
    const index = Number(prop)
    if (index >= (node.current() as Uint8Array).length) return true // as the built-in: out of range is ignored
    ;(ensureCopy(node) as unknown as Record<number, unknown>)[index] = value
    return true
  },
  defineProperty: (node, prop) => refuse(node, prop, 'typed arrays'),
  has: (node, prop) => prop !== NODE && Reflect.has(node.current(), prop),
  ownKeys: (node) => Reflect.ownKeys(node.current()),
  getOwnPropertyDescriptor: (node, prop) => Reflect.getOwnPropertyDescriptor(node.current(), prop),
}
