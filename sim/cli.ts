import { faultProfiles } from './faults.ts'
import { replayCommandFor } from './summary.ts'
import { knownBugs } from './regressions.ts'
import { runSeed } from './run.ts'
import { SweepSummary } from './summary.ts'

/**
 * `npm run sim -- [--seeds N] [--from S] [--seed S] [--faults PROFILE] [--verbose] [--trace]`:
 * runs seeds one after another, prints a summary, and for every failing seed one command that
 * replays it exactly. Exits 1 when any seed broke an invariant.
 */
interface CliOptions {
  seeds: number
  from: number
  profile: string
  verbose: boolean
  trace: boolean
  safetyMs: number | undefined
}

const usage = `usage: npm run sim -- [--seeds N=100] [--from S=1] [--seed S] [--faults ${Object.keys(faultProfiles).join('|')}] [--safety-ms MS] [--verbose] [--trace]`

function parse(argv: readonly string[]): CliOptions {
  const options: CliOptions = { seeds: 100, from: 1, profile: 'ci', verbose: false, trace: false, safetyMs: undefined }
  const int = (flag: string, value: string | undefined): number => {
    const n = Number(value)
    if (value === undefined || !Number.isSafeInteger(n) || n < 0) throw new Error(`${flag} needs a non-negative integer\n${usage}`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!
    if (flag === '--seeds') options.seeds = int(flag, argv[++i])
    else if (flag === '--from') options.from = int(flag, argv[++i])
    else if (flag === '--seed') { options.from = int(flag, argv[++i]); options.seeds = 1 }
    else if (flag === '--faults') options.profile = argv[++i] ?? ''
    else if (flag === '--safety-ms') options.safetyMs = int(flag, argv[++i])
    else if (flag === '--verbose') options.verbose = true
    else if (flag === '--trace') options.trace = true
    else if (flag === '--help' || flag === '-h') { console.log(usage); process.exit(0) }
    else throw new Error(`unknown argument ${flag}\n${usage}`)
  }
  if (faultProfiles[options.profile] === undefined) throw new Error(`unknown fault profile ${options.profile}\n${usage}`)
  return options
}

async function main(): Promise<number> {
  const options = parse(process.argv.slice(2))
  const profile = faultProfiles[options.profile]!
  console.log(`troupe sim: profile ${profile.name} (${profile.description}); seeds ${options.from}..${options.from + options.seeds - 1}`)
  const summary = new SweepSummary()
  const started = performance.now()
  for (let seed = options.from; seed < options.from + options.seeds; seed++) {
    const result = await runSeed({ seed, profile: profile.name, keepTrace: options.trace, safetyMs: options.safetyMs })
    summary.add(result)
    if (options.trace) for (const line of result.traceLines) console.log(line)
    if (options.verbose) {
      const faults = [...result.faults].map(([k, n]) => `${k}=${n}`).join(' ')
      console.log(`seed ${seed}: hosts ${result.hostCount} clients ${result.clientCount} ops ${result.history.length} violations ${result.violations.length} trace ${result.traceDigest.slice(0, 16)} ${faults}`)
    }
    if (result.violations.length > 0) {
      const known = result.violations.every((v) => knownBugs[v.invariant] !== undefined)
      console.log(`seed ${seed} ${known ? 'shows a known bug' : 'FAILED'}: ${result.violations.length} violations`)
      for (const v of result.violations.slice(0, 5)) console.log(`  [${v.invariant}] ${v.message}`)
      if (result.violations.length > 5) console.log(`  ... and ${result.violations.length - 5} more`)
      console.log(`  replay: ${replayCommandFor(seed, profile.name, options.safetyMs)}`)
    }
  }
  for (const line of summary.lines(performance.now() - started)) console.log(line)
  return summary.violations > 0 ? 1 : 0
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(2)
})
