import { dateHandler, typedHandler } from './draft-scalars.ts'
import { mapHandler, setHandler } from './draft-collections.ts'
import {
  assertOpen, checkArrayKey, checkObjectKey, checkWrite, DraftNode, ensureCopy, markDirty, markRemoved, NODE,
  nodeOf, writeError, type SlotKey, type TurnScope,
} from './node.ts'
import { isArrayIndex, kindOf } from './values.ts'

type Rec = Record<PropertyKey, unknown>
type ArrayTarget = unknown[] & { [NODE]: DraftNode }

/** The proxy for a node: the node itself is the target, except for arrays (so `Array.isArray` holds). */
function makeProxy(node: DraftNode): object {
  switch (node.kind) {
    case 'object': return new Proxy(node, objectHandler)
    case 'array': {
      const target = [] as unknown as ArrayTarget
      target[NODE] = node
      return new Proxy(target, arrayHandler)
    }
    case 'map': return new Proxy(node, mapHandler)
    case 'set': return new Proxy(node, setHandler)
    case 'date': return new Proxy(node, dateHandler)
    case 'typed': return new Proxy(node, typedHandler)
  }
}

/** The draft of the root of a turn's state, or `undefined` when the state is not a container. */
export function rootNode(scope: TurnScope, value: unknown, fromBase: boolean): DraftNode | undefined {
  const kind = kindOf(value)
  if (kind === undefined || kind === 'primitive') return undefined
  return new DraftNode(scope, kind, value as object, undefined, undefined, fromBase, makeProxy)
}

/** The draft of the object found in `parent`'s slot `key`: one per slot and object, made on first read. */
export function childDraft(parent: DraftNode, key: SlotKey, value: object): object {
  const known = parent.children?.get(key)
  if (known !== undefined && known.base === value) return known.proxy
  const kind = kindOf(value)
  if (kind === undefined || kind === 'primitive') return value // refused at commit; never drafted
  const inBase = parent.kind === 'map'
    ? (parent.base as Map<unknown, unknown>).get(key) === value
    : (parent.base as Rec)[key] === value
  // A value new this turn is itself: its slot is written already, so commit copies it whole, with
  // what it holds then. A draft of it would be one per slot, and an object put in two places
  // (`s.a = o; s.b = o`) would split within the turn.
  if (!(parent.fromBase && inBase)) return value
  const node = new DraftNode(parent.scope, kind, value, parent, key, true, makeProxy)
  ;(parent.children ?? (parent.children = new Map())).set(key, node)
  return node.proxy
}

/** A slot's value as a reader sees it: objects come back as drafts. */
function readSlot(node: DraftNode, prop: string | symbol): unknown {
  const value = (node.current() as Rec)[prop]
  if (typeof value !== 'object' || value === null || typeof prop === 'symbol' || prop === '__proto__') return value
  if (nodeOf(value) !== undefined) return value
  return childDraft(node, node.kind === 'array' ? Number(prop) : prop, value)
}

function objectSet(node: DraftNode, prop: string | symbol, value: unknown): boolean {
  assertOpen(node)
  checkObjectKey(node, prop)
  checkWrite(node, prop, value)
  const current = node.current() as Rec
  if (Object.is(current[prop], value) && (value !== undefined || Object.hasOwn(current, prop))) return true
  ;(ensureCopy(node) as Rec)[prop] = value
  markDirty(node, prop)
  return true
}

function accessorRefused(node: DraftNode, prop: string | symbol, desc: PropertyDescriptor): void {
  if ('get' in desc || 'set' in desc) throw writeError(node, String(prop), 'an accessor property')
}

/** Plain objects: writes go to a shallow copy; deletes and re-adds keep key order as the copy has it. */
const objectHandler: ProxyHandler<DraftNode> = {
  get(node, prop) {
    if (prop === NODE) return node
    assertOpen(node)
    return readSlot(node, prop)
  },
  set: (node, prop, value) => objectSet(node, prop, value),
  deleteProperty(node, prop) {
    assertOpen(node)
    if (typeof prop === 'symbol' || !Object.hasOwn(node.current(), prop)) return true
    delete (ensureCopy(node) as Rec)[prop]
    markRemoved(node, prop, Object.hasOwn(node.base, prop))
    return true
  },
  has: (node, prop) => prop !== NODE && Reflect.has(node.current(), prop),
  ownKeys: (node) => Reflect.ownKeys(node.current()),
  getOwnPropertyDescriptor(node, prop) {
    const desc = Reflect.getOwnPropertyDescriptor(node.current(), prop)
    if (desc === undefined) return undefined
    return { value: readSlot(node, prop), writable: true, enumerable: desc.enumerable ?? true, configurable: true }
  },
  defineProperty(node, prop, desc) {
    accessorRefused(node, prop, desc)
    if (!('value' in desc)) return Reflect.has(node.current(), prop)
    return objectSet(node, prop, desc.value)
  },
  getPrototypeOf: (node) => Object.getPrototypeOf(node.base) as object | null,
  setPrototypeOf: () => false,
  preventExtensions: () => false,
}

function arraySet(node: DraftNode, prop: string | symbol, value: unknown): boolean {
  assertOpen(node)
  checkArrayKey(node, prop)
  const current = node.current() as unknown[]
  if (prop === 'length') {
    if (current.length === value) return true
    const copy = ensureCopy(node) as unknown[]
    copy.length = value as number
    node.low = Math.min(node.low, copy.length)
    return true
  }
  const index = Number(prop)
  checkWrite(node, index, value)
  if (Object.is(current[index], value) && (value !== undefined || index in current)) return true
  ;(ensureCopy(node) as unknown[])[index] = value
  node.low = Math.min(node.low, index)
  return true
}

/** Arrays: index writes, `length`, holes; array methods run unchanged through these traps. */
const arrayHandler: ProxyHandler<ArrayTarget> = {
  get(target, prop) {
    const node = target[NODE]
    if (prop === NODE) return node
    assertOpen(node)
    return readSlot(node, prop)
  },
  set: (target, prop, value) => arraySet(target[NODE], prop, value),
  deleteProperty(target, prop) {
    const node = target[NODE]
    assertOpen(node)
    if (prop === 'length') return false
    if (typeof prop === 'symbol' || !isArrayIndex(prop) || !Object.hasOwn(node.current(), prop)) return true
    const index = Number(prop)
    delete (ensureCopy(node) as unknown[])[index]
    node.low = Math.min(node.low, index)
    return true
  },
  has: (target, prop) => prop !== NODE && Reflect.has(target[NODE].current(), prop),
  ownKeys: (target) => Reflect.ownKeys(target[NODE].current()),
  getOwnPropertyDescriptor(target, prop) {
    const node = target[NODE]
    const current = node.current() as unknown[]
    if (prop === 'length') return { value: current.length, writable: true, enumerable: false, configurable: false }
    if (typeof prop === 'symbol' || !Object.hasOwn(current, prop)) return undefined
    return { value: readSlot(node, prop), writable: true, enumerable: true, configurable: true }
  },
  defineProperty(target, prop, desc) {
    accessorRefused(target[NODE], prop, desc)
    if (!('value' in desc)) return Reflect.has(target[NODE].current(), prop)
    return arraySet(target[NODE], prop, desc.value)
  },
  getPrototypeOf: () => Array.prototype,
  setPrototypeOf: () => false,
  preventExtensions: () => false,
}
