import { nextFloat, type Random } from './random.ts'

/**
 * BUGGIFY (FoundationDB's idea): marked points in runtime code where a simulation may force a
 * rare path — a slow step, a spurious failure, an early timeout — to shake out bugs that real
 * faults reach only once in a million runs. Off unless a simulation calls `enableBuggify`;
 * when off, `buggify()` is one comparison and always false, so production never takes a path.
 *
 * In a run, each point is decided once, the first time it is reached: enabled with
 * `pointEnabledProbability`; an enabled point then fires with its probability each time it is
 * reached. Every draw comes from the injected seeded `Random`, in the order points are reached,
 * so one seed replays the same firings.
 */
export interface BuggifyOptions {
  /** The seeded source of every decision. Required. */
  random: Random
  /** Chance an enabled point fires each time it is reached, in [0, 1]. Default 0.25. */
  probability?: number
  /** Chance a point is enabled at all in this run, decided when first reached, in [0, 1]. Default 0.25. */
  pointEnabledProbability?: number
  /** Per-point firing chances that override `probability` (and enable the point). */
  points?: Readonly<Record<string, number>>
  /** Told of every firing (for the simulation's trace and fault counters), with what the point said it concerns. */
  onFire?: (point: string, subject: string | undefined) => void
}

/** How often one point was reached and fired in the current (or last) run. */
export interface BuggifyPointStats {
  readonly point: string
  readonly enabled: boolean
  readonly reached: number
  readonly fired: number
}

interface PointState {
  enabled: boolean
  reached: number
  fired: number
}

interface Active {
  readonly options: BuggifyOptions
  readonly probability: number
  readonly pointEnabledProbability: number
  readonly points: Map<string, PointState>
}

let active: Active | undefined

/**
 * True when the simulation decides that this marked point takes its rare path now; always false in
 * production. `subject` (a host id, say) tells the simulation what a firing concerns.
 */
export function buggify(point: string, subject?: string): boolean {
  if (active === undefined) return false
  return fire(active, point, subject)
}

/** Turns BUGGIFY on for a simulation run (replacing any earlier settings). */
export function enableBuggify(options: BuggifyOptions): void {
  const probability = options.probability ?? 0.25
  const pointEnabledProbability = options.pointEnabledProbability ?? 0.25
  for (const p of [probability, pointEnabledProbability, ...Object.values(options.points ?? {})]) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`buggify probabilities must be in [0, 1], got ${p}`)
  }
  active = { options, probability, pointEnabledProbability, points: new Map() }
}

/** Turns BUGGIFY off: every point answers false again. */
export function disableBuggify(): void {
  active = undefined
}

/** True while a simulation has BUGGIFY on. */
export function buggifyEnabled(): boolean {
  return active !== undefined
}

/** Per-point counts of the current run, in the order points were first reached. */
export function buggifyStats(): BuggifyPointStats[] {
  if (active === undefined) return []
  return [...active.points].map(([point, s]) => ({ point, enabled: s.enabled, reached: s.reached, fired: s.fired }))
}

function fire(state: Active, point: string, subject: string | undefined): boolean {
  const override = state.options.points?.[point]
  let entry = state.points.get(point)
  if (entry === undefined) {
    const enabled = override !== undefined ? override > 0 : draw(state, state.pointEnabledProbability)
    entry = { enabled, reached: 0, fired: 0 }
    state.points.set(point, entry)
  }
  entry.reached++
  if (!entry.enabled || !draw(state, override ?? state.probability)) return false
  entry.fired++
  state.options.onFire?.(point, subject)
  return true
}

function draw(state: Active, probability: number): boolean {
  return probability > 0 && nextFloat(state.options.random) < probability
}
