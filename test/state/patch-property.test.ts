import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { applyPatch, beginTurn } from '../../runtime/state/index.ts'
import { program, reaches, run, stateRoot, type Action } from './support/programs.ts'
import { strictDiff, treeClone } from './support/strict-diff.ts'

/** Runs `actions` on a plain copy of `state`: the ordinary-JavaScript answer, plus which aliasings it allowed. */
function model(state: unknown, actions: readonly Action[]): { result: unknown; aliasAllowed: boolean[] } {
  let root = treeClone(state)
  const aliasAllowed: boolean[] = []
  run(actions, {
    root: () => root,
    replace: (next) => { root = next },
    mayAlias: (index, source, target) => (aliasAllowed[index] = !reaches(source, target)),
  })
  return { result: root, aliasAllowed }
}

function tracked(state: unknown, actions: readonly Action[], aliasAllowed: readonly boolean[]) {
  const turn = beginTurn(state)
  run(actions, {
    root: () => turn.draft,
    replace: (next) => turn.replace(next),
    mayAlias: (index) => aliasAllowed[index] === true,
  })
  return turn
}

const runs = { numRuns: 600 }

describe('patch property', () => {
  test("applying commit()'s patch to a clone of the old state gives exactly the state after the turn", () => {
    fc.assert(fc.property(stateRoot, program, (state, actions) => {
      const pristine = structuredClone(state)
      const { result, aliasAllowed } = model(state, actions)
      const turn = tracked(state, actions, aliasAllowed)
      const patch = turn.commit()
      expect(strictDiff(state, pristine)).toBeUndefined() // the old state is untouched
      expect(strictDiff(turn.state, result)).toBeUndefined() // the draft behaved like plain JavaScript
      if (patch === undefined) {
        expect(turn.state).toBe(state)
      } else {
        expect(patch.length).toBeGreaterThan(0)
        expect(strictDiff(applyPatch(structuredClone(pristine), patch), result)).toBeUndefined()
        // as a journal would hold it: the patch cloned too
        expect(strictDiff(applyPatch(structuredClone(pristine), structuredClone(patch)), result)).toBeUndefined()
      }
    }), runs)
  })

  test('a rolled-back turn leaves the state exactly as it was, whatever it did', () => {
    fc.assert(fc.property(stateRoot, program, (state, actions) => {
      const pristine = structuredClone(state)
      const { aliasAllowed } = model(state, actions)
      const turn = tracked(state, actions, aliasAllowed)
      turn.rollback()
      expect(turn.state).toBe(state)
      expect(strictDiff(state, pristine)).toBeUndefined()
    }), runs)
  })

  test('patches of consecutive turns replay to the final state', () => {
    fc.assert(fc.property(stateRoot, fc.array(program, { minLength: 2, maxLength: 4 }), (state, turns) => {
      const start = structuredClone(state)
      let current: unknown = state
      let replayed: unknown = structuredClone(start)
      for (const actions of turns) {
        const { result, aliasAllowed } = model(current, actions)
        const turn = tracked(current, actions, aliasAllowed)
        const patch = turn.commit()
        expect(strictDiff(turn.state, result)).toBeUndefined()
        current = turn.state
        if (patch !== undefined) replayed = applyPatch(replayed, structuredClone(patch))
        expect(strictDiff(replayed, current)).toBeUndefined()
      }
    }), { numRuns: 300 })
  })
})
