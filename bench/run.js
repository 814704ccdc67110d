#!/usr/bin/env node
/**
 * Runs troupe's benchmarks one after another, each in its own process (`node --import tsx`),
 * then prints one markdown table from their JSON in bench/results/. `npm run bench` builds
 * first: hosts and the fixtures' workers run the built JavaScript in dist/.
 *
 *   node bench/run.js              every benchmark below
 *   node bench/run.js calls        only those whose name contains "calls"
 *   node bench/run.js --table      print the table from the last results, running nothing
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const benchDir = dirname(fileURLToPath(import.meta.url))
const resultsDir = join(benchDir, 'results')
/** The benchmarks this runner owns, in the order they run. */
const benchmarks = ['placement', 'calls', 'durability', 'failover']

const args = process.argv.slice(2)
const tableOnly = args.includes('--table')
const filters = args.filter((a) => !a.startsWith('--'))
const selected = benchmarks.filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))

const started = Date.now()
const failed = []
if (!tableOnly) {
  for (const name of selected) {
    const file = join(benchDir, `${name}.bench.ts`)
    console.log(`\n## ${name} (${file})\n`)
    const t0 = Date.now()
    const child = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit', cwd: join(benchDir, '..') })
    if (child.status !== 0) failed.push(name)
    console.log(`\n${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s${child.status === 0 ? '' : `, FAILED (exit ${child.status ?? child.signal})`}`)
  }
}

const results = selected.map((name) => join(resultsDir, `${name}.json`)).filter(existsSync).map((path) => JSON.parse(readFileSync(path, 'utf8')))
const table = render(results, tableOnly ? undefined : (Date.now() - started) / 1000)
console.log(`\n${table}`)
// JSON, as bench/results/*.json is what git ignores there.
writeFileSync(join(resultsDir, 'summary.json'), JSON.stringify({ markdown: table }, null, 2) + '\n')
if (failed.length > 0) {
  console.error(`failed: ${failed.join(', ')}`)
  process.exitCode = 1
}

function render(all, totalSeconds) {
  const cpu = cpus()[0]?.model ?? 'unknown'
  const lines = [
    `# troupe benchmarks`,
    '',
    `${new Date().toISOString()} · ${cpu} · ${availableParallelism()} cores · Node ${process.version}` +
      (totalSeconds === undefined ? '' : ` · ${totalSeconds.toFixed(0)} s`),
    '',
    'Figures are from one run on one machine; compare the ratios (baselines measured in the same run), not absolute',
    'numbers across runs. "documented" is the figure in shared/BASELINES.md, for a sanity check only.',
  ]
  for (const r of all) {
    lines.push('', `## ${r.name} (${r.date})`)
    let group
    for (const row of r.rows) {
      if (row.group !== group) {
        group = row.group
        lines.push('', `${group}:`, '', '| benchmark | throughput | p50 | p99 | documented |', '| --- | ---: | ---: | ---: | --- |')
      }
      const name = row.baseline ? `${row.name} *(baseline)*` : `**${row.name}**`
      const throughput = row.value === undefined || row.value === null ? '—' : `${formatRate(row.value)} ${row.unit}`
      lines.push(`| ${name} | ${throughput} | ${formatUs(row.p50Us)} | ${formatUs(row.p99Us)} | ${row.documented ?? ''} |`)
    }
    if (r.ratios.length > 0) {
      lines.push('', '| ratio (same run) | value | target | met |', '| --- | ---: | ---: | :---: |')
      for (const ratio of r.ratios) {
        const met = ratio.target === undefined || !Number.isFinite(ratio.value) ? '' : (ratio.op === '>=' ? ratio.value >= ratio.target : ratio.value <= ratio.target) ? 'yes' : '**no**'
        const target = ratio.target === undefined ? '—' : `${ratio.op} ${ratio.target}`
        lines.push(`| ${ratio.name} | ${Number.isFinite(ratio.value) ? ratio.value.toFixed(2) : 'n/a'} | ${target} | ${met} |`)
      }
    }
  }
  return lines.join('\n') + '\n'
}

function formatRate(value) {
  if (!Number.isFinite(value)) return 'n/a'
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`
  if (value >= 1e4) return `${(value / 1e3).toFixed(0)}k`
  if (value >= 100) return value.toFixed(0)
  return value.toFixed(2)
}

function formatUs(us) {
  if (us === undefined || !Number.isFinite(us)) return ''
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`
}
