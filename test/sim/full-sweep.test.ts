/**
 * The simulation's hardest profiles in `npm test`: 1,000 seeds of `full` (every fault, with bank
 * transfers, view changes, retries and full disks) and 200 of `failover`, all expected clean.
 * Deterministic: a failing seed fails the same way on every machine; its replay command is in the
 * failure message. About 40 s on one core (this file runs beside the others).
 */
import { describe, expect, test } from 'vitest'
import { runSeed } from '../../sim/run.ts'
import { replayCommandFor, SweepSummary } from '../../sim/summary.ts'

async function sweep(from: number, count: number, profile: string): Promise<{ summary: SweepSummary; failures: string[] }> {
  const summary = new SweepSummary()
  for (let seed = from; seed < from + count; seed++) summary.add(await runSeed({ seed, profile }))
  const failures = summary.failing.map((f) => `seed ${f.seed}: ${f.violations.map((v) => `[${v.invariant}] ${v.message}`).join('; ')}\n  replay: ${replayCommandFor(f.seed, profile)}`)
  return { summary, failures }
}

describe('the full profile: crashes with and without disk, partitions, pauses, view changes, full disks, transfers', () => {
  const perTest = 100
  for (let from = 1; from <= 1000; from += perTest) {
    test(`seeds ${from}..${from + perTest - 1} keep every invariant (no acknowledged write lost, no double effect, money conserved)`, async () => {
      const { summary, failures } = await sweep(from, perTest, 'full')
      expect(failures).toEqual([])
      expect(summary.byStatus.info).toBeGreaterThan(0) // the faults did bite
      expect(summary.faults.get('view-changes') ?? 0).toBeGreaterThan(0)
    })
  }
})

describe('the failover profile: crashes and hangs with a supervisor that changes views', () => {
  test('seeds 1..200 keep every invariant', async () => {
    const { summary, failures } = await sweep(1, 200, 'failover')
    expect(failures).toEqual([])
    expect(summary.faults.get('view-changes') ?? 0).toBeGreaterThan(200)
  })
})
