/** `troupe drain` and `troupe scale` against a running cluster. */
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { ClusterStatus } from '../../runtime/gateway/server.ts'
import { examples, get, post, startCluster, troupe, type Running } from './helpers.ts'

let cluster: Running
let port: string
beforeAll(async () => {
  cluster = await startCluster([examples, '--hosts', '3', '--port', '0'])
  port = String(cluster.port)
})
afterAll(async () => {
  expect(await cluster?.stop('SIGTERM')).toBe(0)
})

test('troupe drain moves every actor off a host without a failed call, then stops it', async () => {
  const acked = new Map<string, number>()
  await Promise.all(Array.from({ length: 30 }, async (_, i) => {
    acked.set(`d${i}`, (await post<number>(cluster.url, `/actors/Counter/d${i}/increment`, `[${i + 1}]`)).body)
  }))
  // Calls keep flowing while the host drains: none of them may fail.
  let stop = false
  const failures: unknown[] = []
  const load = Promise.all(Array.from({ length: 4 }, async (_, w) => {
    for (let n = 0; !stop; n++) {
      const answer = await post(cluster.url, `/actors/Counter/load-${w}-${n % 10}/increment`, '[1]')
      if (answer.status !== 200) failures.push(answer.body)
    }
  }))
  const drained = await troupe(['drain', 'host-1', '-p', port])
  stop = true
  await load
  expect(drained.stderr).toBe('')
  expect(drained.code).toBe(0)
  expect(drained.stdout).toMatch(/^drained host-1 in \d+ ms; view epoch \d+: host-0, host-2\n$/)
  expect(failures).toEqual([])
  for (const [id, value] of acked) expect((await post(cluster.url, `/actors/Counter/${id}/get`, '[]')).body).toBe(value)
  const status = (await get<ClusterStatus>(cluster.url, '/status')).body
  expect(status.view.hosts).toEqual(['host-0', 'host-2'])
})

test('troupe scale grows the cluster; actors keep their state', async () => {
  const before = (await post(cluster.url, '/actors/Counter/d0/get', '[]')).body
  const scaled = await troupe(['scale', '4', '-p', port])
  expect(scaled.code).toBe(0)
  expect(scaled.stdout).toMatch(/^scaled 2 -> 4 hosts in \d+ ms; view epoch \d+: /)
  const status = JSON.parse((await troupe(['status', '--json', '-p', port])).stdout)
  expect(status.view.hosts).toHaveLength(4)
  expect(status.cluster.hostsUp).toBe(4)
  expect((await post(cluster.url, '/actors/Counter/d0/get', '[]')).body).toBe(before)
  const bad = await troupe(['scale', '0', '-p', port])
  expect(bad.code).toBe(2)
})
