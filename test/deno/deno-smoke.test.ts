/**
 * Cross-runtime smoke test: runs test/deno/counter-smoke.ts under Deno (the unchanged core on 2
 * Deno Web Workers through runtime/web/), then checks that the placements, key hashes and ring
 * point hashes Deno printed are identical to the ones Node computes with the same core.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'
import { keyHash, loadPointHasher } from '../../runtime/hash.ts'
import { defaultLimits } from '../../runtime/limits.ts'
import { Placement } from '../../runtime/ring.ts'
import type { View } from '../../runtime/view.ts'
import { knownIds, pointLabels } from './known-answers.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const deno = fileURLToPath(new URL('../../node_modules/.bin/deno', import.meta.url))
const script = fileURLToPath(new URL('./counter-smoke.ts', import.meta.url))

interface SmokeResult {
  runtime: string
  view: View
  ring: { shardCount: number; vnodesPerHost: number }
  placements: Record<string, string>
  keyHashes: Record<string, number>
  pointHashes: Record<string, number>
  actorsPerHost: Record<string, number>
  calls: number
}

function run(command: string, args: string[], timeoutMs: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // NO_COLOR keeps Deno's error output readable in assertion messages.
    const child = spawn(command, args, { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs })
    let stdout = '', stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

test('the Counter example runs on 2 Deno workers and Deno places keys exactly as Node does', async () => {
  const dirs = ['runtime', 'transport', 'actors'].map((d) => `${root}${d}`).join(',')
  // Only permission: read access to the core's source, for the modules the workers load.
  const args = ['run', '--no-prompt', '--no-lock', `--allow-read=${dirs}`, script]
  const { code, signal, stdout, stderr } = await run(deno, args, 55_000)
  expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' })

  const lines = stdout.trim().split('\n')
  expect(lines).toHaveLength(1)
  const result = JSON.parse(lines[0]!) as SmokeResult
  expect(result.runtime).toMatch(/^Deno\/2\./)
  expect(result.calls).toBe(200)
  expect(Object.values(result.actorsPerHost).reduce((a, b) => a + b, 0)).toBe(50)

  // The same view and ring parameters, computed in Node.
  expect(result.view).toEqual({ epoch: 1, hosts: ['host-0', 'host-1'] })
  expect(result.ring).toEqual({ shardCount: defaultLimits.shardCount, vnodesPerHost: defaultLimits.vnodesPerHost })
  const placement = await Placement.create(result.view, result.ring)
  const hasher = await loadPointHasher()
  const keys = knownIds.map((id) => `Counter/${id}`)
  expect(result.placements).toEqual(Object.fromEntries(keys.map((key) => [key, placement.primary(key)])))
  expect(result.keyHashes).toEqual(Object.fromEntries(keys.map((key) => [key, keyHash(key)])))
  expect(result.pointHashes).toEqual(Object.fromEntries(pointLabels.map((label) => [label, hasher(label)])))
  // Not a degenerate ring: the known keys land on both hosts.
  expect(new Set(Object.values(result.placements))).toEqual(new Set(['host-0', 'host-1']))
}, 60_000)
