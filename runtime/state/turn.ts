import { assert } from '../assert.ts'
import { rootNode } from './draft.ts'
import { emitOps, Finalizer } from './finalize.ts'
import { nodeOf, type DraftNode, type TurnScope } from './node.ts'
import type { Patch, PatchOp } from './patch.ts'
import { describeValue, kindOf, PathFault, unjournalable } from './values.ts'

/**
 * One turn's view of an actor's state: copy-on-write. The turn reads and writes `draft`; the
 * state it started from is never touched (writes go to shallow copies of the containers they
 * touch, made once per turn), so `rollback()` costs nothing and restores the state exactly.
 * `commit()` assembles the copies into the new state (untouched subtrees are shared with the
 * old one) and returns the patch that takes the old state to it.
 *
 * Committed states are immutable by convention: nothing in troupe mutates one in place (the
 * next turn copies again, `applyPatch` copies too), so states, patches and journal records may
 * share values. A value written into state must not be mutated afterwards through a reference
 * kept outside the state.
 *
 * Aliasing: the same object read twice through the same slot gives the same proxy, and a draft
 * written into a second place (`s.b = s.a`) is the same object in both places for the rest of
 * the turn. A new object written this turn is read back as itself, not drafted (its slot is
 * written, so commit copies it whole): put in two places, it is one object there too. Committed state has value semantics, though: an object reached by two paths gets one
 * draft per path, so a later turn that writes through one path copies it and the other path
 * keeps the old value. State is a tree of values, as a journal replay sees it.
 */
export class StateTurn<S> {
  readonly #scope: TurnScope = { open: true }
  readonly #base: S
  #state: S
  #root: DraftNode | undefined
  #value: unknown
  #replaced = false

  /** Starts a turn on `state`; throws `Unjournalable` when the state root itself cannot be journaled. */
  constructor(state: S) {
    this.#base = state
    this.#state = state
    this.#setRoot(state, true)
  }

  /** The change-tracking view of the state; `replace` swaps in a new one. */
  get draft(): S {
    return (this.#root?.proxy ?? this.#value) as S
  }

  /** The state of record: the original until `commit()`, then the new state (the original again after `rollback()`). */
  get state(): S {
    return this.#state
  }

  /** True until `commit()` or `rollback()`. */
  get open(): boolean {
    return this.#scope.open
  }

  /** Replaces the whole state (`this.state = next`); journaled as one `set` of the root at commit. */
  replace(next: S): void {
    assert(this.#scope.open, 'replace on a turn that already ended')
    this.#replaced = true
    this.#setRoot(next, false)
  }

  /**
   * Ends the turn and makes its changes the state of record. Returns the patch from the old state
   * to the new one, or `undefined` when nothing changed (then `state` is still the very same
   * object). Throws `Unjournalable`, naming the path, when the state holds a value that cannot be
   * journaled; the turn is then rolled back and the state is exactly as before.
   */
  commit(): Patch | undefined {
    assert(this.#scope.open, 'commit on a turn that already ended')
    let next: unknown
    let patch: Patch | undefined
    try {
      ;[next, patch] = this.#finalize(new Finalizer(this.#scope))
    } catch (error) {
      this.rollback()
      throw error instanceof PathFault ? error.toError() : error
    }
    this.#scope.open = false
    this.#state = next as S
    return patch
  }

  /**
   * Ends the turn and discards its changes: `state` is the original again, untouched. Allowed
   * after `commit()` too (the original was never modified), e.g. when the journal append fails.
   */
  rollback(): void {
    this.#scope.open = false
    this.#state = this.#base
  }

  #finalize(finalizer: Finalizer): [unknown, Patch | undefined] {
    if (this.#replaced) {
      const next = finalizer.fresh(this.#root?.proxy ?? this.#value)
      return [next, [{ op: 'set', path: [], value: next }]]
    }
    const root = this.#root
    if (root === undefined || root.copy === undefined) return [this.#base, undefined]
    const next = finalizer.node(root)
    if (next === root.base) return [this.#base, undefined]
    const ops: PatchOp[] = []
    emitOps(root, [], ops)
    return [next, ops]
  }

  #setRoot(value: unknown, fromBase: boolean): void {
    const draft = nodeOf(value)
    if (draft !== undefined) {
      if (draft.scope !== this.#scope) throw unjournalable([], 'a state proxy from another turn')
      this.#root = draft
      return
    }
    if (kindOf(value) === undefined) throw unjournalable([], describeValue(value))
    this.#value = value
    this.#root = rootNode(this.#scope, value, fromBase)
  }
}

/** Starts a turn on `state`: read and write `turn.draft`, then `commit()` or `rollback()`. */
export function beginTurn<S>(state: S): StateTurn<S> {
  return new StateTurn(state)
}

/**
 * Checks that a whole value can be journaled (e.g. an actor's initial state), throwing
 * `Unjournalable` naming the first offending path. Does not modify `value`.
 */
export function assertJournalable(value: unknown): void {
  journalableCopy(value)
}

/**
 * A copy of a whole value that can be journaled (an actor's initial state), as a turn's commit
 * copies a new value: the state shares nothing with what the actor's code keeps (a default object
 * at module level), and holds exactly what its journal and its backups hold. Throws
 * `Unjournalable` naming the first offending path.
 */
export function journalableCopy<T>(value: T): T {
  try {
    return new Finalizer({ open: true }).fresh(value) as T
  } catch (error) {
    throw error instanceof PathFault ? error.toError() : error
  }
}
