/**
 * SIGTERM stops `troupe start` gracefully; starting again on the same --data recovers every actor,
 * with another --hosts too.
 * A second `troupe start` on a --data in use is refused while the first runs.
 */
import { afterAll, expect, test } from 'vitest'
import { examples, post, startCluster, tempDir, troupe } from './helpers.ts'

const data = tempDir('troupe-restart-')
afterAll(() => data.remove())

test('state written before SIGTERM is there after a restart on the same data dir', async () => {
  const first = await startCluster([examples, '--hosts', '2', '--replicas', '1', '--port', '0', '--data', data.dir])
  const port = String(first.port)
  const twice = await troupe(['start', examples, '--hosts', '1', '--port', '0', '--data', data.dir])
  expect(twice.code).toBe(2)
  expect(twice.stderr).toMatch(new RegExp(`InvalidArgument: .* is in use by process ${first.proc.pid} `))
  expect((await troupe(['call', 'Counter/durable', 'increment', '41', '-p', port])).stdout).toBe('41\n')
  expect((await post(first.url, '/actors/Counter/durable/increment', '[1]')).body).toBe(42)
  await Promise.all(Array.from({ length: 20 }, (_, i) => post(first.url, `/actors/Account/acct-${i}/deposit`, `[${100 + i}]`)))
  expect((await post(first.url, '/actors/Account/acct-0/transfer', '["acct-1", 30]', { 'idempotency-key': 't-1' })).body).toBe(70)
  expect(await first.stop('SIGTERM')).toBe(0)
  expect(first.output()).toMatch(/SIGTERM: stopping \(draining actors, flushing journals\)/)
  expect(first.output()).toMatch(/stopped in \d+ ms/)

  // Another number of hosts: the restart starts the two that hold the journals, then adds one.
  const second = await startCluster([examples, '--hosts', '3', '--replicas', '1', '--port', '0', '--data', data.dir])
  try {
    const p = String(second.port)
    expect((await troupe(['call', 'Counter/durable', 'get', '-p', p])).stdout).toBe('42\n')
    const balances = await Promise.all(Array.from({ length: 20 }, async (_, i) => (await post(second.url, `/actors/Account/acct-${i}/balance`, '[]')).body as number))
    expect(balances[0]).toBe(70)
    expect(balances[1]).toBe(131)
    expect(balances.reduce((a, b) => a + b, 0)).toBe(Array.from({ length: 20 }, (_, i) => 100 + i).reduce((a, b) => a + b, 0))
    // The request table survived too: the same transfer, retried after the restart, does not run again.
    expect((await post(second.url, '/actors/Account/acct-0/transfer', '["acct-1", 30]', { 'idempotency-key': 't-1' })).body).toBe(70)
    expect((await post(second.url, '/actors/Account/acct-0/balance', '[]')).body).toBe(70)
  } finally {
    // One stop request delivered twice at once (to the process, then to its group) is one graceful stop.
    second.proc.kill('SIGINT')
    second.proc.kill('SIGINT')
    expect(await second.exited).toBe(0)
    expect(second.output()).not.toMatch(/exiting without a graceful stop/)
  }
})
