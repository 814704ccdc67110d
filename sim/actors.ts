import { Actor, actorContext } from '../actors/actor.ts'
import { Account } from '../actors/examples/account.ts'
import { Counter } from '../actors/examples/counter.ts'
import type { ActorClass } from '../actors/ref.ts'
import { sameValue } from './checker/models.ts'

/** A read/write/compare-and-set register: the smallest actor a linearizability checker can judge. */
export class Register extends Actor<{ value: unknown }> {
  static override readOnly = ['read']

  initialState(): { value: unknown } {
    return { value: null }
  }

  /** Sets the value. */
  write(value: unknown): void {
    this.state.value = value
  }

  /** The value. */
  read(): unknown {
    return this.state.value
  }

  /** Sets the value to `to` if it is `from` now; true when it swapped. */
  cas(from: unknown, to: unknown): boolean {
    if (!sameValue(this.state.value, from)) return false
    this.state.value = to
    return true
  }
}

/** A turn that ran on some host, as the simulation's actors report it (tag: the operation's id). */
export interface SimEffect {
  readonly tag: string
  readonly key: string
  readonly method: string
  readonly host: string
}

/** Where the simulation's actors report the turns they run. */
export type EffectSink = (effect: SimEffect) => void

/** The state every simulation actor adds to its own: the tags of the operations applied to it, oldest first. */
interface Tagged {
  tags?: string[]
}

/**
 * The actor classes one world runs: the real Counter, Register and Account, each subclassed so a
 * state-changing method takes one extra trailing argument — the workload's operation tag. A turn
 * that changes state appends its tag to the state itself (`tags`, read back by the read-only
 * `tags()`), so the tags are journaled, replicated and lost exactly as the change they stand for:
 * the final state tells which operations took effect, and how often (exactly-once, lost writes,
 * failed-means-no-effect). Each run of a turn is also reported to `sink` (a turn may run and then
 * be lost with its host, so runs are only for named scenarios, not for the checkers).
 */
export function simActorClasses(sink: EffectSink): ActorClass<Actor<unknown>>[] {
  const applied = (actor: Actor<unknown>, method: string, tag: unknown): void => {
    if (typeof tag !== 'string') return
    const state = actor.state as Tagged
    if (state.tags === undefined) state.tags = [tag]
    else state.tags.push(tag)
    sink({ tag, key: actor.key, method, host: actor.hostId })
  }
  const tagsOf = (actor: Actor<unknown>): string[] => [...((actor.state as Tagged).tags ?? [])]

  class SimCounter extends Counter {
    static override actorType = 'Counter'
    static override readOnly = ['tags']
    override increment(by = 1, tag?: string): number {
      const count = super.increment(by)
      applied(this, 'increment', tag)
      return count
    }
    tags(): string[] {
      return tagsOf(this)
    }
  }

  class SimRegister extends Register {
    static override actorType = 'Register'
    static override readOnly = ['read', 'tags']
    override write(value: unknown, tag?: string): void {
      super.write(value)
      applied(this, 'write', tag)
    }
    override cas(from: unknown, to: unknown, tag?: string): boolean {
      const swapped = super.cas(from, to)
      if (swapped) applied(this, 'cas', tag)
      return swapped
    }
    tags(): string[] {
      return tagsOf(this)
    }
  }

  class SimAccount extends Account {
    static override actorType = 'Account'
    static override readOnly = ['tags']
    override deposit(amount: number, tag?: string): number {
      const balance = super.deposit(amount)
      applied(this, 'deposit', tag)
      return balance
    }
    override withdraw(amount: number, tag?: string): number {
      const balance = super.withdraw(amount)
      applied(this, 'withdraw', tag)
      return balance
    }
    /** As Account.transfer, but the deposit carries a tag of its own (`<tag>>deposit`) on the receiving account. */
    override async transfer(to: string, amount: number, tag?: string): Promise<number> {
      super.withdraw(amount)
      await this[actorContext].call(`Account/${to}`, 'deposit', tag === undefined ? [amount] : [amount, `${tag}>deposit`])
      applied(this, 'transfer', tag)
      return this.state.balance
    }
    tags(): string[] {
      return tagsOf(this)
    }
  }

  return [SimCounter, SimRegister, SimAccount] as unknown as ActorClass<Actor<unknown>>[]
}
