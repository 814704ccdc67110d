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

  register(actorClass: ActorClass<Actor<unknown>>): void {
    const name = actorTypeOf(actorClass)
    if (name.length === 0 || name.includes('/')) throw new TroupeError('InvalidArgument', `actor type "${name}" must be non-empty and contain no '/'`)
    const existing = this.types.get(name)
    if (existing && existing.actorClass !== actorClass) throw new TroupeError('InvalidArgument', `two actor classes are named ${name}`)
    const declared = (actorClass as unknown as { consistency?: unknown }).consistency
    const consistency = declared === undefined ? undefined : parseConsistency(declared, `${name}.consistency`)
    this.types.set(name, { name, actorClass, methods: methodTable(actorClass), consistency })
  }

  get(type: string): ActorType | undefined {
    return this.types.get(type)
  }

  names(): string[] {
    return [...this.types.keys()]
  }
}

/** Public methods from the class up to (not including) the `Actor` base, most derived first. */
function methodTable(actorClass: ActorClass<Actor<unknown>>): Map<string, MethodEntry> {
  const statics = actorClass as unknown as { reentrant?: readonly string[]; readOnly?: readonly string[] }
  const reentrantNames = new Set(statics.reentrant ?? [])
  const readOnlyNames = new Set(statics.readOnly ?? [])
  const table = new Map<string, MethodEntry>()
  let proto: object | null = actorClass.prototype as object
  while (proto && !Object.hasOwn((proto as { constructor: object }).constructor, actorBaseMark)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
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
  return table
}
