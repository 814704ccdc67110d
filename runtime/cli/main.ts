/**
 * The `troupe` command (bin/troupe.js runs the built form of this file). `troupe start` serves a
 * cluster and its HTTP gateway; status, top, call, kill, drain, scale, what-if and journal drive
 * a running one through the gateway. See `troupe help`.
 */
import { run } from './run.ts'

try {
  process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env })
} catch (error) {
  process.stderr.write(`troupe: unexpected failure: ${(error as Error)?.stack ?? String(error)}\n`)
  process.exitCode = 1
}
