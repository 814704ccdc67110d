import { actorBaseMark, actorTypeOf, isActorClass, readOnlyMark, reentrantMark, type Actor } from '../actors/actor.ts'
import type { ActorClass } from '../actors/ref.ts'
import { TroupeError } from './errors.ts'
import { parseConsistency, type Consistency } from './durability/consistency.ts'

/** How a message may be scheduled against other turns of the same activation. */
export type MethodMode = 'write' | 'read' | 'reentrant'

export interface MethodEntry {
  readonly name: string
  readonly fn: (...args: unknown[]) => unknown
  readonly mode: MethodMode
}

export interface ActorType {
  readonly name: string
  readonly actorClass: ActorClass<Actor<unknown>>
  readonly methods: ReadonlyMap<string, MethodEntry>
  /** The class's `static consistency`, if it sets one. */
  readonly consistency: Consistency | undefined
  /** Members of the Actor base class an instance must not replace (see `baseMembers`). */
  readonly baseMembers: ReadonlySet<string>
}

const lifecycle = new Set(['constructor', 'initialState', 'onActivate', 'onDeactivate', 'receiveReminder'])

/** The actor classes a host can run, by type name, with their message tables. */
export class ActorRegistry {
  private readonly types = new Map<string, ActorType>()

  /** Registers every actor class exported by a module namespace. */
  static fromModule(namespace: Record<string, unknown>): ActorRegistry {
    const registry = new ActorRegistry()
    for (const value of Object.values(namespace)) {
      if (isActorClass(value)) registry.register(value)
    }
    return registry
  }

  /**
   * Adds one actor class. Refuses, with `InvalidArgument` naming the class and the problem, what
   * would otherwise misbehave later, far from its cause: a bad or duplicate type name, a bad
   * `static consistency`, or `static readOnly` / `reentrant` lists that are not arrays of its
   * method names (a string such as `'get'` would read as the methods g, e and t).
   */
  register(actorClass: ActorClass<Actor<unknown>>): void {
    const className = actorClass.name || '(anonymous class)'
    const declaredType = (actorClass as unknown as { actorType?: unknown }).actorType
    if (Object.hasOwn(actorClass, 'actorType') && typeof declaredType !== 'string') {
      throw new TroupeError('InvalidArgument', `${className}.actorType must be a string, got ${describe(declaredType)}`)
    }
    const name = actorTypeOf(actorClass)
    if (name.length === 0 || name.includes('/')) throw new TroupeError('InvalidArgument', `actor type ${JSON.stringify(name)} (class ${className}) must be non-empty and contain no '/'`)
    const existing = this.types.get(name)
    if (existing && existing.actorClass !== actorClass) {
      throw new TroupeError('InvalidArgument', `two actor classes are named ${name} (classes ${existing.actorClass.name || '(anonymous class)'} and ${className}); give one a different static actorType`)
    }
    const declared = (actorClass as unknown as { consistency?: unknown }).consistency
    const consistency = declared === undefined ? undefined : parseConsistency(declared, `${name}.consistency`)
    this.types.set(name, { name, actorClass, methods: methodTable(actorClass, name), consistency, baseMembers: baseMembers(actorClass) })
  }

  get(type: string): ActorType | undefined {
    return this.types.get(type)
  }

  names(): string[] {
    return [...this.types.keys()]
  }
}

/** Public methods from the class up to (not including) the `Actor` base, most derived first. */
function methodTable(actorClass: ActorClass<Actor<unknown>>, type: string): Map<string, MethodEntry> {
  const statics = actorClass as unknown as { reentrant?: unknown; readOnly?: unknown }
  const reentrantNames = nameList(statics.reentrant, `${type}.reentrant`)
  const readOnlyNames = nameList(statics.readOnly, `${type}.readOnly`)
  const table = new Map<string, MethodEntry>()
  const reserved = baseMembers(actorClass)
  let proto: object | null = actorClass.prototype as object
  while (proto && !Object.hasOwn((proto as { constructor: object }).constructor, actorBaseMark)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      // A method or accessor named like a member of Actor replaces it (`this.id`, `this.actor`, ...
      // stop working) and would be served as a message: refused before anything runs.
      if (reserved.has(name)) throw new TroupeError('InvalidArgument', `${type}.${name} replaces the Actor base class's own ${name} (troupe uses it): give it another name`)
      if (table.has(name) || lifecycle.has(name) || name.startsWith('_')) continue
      const descriptor = Object.getOwnPropertyDescriptor(proto, name)
      if (!descriptor || typeof descriptor.value !== 'function') continue
      const fn = descriptor.value as ((...args: unknown[]) => unknown) & Record<symbol, unknown>
      const mode: MethodMode = fn[reentrantMark] || reentrantNames.has(name) ? 'reentrant'
        : fn[readOnlyMark] || readOnlyNames.has(name) ? 'read' : 'write'
      table.set(name, { name, fn, mode })
    }
    proto = Object.getPrototypeOf(proto) as object | null
  }
  // A listed name that is no message (a typo, a getter, a lifecycle hook) would be ignored
  // silently, and the method it meant would run as a write.
  for (const [names, where] of [[reentrantNames, 'reentrant'], [readOnlyNames, 'readOnly']] as const) {
    for (const name of names) {
      if (!table.has(name)) throw new TroupeError('InvalidArgument', `${type}.${where} names ${JSON.stringify(name)}, which is not a public method of ${type} (methods: ${[...table.keys()].join(', ') || 'none'})`)
    }
  }
  return table
}

/** The members of the Actor base class a subclass must not replace: its methods and accessors (but `initialState`), and `state`. */
function baseMembers(actorClass: ActorClass<Actor<unknown>>): Set<string> {
  let proto: object | null = actorClass.prototype as object
  while (proto && !Object.hasOwn((proto as { constructor: object }).constructor, actorBaseMark)) proto = Object.getPrototypeOf(proto) as object | null
  const names = new Set(proto ? Object.getOwnPropertyNames(proto) : [])
  for (const name of lifecycle) names.delete(name)
  names.add('state')
  return names
}

/** A `static readOnly` / `reentrant` list: absent, or an array of method names. */
function nameList(value: unknown, where: string): Set<string> {
  if (value === undefined) return new Set()
  if (!Array.isArray(value)) throw new TroupeError('InvalidArgument', `${where} must be an array of method names (e.g. ['get']), got ${describe(value)}`)
  for (const name of value) {
    if (typeof name !== 'string' || name.length === 0) throw new TroupeError('InvalidArgument', `${where} must hold method names, got ${describe(name)}`)
  }
  return new Set(value as string[])
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value
}
