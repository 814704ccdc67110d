// Prints the plain CI summary line from vitest's JSON report: "N passed, N failed".
import { readFileSync } from 'node:fs'

const [file, status = '0'] = process.argv.slice(2)
let passed = 0
let failed = 0
try {
  const report = JSON.parse(readFileSync(file, 'utf8'))
  passed = report.numPassedTests ?? 0
  failed = report.numFailedTests ?? 0
  // A test file that failed to load has no failed tests of its own: count it once.
  for (const suite of report.testResults ?? []) {
    const tests = suite.assertionResults ?? []
    if (suite.status === 'failed' && !tests.some((t) => t.status === 'failed')) failed++
  }
  if (failed === 0 && status !== '0') failed = 1
} catch {
  // No report: the run broke before vitest could write one.
  failed = 1
}
console.log(`${passed} passed, ${failed} failed`)
process.exitCode = failed === 0 ? 0 : 1
