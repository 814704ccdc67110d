import type { ActorClass, ActorRef } from './ref.ts'

/** Marks actor classes across module instances and realms (the runtime never uses instanceof). */
export const actorBrand: unique symbol = Symbol.for('troupe.actor') as never
/** Marks the `Actor` base class itself, where the search for user methods stops. */
export const actorBaseMark: unique symbol = Symbol.for('troupe.actor.base') as never
/** Where the runtime keeps an activation's context on its instance. */
export const actorContext: unique symbol = Symbol.for('troupe.actor.context') as never
/** Marks a method as reentrant (set by `@reentrant`). */
export const reentrantMark: unique symbol = Symbol.for('troupe.reentrant') as never
/** Marks a method as read-only (set by `@readOnly`). */
export const readOnlyMark: unique symbol = Symbol.for('troupe.readOnly') as never

/** What the runtime gives an activation: who it is, where it runs, and how it calls others. */
export interface ActorContext {
  readonly type: string
  readonly id: string
  readonly key: string
  readonly hostId: string
  /** Calls another actor as part of the current turn (carries the call chain and derived ids). */
  call(key: string, method: string, args: unknown[]): Promise<unknown>
  /** Builds a typed proxy for another actor, bound to this activation. */
  ref<T>(type: string, id: string, actorClass?: ActorClass<T>): ActorRef<T>
  /** Sets or replaces a durable reminder (inside a write turn). */
  remind(name: string, options: ReminderOptions): void
  /** Removes a durable reminder (inside a write turn). */
  forget(name: string): void
  /** The names of this actor's reminders. */
  reminders(): string[]
  /** Runs `fn` as a turn after `ms`, unless cancelled or the activation ends first. */
  setTimer(fn: () => unknown, ms: number): TimerRef
}

/** When a reminder fires: at a time, every so often, or both (first at `at`, then every `everyMs`). */
export interface ReminderOptions {
  /** A Date or wall-clock ms since the epoch. Default: now + everyMs. */
  at?: Date | number
  /** Fires again this often, in ms; missed ticks coalesce into one. */
  everyMs?: number
}

/** A timer set with `setTimer`. */
export interface TimerRef {
  cancel(): void
}

/**
 * The base class of every actor. Public methods are its messages; `this.state` is its durable
 * state, created by `initialState()` on first activation.
 */
export abstract class Actor<S = Record<string, never>> {
  static readonly [actorBrand] = true
  static readonly [actorBaseMark] = true
  /** The type name callers use (default: the class name). Must not contain '/'. */
  static actorType?: string
  /** Names of methods that may interleave with other turns (same as `@reentrant`). */
  static reentrant?: readonly string[]
  /** Names of methods that do not change state and may run beside other reads (same as `@readOnly`). */
  static readOnly?: readonly string[]
  /** When a call's result may be released: 'memory' | 'local' | 'quorum' | 'strong' (default: the cluster's). */
  static consistency?: 'memory' | 'local' | 'quorum' | 'strong'

  /** The actor's state; survives passivation (and, with a journal, crashes). */
  state!: S
  /** @internal set by the runtime at activation. */
  [actorContext]!: ActorContext

  /** The state of an actor that has never run before. Override it; the default is `{}`. */
  initialState(): S {
    return {} as S
  }

  /** The actor's id (the part after `Type/`). */
  get id(): string {
    return this[actorContext].id
  }

  /** The actor's key, `Type/id`. */
  get key(): string {
    return this[actorContext].key
  }

  /** The host this activation runs on. */
  get hostId(): string {
    return this[actorContext].hostId
  }

  /**
   * Sets (or replaces) a durable reminder: journaled and replicated with the actor, it fires
   * `receiveReminder(name)` as a turn even after a failover or a restart, reactivating the actor.
   * Call it inside a write turn; it takes effect when the turn commits.
   */
  remind(name: string, options: ReminderOptions): void {
    this[actorContext].remind(name, options)
  }

  /** Removes a durable reminder (inside a write turn). */
  forget(name: string): void {
    this[actorContext].forget(name)
  }

  /** The names of this actor's durable reminders. */
  reminderNames(): string[] {
    return this[actorContext].reminders()
  }

  /** Runs `fn` as a turn of this actor after `ms`; in memory only: it dies with the activation. */
  setTimer(fn: () => unknown, ms: number): TimerRef {
    return this[actorContext].setTimer(fn, ms)
  }

  /** A typed proxy to another actor; calls made through it are part of the current turn. */
  actor<T>(actorClass: ActorClass<T>, id: string): ActorRef<T>
  actor<T>(type: string, id: string): ActorRef<T>
  actor<T>(target: ActorClass<T> | string, id: string): ActorRef<T> {
    if (typeof target === 'string') return this[actorContext].ref<T>(target, id)
    return this[actorContext].ref<T>(actorTypeOf(target), id, target)
  }
}

/** Lifecycle hooks an actor may define. */
export interface ActorHooks {
  /** Runs after state is loaded, before the first turn; a throw fails the activation. */
  onActivate?(): void | Promise<void>
  /** Runs before the activation is passivated or its host stops. */
  onDeactivate?(): void | Promise<void>
  /** Runs, as a turn, when a durable reminder set with `remind` comes due. */
  receiveReminder?(name: string): void | Promise<void>
}

const metadataKey: symbol = (Symbol as { metadata?: symbol }).metadata ?? Symbol.for('Symbol.metadata')

/** The type name of an actor class: its own `static actorType`, else the class name. */
export function actorTypeOf(actorClass: { name: string; actorType?: string }): string {
  if (Object.hasOwn(actorClass, 'actorType') && typeof actorClass.actorType === 'string') return actorClass.actorType
  const name = actorClass.name
  // esbuild (and so vite and vitest) lowers a decorated class `X` to `_X`, marked with Symbol.metadata.
  if (name.startsWith('_') && Object.hasOwn(actorClass, metadataKey)) return name.slice(1)
  return name
}

/** True when `value` is a class that extends `Actor` (from any copy of troupe). */
export function isActorClass(value: unknown): value is ActorClass<Actor<unknown>> {
  return typeof value === 'function' && (value as unknown as Record<symbol, unknown>)[actorBrand] === true &&
    !Object.hasOwn(value, actorBaseMark)
}

type MethodDecorator = (method: (...args: never[]) => unknown, context: ClassMethodDecoratorContext) => void

function marker(mark: symbol): MethodDecorator {
  return function mark_(...params: unknown[]): void {
    // Stage-3 decorators pass (method, context); legacy ones pass (prototype, name, descriptor).
    const [first, second, third] = params
    const fn = typeof second === 'object' && second !== null && 'kind' in second
      ? first
      : (third as PropertyDescriptor | undefined)?.value
    if (typeof fn === 'function') (fn as unknown as Record<symbol, boolean>)[mark] = true
  } as MethodDecorator
}

/** Lets a method run while other turns of the same actor are waiting on calls (interleaving). */
export const reentrant: MethodDecorator = marker(reentrantMark)
/** Declares a method read-only: it may run beside other read-only calls, never beside a write. */
export const readOnly: MethodDecorator = marker(readOnlyMark)
