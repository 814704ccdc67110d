import { Actor } from '../actors/actor.ts'
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

/** A turn that changed an actor's state, as the simulation's actors report it (tag: the operation's id). */
export interface SimEffect {
  readonly tag: string
  readonly key: string
  readonly method: string
  readonly host: string
}

/** Where the simulation's actors report their effects. */
export type EffectSink = (effect: SimEffect) => void

/**
 * The actor classes one world runs: the real Counter, Register and Account, each subclassed so a
 * state-changing method takes one extra trailing argument — the workload's operation tag — and
 * reports the effect when the turn succeeds. That stands in for a runtime "turn applied
 * (requestId)" hook until one exists; the exactly-once checker reads these effects.
 */
export function simActorClasses(sink: EffectSink): ActorClass<Actor<unknown>>[] {
  const report = (actor: Actor<unknown>, method: string, tag: unknown): void => {
    if (typeof tag === 'string') sink({ tag, key: actor.key, method, host: actor.hostId })
  }

  class SimCounter extends Counter {
    static override actorType = 'Counter'
    override increment(by = 1, tag?: string): number {
      const count = super.increment(by)
      report(this, 'increment', tag)
      return count
    }
  }

  class SimRegister extends Register {
    static override actorType = 'Register'
    override write(value: unknown, tag?: string): void {
      super.write(value)
      report(this, 'write', tag)
    }
    override cas(from: unknown, to: unknown, tag?: string): boolean {
      const swapped = super.cas(from, to)
      if (swapped) report(this, 'cas', tag)
      return swapped
    }
  }

  class SimAccount extends Account {
    static override actorType = 'Account'
    override deposit(amount: number, tag?: string): number {
      const balance = super.deposit(amount)
      report(this, 'deposit', tag)
      return balance
    }
    override withdraw(amount: number, tag?: string): number {
      const balance = super.withdraw(amount)
      report(this, 'withdraw', tag)
      return balance
    }
    override async transfer(to: string, amount: number, tag?: string): Promise<number> {
      const balance = await super.transfer(to, amount)
      report(this, 'transfer', tag)
      return balance
    }
  }

  return [SimCounter, SimRegister, SimAccount] as unknown as ActorClass<Actor<unknown>>[]
}
