import type { SimViolation } from './check.ts'
import { knownBugs } from './regressions.ts'
import type { RunResult } from './run.ts'

/** Totals over many seeds, for the command's summary and the tests. */
export class SweepSummary {
  seeds = 0
  operations = 0
  readonly byStatus = { ok: 0, fail: 0, info: 0 }
  readonly faults = new Map<string, number>()
  /** Seeds that broke an invariant (violations of known, unfixed runtime bugs left out). */
  readonly failing: Array<{ seed: number; violations: readonly SimViolation[] }> = []
  /** Seeds that showed a known, unfixed runtime bug (see `knownBugs`), with those violations. */
  readonly known: Array<{ seed: number; violations: readonly SimViolation[] }> = []
  inconclusiveKeys = 0
  simulatedMs = 0

  /** Adds one seed's result. */
  add(result: RunResult): void {
    this.seeds++
    this.operations += result.history.length
    for (const op of result.history) this.byStatus[op.status]++
    for (const [kind, n] of result.faults) this.faults.set(kind, (this.faults.get(kind) ?? 0) + n)
    const fresh = result.violations.filter((v) => knownBugs[v.invariant] === undefined)
    const known = result.violations.filter((v) => knownBugs[v.invariant] !== undefined)
    if (fresh.length > 0) this.failing.push({ seed: result.seed, violations: fresh })
    if (known.length > 0) this.known.push({ seed: result.seed, violations: known })
    this.inconclusiveKeys += result.inconclusive.length
    this.simulatedMs += result.simulatedMs
  }

  /** Violations over all seeds. */
  get violations(): number {
    return this.failing.reduce((n, f) => n + f.violations.length, 0)
  }

  /** Violations by invariant name. */
  violationsByInvariant(): Map<string, number> {
    const out = new Map<string, number>()
    for (const f of this.failing) for (const v of f.violations) out.set(v.invariant, (out.get(v.invariant) ?? 0) + 1)
    return out
  }

  /** The summary as printable lines; `elapsedMs` is the real time the sweep took. */
  lines(elapsedMs: number): string[] {
    const perMinute = elapsedMs > 0 ? Math.round((this.seeds * 60_000) / elapsedMs) : 0
    const perSeed = this.seeds > 0 ? Math.round(this.operations / this.seeds) : 0
    const list = (m: Map<string, number>): string => [...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'
    return [
      `seeds run: ${this.seeds} in ${(elapsedMs / 1000).toFixed(1)} s real (${perMinute} seeds/minute), ${(this.simulatedMs / 1000).toFixed(0)} s simulated`,
      `operations: ${this.operations} (${perSeed} per seed): ok ${this.byStatus.ok}, fail ${this.byStatus.fail}, info ${this.byStatus.info}`,
      `faults injected: ${list(this.faults)}`,
      `violations: ${this.violations} in ${this.failing.length} seeds${this.violations > 0 ? ` (${list(this.violationsByInvariant())})` : ''}`,
      `known runtime bugs shown: ${this.known.length} seeds${this.known.length > 0 ? ` (${list(count(this.known))}; seeds ${this.known.slice(0, 10).map((k) => k.seed).join(' ')}${this.known.length > 10 ? ' ...' : ''})` : ''}`,
      `linearizability inconclusive (search budget spent): ${this.inconclusiveKeys} keys`,
    ]
  }
}
function count(list: ReadonlyArray<{ violations: readonly SimViolation[] }>): Map<string, number> {
  const out = new Map<string, number>()
  for (const f of list) for (const v of f.violations) out.set(v.invariant, (out.get(v.invariant) ?? 0) + 1)
  return out
}

/** The one command that replays a seed exactly, with its full trace. */
export function replayCommandFor(seed: number, profile: string, safetyMs?: number): string {
  const faults = profile === 'ci' ? '' : ` --faults ${profile}`
  const safety = safetyMs === undefined ? '' : ` --safety-ms ${safetyMs}`
  return `npm run sim -- --seed ${seed}${faults}${safety} --trace`
}
