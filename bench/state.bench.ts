/**
 * State tracking on the hot path: every actor call runs one turn through the tracker.
 * Baselines in the same run: the same change as a plain object mutation.
 * Run: npx tsx bench/state.bench.ts (figures also printed as one JSON line at the end).
 */
import { bench, do_not_optimize, run, summary } from 'mitata'
import { beginTurn } from '../runtime/state/index.ts'

const fieldCount = 1_000

let counter = { count: 0 }
const plainCounter = { count: 0 }

const wide: Record<string, number> = {}
for (let i = 0; i < fieldCount; i++) wide[`field${i}`] = i
let wideState = wide
const plainWide: Record<string, number> = { ...wide }

const room = { members: new Map<string, { seen: number }>(), log: [] as number[] }
for (let i = 0; i < 100; i++) room.members.set(`m${i}`, { seen: 0 })
let roomState = room

summary(() => {
  bench('counter turn: plain object mutation (baseline)', () => {
    plainCounter.count++
    do_not_optimize(plainCounter)
  })
  bench('counter turn: tracked (begin, increment, commit)', () => {
    const turn = beginTurn(counter)
    turn.draft.count++
    do_not_optimize(turn.commit())
    counter = turn.state
  })
  bench('counter turn: tracked, read only (no patch)', () => {
    const turn = beginTurn(counter)
    do_not_optimize(turn.draft.count)
    do_not_optimize(turn.commit())
  })
})

summary(() => {
  bench(`1 of ${fieldCount} fields: plain object mutation (baseline)`, () => {
    plainWide.field500!++
    do_not_optimize(plainWide)
  })
  bench(`1 of ${fieldCount} fields: tracked`, () => {
    const turn = beginTurn(wideState)
    turn.draft.field500!++
    do_not_optimize(turn.commit())
    wideState = turn.state
  })
})

summary(() => {
  bench('nested Map value update (100 entries): tracked', () => {
    const turn = beginTurn(roomState)
    turn.draft.members.get('m50')!.seen++
    do_not_optimize(turn.commit())
    roomState = turn.state
  })
})

const results = await run()
const figures = results.benchmarks.flatMap((trial) => trial.runs.flatMap((r) => r.stats === undefined ? [] : [{
  name: r.name,
  avgNs: Math.round(r.stats.avg),
  p50Ns: Math.round(r.stats.p50),
  p99Ns: Math.round(r.stats.p99),
}]))
console.log(JSON.stringify({ bench: 'state', runtime: results.context.runtime, figures }))
