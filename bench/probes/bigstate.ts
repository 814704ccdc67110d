// Probe: the cost of one write turn into a large collection in state, a plain object against a Map, by size (copy-on-write copies the container once per turn). Run: npx tsx bench/probes/bigstate.ts
import { beginTurn } from '../../runtime/state/index.ts'

const turns = 500
for (const n of [100, 1_000, 10_000]) {
  const row: string[] = [`${n} entries:`]
  for (const kind of ['object', 'Map'] as const) {
    const entries = Array.from({ length: n }, (_, i) => [`k${i}`, i] as const)
    let state: { seen: Record<string, number> | Map<string, number> } = { seen: kind === 'object' ? Object.fromEntries(entries) : new Map(entries) }
    const started = performance.now()
    for (let i = 0; i < turns; i++) {
      const turn = beginTurn(state)
      const seen = turn.draft.seen
      // Overwrite an existing entry: the collection keeps its size.
      if (seen instanceof Map) seen.set(`k${i % n}`, -i)
      else seen[`k${i % n}`] = -i
      turn.commit()
      state = turn.state
    }
    row.push(`${kind} ${((performance.now() - started) / turns * 1000).toFixed(0)} µs/turn`)
  }
  console.log(row.join('  '))
}
