import { describe, expect, test } from 'vitest'
import { replayCommandFor } from '../../sim/summary.ts'
import { knownBugs, regressions } from '../../sim/regressions.ts'
import { runSeed } from '../../sim/run.ts'
import { SweepSummary } from '../../sim/summary.ts'

/** Seeds per sweep test, and sweep tests: 600 seeds of the default profile in `npm test` (about 25 s on one core). */
const seedsPerTest = 100
const sweeps = 6

async function sweep(from: number, count: number, profile: string): Promise<SweepSummary> {
  const summary = new SweepSummary()
  for (let seed = from; seed < from + count; seed++) summary.add(await runSeed({ seed, profile }))
  return summary
}

function failures(summary: SweepSummary, profile: string): string[] {
  return summary.failing.map((f) => `seed ${f.seed}: ${f.violations.map((v) => `[${v.invariant}] ${v.message}`).join('; ')}\n  replay: ${replayCommandFor(f.seed, profile)}`)
}

describe('whole-cluster simulation', () => {
  for (let i = 0; i < sweeps; i++) {
    const from = 1 + i * seedsPerTest
    test(`seeds ${from}..${from + seedsPerTest - 1} of the ci profile keep every invariant`, async () => {
      const summary = await sweep(from, seedsPerTest, 'ci')
      expect(failures(summary, 'ci')).toEqual([])
      expect(summary.operations).toBeGreaterThan(seedsPerTest * 50)
      expect(summary.byStatus.info).toBeGreaterThan(0) // the faults did bite
    })
  }

  test('seeds 1..40 of the crash profile (crashes with and without disk, within the fault budget) keep every invariant', async () => {
    const summary = await sweep(1, 40, 'crash')
    expect(failures(summary, 'crash')).toEqual([])
    expect(summary.faults.get('crash-without-disk') ?? 0).toBeGreaterThan(40)
  })

  test('without faults every operation succeeds and every invariant holds', async () => {
    const summary = await sweep(1, 20, 'none')
    expect(failures(summary, 'none')).toEqual([])
    expect(summary.byStatus.fail + summary.byStatus.info).toBe(0)
  })

  test('the ci profile injects every kind of fault it allows', async () => {
    const summary = await sweep(1, 40, 'ci')
    for (const kind of ['partition', 'one-way-partition', 'pause', 'slow-disk', 'crash', 'crash-without-disk', 'duplicated', 'dropped', 'delayed', 'corrupt-reads']) {
      expect(summary.faults.get(kind) ?? 0, kind).toBeGreaterThan(0)
    }
  })
})

describe('regression seeds', () => {
  for (const r of regressions) {
    test(`${r.name} (seed ${r.seed}, ${r.profile})`, async () => {
      const result = await runSeed({ seed: r.seed, profile: r.profile })
      const found = [...new Set(result.violations.map((v) => v.invariant))]
      // Violations of known, unfixed runtime bugs (knownBugs) do not fail a clean regression.
      if (r.expect === 'clean') expect(result.violations.filter((v) => knownBugs[v.invariant] === undefined).map((v) => v.message)).toEqual([])
      else expect(found.sort(), `${r.note}\n  replay: ${replayCommandFor(r.seed, r.profile)}`).toEqual([...r.expect].sort())
    })
  }
})
