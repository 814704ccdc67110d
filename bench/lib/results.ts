/**
 * The JSON every benchmark writes to bench/results/<name>.json, which bench/run.js turns into
 * one markdown table. Rows are figures measured in this run; ratios compare them with their
 * baselines measured in the same run (never with figures from another run or machine).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, platform, release } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** One measured figure. */
export interface ResultRow {
  group: string
  name: string
  /** Throughput in `unit` (per second unless the unit says otherwise); absent for a row of times only (p50/p99). */
  value?: number
  unit: string
  p50Us?: number
  p99Us?: number
  /** True for a baseline the project's own figures are compared with. */
  baseline?: boolean
  /** The matching figure in shared/BASELINES.md, for a sanity check of the machine (not compared). */
  documented?: string
}

/** A comparison within this run, with the target it must meet. */
export interface ResultRatio {
  name: string
  value: number
  /** `>=` means value must be at least target; `<=` at most. */
  op: '>=' | '<='
  /** Absent for a ratio shown for information only. */
  target?: number
}

export interface BenchResults {
  name: string
  date: string
  machine: { cpu: string; cores: number; node: string; os: string }
  rows: ResultRow[]
  ratios: ResultRatio[]
}

export function machine(): BenchResults['machine'] {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), node: process.version, os: `${platform()} ${release()}` }
}

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results')

/** Writes bench/results/<name>.json and returns its path. */
export function writeResults(name: string, rows: ResultRow[], ratios: ResultRatio[]): string {
  const results: BenchResults = { name, date: new Date().toISOString(), machine: machine(), rows, ratios }
  mkdirSync(resultsDir, { recursive: true })
  const path = join(resultsDir, `${name}.json`)
  writeFileSync(path, JSON.stringify(results, null, 2) + '\n')
  return path
}

/** `a / b`, or NaN when either is missing. */
export function ratioOf(a: number | undefined, b: number | undefined): number {
  return a === undefined || b === undefined || b === 0 ? Number.NaN : a / b
}
