import { TroupeError } from '../runtime/errors.ts'
import type { Actor } from './actor.ts'

/** A class that extends `Actor`, as passed to `cluster.actor(Class, id)`. */
export interface ActorClass<T> {
  new (): T
  readonly name: string
  actorType?: string
}

/**
 * The names of an actor's messages: its public methods, minus those of the `Actor` base, `then`
 * (a proxy is no thenable) and `_`-prefixed ones (private by convention). A function-valued field
 * (`f = () => ...`) types as a method too, but only prototype methods are messages.
 */
export type ActorMethodName<T> = {
  [K in keyof T]: K extends keyof Actor<unknown> | 'onActivate' | 'onDeactivate' | 'receiveReminder' | 'then' | `_${string}`
    ? never
    : T[K] extends (...args: never[]) => unknown ? K : never
}[keyof T] & string

/** A typed proxy to an actor: every message returns a promise of its (awaited) result. */
export type ActorRef<T> = {
  readonly [K in ActorMethodName<T>]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never
}

/** Sends one call; what a proxy needs from whoever built it. */
export type CallFn = (key: string, method: string, args: unknown[]) => Promise<unknown>

const keySlot: unique symbol = Symbol('troupe.ref.key') as never
const callSlot: unique symbol = Symbol('troupe.ref.call') as never

interface RefTarget {
  [keySlot]: string
  [callSlot]: CallFn
}

/**
 * Methods not known in advance (a ref built from a type name, or a method the class does not
 * declare) are made on first use by this proxy, which sits at the end of every ref's prototype
 * chain, so the server can answer `UnknownMethod`. A proxy is not a thenable: `then` is undefined.
 */
const fallback: object = new Proxy(Object.create(null) as object, {
  get(_target, property, receiver: RefTarget) {
    if (typeof property !== 'string' || property === 'then') return undefined
    return (...args: unknown[]) => receiver[callSlot](receiver[keySlot], property, args)
  },
})

const classPrototypes = new WeakMap<object, object>()

/** One prototype per actor class with a plain method per message: no proxy trap on the hot path. */
function prototypeFor(methodNames: readonly string[], owner: object): object {
  let proto = classPrototypes.get(owner)
  if (!proto) {
    proto = Object.create(fallback) as object
    for (const name of methodNames) {
      Object.defineProperty(proto, name, {
        value(this: RefTarget, ...args: unknown[]) {
          return this[callSlot](this[keySlot], name, args)
        },
      })
    }
    classPrototypes.set(owner, proto)
  }
  return proto
}

/** Builds the typed proxy for `Type/id`; with the actor class, its methods are plain functions. */
export function createRef<T>(key: string, call: CallFn, actorClass?: { prototype: object }): ActorRef<T> {
  const proto = actorClass ? prototypeFor(publicMethodNames(actorClass.prototype), actorClass) : fallback
  const ref = Object.create(proto) as RefTarget
  ref[keySlot] = key
  ref[callSlot] = call
  return ref as unknown as ActorRef<T>
}

/** Function-valued properties from a class prototype up to (not including) Object.prototype. */
function publicMethodNames(prototype: object): string[] {
  const names = new Set<string>()
  for (let proto: object | null = prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || name === 'then') continue
      if (typeof Object.getOwnPropertyDescriptor(proto, name)?.value === 'function') names.add(name)
    }
  }
  return [...names]
}

/** Longest actor key accepted (`Type/id`), matching the wire limit. */
export const actorKeyLengthMax = 1024

/** Checks an actor type and id and joins them into a key, or throws `InvalidArgument`. */
export function actorKey(type: unknown, id: unknown): string {
  if (typeof type !== 'string' || type.length === 0 || type.includes('/')) {
    throw new TroupeError('InvalidArgument', `actor type must be a non-empty string without '/', got ${describe(type)}`)
  }
  if (typeof id !== 'string' || id.length === 0) {
    throw new TroupeError('InvalidArgument', `actor id must be a non-empty string, got ${describe(id)}`)
  }
  const key = `${type}/${id}`
  if (key.length > actorKeyLengthMax) throw new TroupeError('InvalidArgument', `actor key is longer than ${actorKeyLengthMax} characters`)
  // A journal stores keys as UTF-8, which cannot hold a lone surrogate (the key would come back changed).
  if (loneSurrogate.test(key)) throw new TroupeError('InvalidArgument', 'actor type and id must be well-formed Unicode (no lone surrogate)')
  return key
}

const loneSurrogate = /\p{Cs}/u

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value
}
