import { childDraft } from './draft.ts'
import { assertOpen, checkWrite, DraftNode, ensureCopy, markDirty, markRemoved, NODE, nodeOf, writeError } from './node.ts'
import { describeValue, isMapKey, isSetMember } from './values.ts'

type AnyMap = Map<unknown, unknown>
type AnySet = Set<unknown>

/** The node behind a method's `this`; like the built-ins, a method called on anything else throws. */
function self(receiver: unknown): DraftNode {
  const node = nodeOf(receiver)
  if (node === undefined) throw new TypeError('Map/Set draft method called on an incompatible receiver')
  assertOpen(node)
  return node
}

function mapRead(node: DraftNode, key: unknown): unknown {
  const value = (node.current() as AnyMap).get(key)
  if (typeof value !== 'object' || value === null || nodeOf(value) !== undefined) return value
  return childDraft(node, key as string | number, value)
}

/** Keys as they were when iteration began; entries deleted since are skipped, values read as they are now. */
function* mapEntries(node: DraftNode): Generator<[unknown, unknown]> {
  for (const key of [...(node.current() as AnyMap).keys()]) {
    assertOpen(node)
    if ((node.current() as AnyMap).has(key)) yield [key, mapRead(node, key)]
  }
}

function* project<T, U>(items: Iterable<T>, pick: (item: T) => U): Generator<U> {
  for (const item of items) yield pick(item)
}

const mapMethods: Record<PropertyKey, unknown> = {
  __proto__: null,
  get(this: unknown, key: unknown) { return mapRead(self(this), key) },
  has(this: unknown, key: unknown) { return (self(this).current() as AnyMap).has(key) },
  set(this: unknown, key: unknown, value: unknown) {
    const node = self(this)
    if (!isMapKey(key)) throw writeError(node, undefined, `given a Map key that is ${describeValue(key)} (Map keys must be strings or numbers)`)
    checkWrite(node, key, value)
    const current = node.current() as AnyMap
    if (current.has(key) && Object.is(current.get(key), value)) return this
    ;(ensureCopy(node) as AnyMap).set(key, value)
    markDirty(node, key)
    return this
  },
  delete(this: unknown, key: unknown) {
    const node = self(this)
    if (!(node.current() as AnyMap).has(key)) return false
    ;(ensureCopy(node) as AnyMap).delete(key)
    markRemoved(node, key, (node.base as AnyMap).has(key))
    return true
  },
  clear(this: unknown) { clear(self(this)) },
  forEach(this: unknown, callback: (value: unknown, key: unknown, map: unknown) => void, thisArg?: unknown) {
    for (const [key, value] of mapEntries(self(this))) callback.call(thisArg, value, key, this)
  },
  entries(this: unknown) { return mapEntries(self(this)) },
  keys(this: unknown) { return project(mapEntries(self(this)), ([key]) => key) },
  values(this: unknown) { return project(mapEntries(self(this)), ([, value]) => value) },
  [Symbol.iterator](this: unknown) { return mapEntries(self(this)) },
}

function clear(node: DraftNode): void {
  if ((node.current() as AnyMap | AnySet).size === 0) return
  ;(ensureCopy(node) as AnyMap | AnySet).clear()
  node.cleared = true
  node.dirty = undefined
  node.removed = undefined
}

function* setMembers(node: DraftNode): Generator<unknown> {
  for (const member of [...(node.current() as AnySet)]) {
    assertOpen(node)
    if ((node.current() as AnySet).has(member)) yield member
  }
}

const setMethods: Record<PropertyKey, unknown> = {
  __proto__: null,
  has(this: unknown, member: unknown) { return (self(this).current() as AnySet).has(member) },
  add(this: unknown, member: unknown) {
    const node = self(this)
    if (!isSetMember(member)) throw writeError(node, undefined, `given ${describeValue(member)} as a Set member (Set members must be primitives)`)
    if ((node.current() as AnySet).has(member)) return this
    ;(ensureCopy(node) as AnySet).add(member)
    markDirty(node, member)
    return this
  },
  delete(this: unknown, member: unknown) {
    const node = self(this)
    if (!(node.current() as AnySet).has(member)) return false
    ;(ensureCopy(node) as AnySet).delete(member)
    markRemoved(node, member, (node.base as AnySet).has(member))
    return true
  },
  clear(this: unknown) { clear(self(this)) },
  forEach(this: unknown, callback: (value: unknown, key: unknown, set: unknown) => void, thisArg?: unknown) {
    for (const member of setMembers(self(this))) callback.call(thisArg, member, member, this)
  },
  values(this: unknown) { return setMembers(self(this)) },
  keys(this: unknown) { return setMembers(self(this)) },
  entries(this: unknown) { return project(setMembers(self(this)), (member) => [member, member]) },
  [Symbol.iterator](this: unknown) { return setMembers(self(this)) },
}

function collectionHandler(methods: Record<PropertyKey, unknown>, noun: string): ProxyHandler<DraftNode> {
  return {
    get(node, prop) {
      if (prop === NODE) return node
      assertOpen(node)
      if (prop === 'size') return (node.current() as AnyMap | AnySet).size
      const method = methods[prop]
      return method !== undefined ? method : Reflect.get(node.current(), prop)
    },
    set(node, prop) { throw writeError(node, undefined, `given a property ${String(prop)} (${noun}s hold only their entries)`) },
    defineProperty(node, prop) { throw writeError(node, undefined, `given a property ${String(prop)} (${noun}s hold only their entries)`) },
    deleteProperty: () => true,
    has: (node, prop) => prop !== NODE && Reflect.has(node.current(), prop),
    ownKeys: () => [],
    getOwnPropertyDescriptor: () => undefined,
    getPrototypeOf: (node) => Object.getPrototypeOf(node.base) as object | null,
    setPrototypeOf: () => false,
    preventExtensions: () => false,
  }
}

/** Map drafts: `set`/`delete`/`clear` copy the Map once; `get` and iteration hand out drafts of object values. */
export const mapHandler = collectionHandler(mapMethods, 'Map')

/** Set drafts: members are primitives, so only membership is tracked. */
export const setHandler = collectionHandler(setMethods, 'Set')
