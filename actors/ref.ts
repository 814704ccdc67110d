import { TroupeError } from '../runtime/errors.ts'
import type { Actor } from './actor.ts'

/** A class that extends `Actor`, as passed to `cluster.actor(Class, id)`. */
export interface ActorClass<T> {
  new (): T
  readonly name: string
  actorType?: string
}

/** The names of an actor's messages: its public methods, minus those of the `Actor` base. */
export type ActorMethodName<T> = {
  [K in keyof T]: K extends keyof Actor<unknown> | 'onActivate' | 'onDeactivate'
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

const refHandler: ProxyHandler<{ key: string; call: CallFn; methods: Map<string, (...args: unknown[]) => Promise<unknown>> }> = {
  get(target, property) {
    if (typeof property !== 'string') return undefined
    // A proxy is not a thenable: `await ref` must not try to call `ref.then`.
    if (property === 'then') return undefined
    let method = target.methods.get(property)
    if (!method) {
      const { key, call } = target
      method = (...args: unknown[]) => call(key, property, args)
      target.methods.set(property, method)
    }
    return method
  },
}

/** Builds the typed proxy for `Type/id`; method functions are created once per name. */
export function createRef<T>(key: string, call: CallFn): ActorRef<T> {
  return new Proxy({ key, call, methods: new Map() }, refHandler) as unknown as ActorRef<T>
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
  return key
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value
}
