#!/usr/bin/env node
// The `troupe` command: runs the built CLI (npm install builds dist/ through the prepare script).
import { existsSync } from 'node:fs'

const main = new URL('../dist/runtime/cli/main.js', import.meta.url)
if (!existsSync(main)) {
  process.stderr.write('troupe: the CLI is not built (no dist/runtime/cli/main.js); run "npm run build" in the troupe package\n')
  process.exitCode = 1
} else {
  await import(main.href)
}
