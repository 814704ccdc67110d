/** `npm start`: the demo succeeds, and with --serve the CLI works against the cluster it leaves up. */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { root, troupe } from './helpers.ts'

test('the demo passes every check, exits 0, and serves the CLI with --serve', async () => {
  const proc = spawn(process.execPath, [join(root, 'dist/demo/main.js'), '--port', '0', '--serve'], { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  proc.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  proc.stderr.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve))
  const serving = await new Promise<boolean>((resolve) => {
    const check = (): void => {
      if (out.includes('keeps serving on')) resolve(true)
    }
    proc.stdout.on('data', check)
    void exited.then(() => resolve(false))
  })
  expect(out).toContain('demo ok')
  expect(serving).toBe(true)
  expect(out).toMatch(/bank total {4}20,000 before, 20,000 after: unchanged ✓/)
  expect(out).toMatch(/acked writes {2}24,000 increments acknowledged, 24,000 counted: none lost, none applied twice ✓/)
  expect(out).toMatch(/failover {6}host-\d killed at 50%: its actors answered again after/)
  expect(out).toMatch(/throughput {4}[\d,]+ calls\/s/)
  const port = /keeps serving on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]!
  const status = await troupe(['status', '--json', '-p', port])
  expect(status.code).toBe(0)
  expect(JSON.parse(status.stdout).hosts).toHaveLength(4)
  expect((await troupe(['call', 'Counter/c0', 'get', '-p', port])).code).toBe(0)
  proc.kill('SIGINT')
  expect(await exited).toBe(0)
})
