import { Actor } from '../actor.ts'

/** The smallest useful actor: a number that only grows by what callers add. */
export class Counter extends Actor<{ count: number }> {
  initialState() {
    return { count: 0 }
  }

  /** Adds `by` (default 1) and returns the new count. */
  increment(by = 1): number {
    this.state.count += by
    return this.state.count
  }

  get(): number {
    return this.state.count
  }
}
