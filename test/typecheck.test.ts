import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'

/**
 * The types the README promises (a proxy's methods are promises of their results, base members
 * and private methods are no messages, ...) are asserted with `expectTypeOf` in the tests, which
 * only the compiler checks: the whole project, tests included, must typecheck.
 */
test('the project and its tests typecheck (tsc --noEmit, strict)', async () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const run = await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit'], { cwd: new URL('..', import.meta.url).pathname })
    .then(() => ({ code: 0, out: '' }), (error: { code?: number; stdout?: string }) => ({ code: error.code ?? 1, out: error.stdout ?? '' }))
  expect(run.out).toBe('')
  expect(run.code).toBe(0)
}, 120_000)
