/**
 * A cluster restarted on its dataDir after a membership change (a host killed and replaced, a
 * host added, a host drained) takes writes again. It used to serve reads but refuse every write
 * with `HostUnavailable: gave up after 8 redirects`: Cluster.start began at view epoch 1 while
 * the journals held records of later epochs, so the new primaries' records looked older than the
 * backups' copies and were fenced. The hosts now report the newest epoch in their journals, and
 * the first view starts above it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { Cluster, isTroupeError, type ClusterEvent } from '../../index.ts'

const actors = new URL('../fixtures/durable/actors.js', import.meta.url)
const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  if (!condition()) throw new Error(`never happened: ${what}`)
}

test.each([
  ['a host killed and restarted by its supervisor', async (cluster: Cluster, events: ClusterEvent[]) => {
    await cluster.kill('host-1')
    await until(() => events.some((e) => e.kind === 'restart') && cluster.view.hosts.includes('host-1'), 'host-1 rejoins')
  }],
  ['a host added', async (cluster: Cluster) => void (await cluster.addHost())],
  ['a host drained, its note of the newest epoch lost', async (cluster: Cluster) => cluster.drain('host-1'), true],
])('after %s, a cluster stopped and restarted on its dataDir takes writes again', async (_change, change, loseNote = false) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-found-bug-'))
  dirs.push(dataDir)
  const events: ClusterEvent[] = []
  let lastEpoch = 0
  let lastHosts = 0
  const first = await Cluster.start({ actors, hosts: 3, dataDir })
  first.on((e) => events.push(e))
  try {
    for (let i = 0; i < 3; i++) expect(await first.call(`Tally/k${i}`, 'increment', [])).toMatchObject({ count: 1 })
    await change(first, events)
    expect(first.view.epoch).toBeGreaterThan(1)
    lastEpoch = first.view.epoch
    lastHosts = first.view.hosts.length
    for (let i = 0; i < 3; i++) expect(await first.call(`Tally/k${i}`, 'increment', [])).toMatchObject({ count: 2 })
  } finally {
    await first.stop()
  }

  // The cluster notes the newest epoch it published in its dataDir; without that note, the
  // journals' epochs set the first view.
  if (loseNote) rmSync(join(dataDir, 'view-epoch'))
  const second = await Cluster.start({ actors, hosts: 3, dataDir })
  try {
    // The restarted cluster's first view is newer than every epoch its journals hold.
    expect(second.view.epoch).toBeGreaterThan(lastEpoch)
    // Started on the hosts of the newest view, then scaled to 3 (a view per host added or drained).
    if (!loseNote) expect(second.view.epoch).toBe(lastEpoch + 1 + Math.abs(lastHosts - 3))
    expect(second.view.hosts).toHaveLength(3)
    for (let i = 0; i < 3; i++) {
      expect(await second.call(`Tally/k${i}`, 'get', [])).toBe(2)
      // A caller retries an unknown outcome with the same request id; five tries are plenty.
      let answer: unknown
      for (let attempt = 0; attempt < 5 && answer === undefined; attempt++) {
        answer = await second.call(`Tally/k${i}`, 'increment', [], { requestId: `k${i}#3` }).catch((error: unknown) => {
          if (attempt === 4 || !isTroupeError(error)) throw error
          return undefined
        })
      }
      expect(answer).toMatchObject({ count: 3 })
      expect(await second.call(`Tally/k${i}`, 'get', [])).toBe(3)
    }
  } finally {
    await second.stop()
  }
})

test('a noted view epoch with no room to grow (a damaged note) is refused at start, naming the note', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-epoch-room-'))
  dirs.push(dataDir)
  writeFileSync(join(dataDir, 'view-epoch'), '9007199254740989\n')
  const error = await Cluster.start({ actors, hosts: 1, dataDir }).catch((e: unknown) => e)
  expect(isTroupeError(error, 'InvalidArgument'), String(error)).toBe(true)
  expect(String(error)).toMatch(/view-epoch notes view epoch 9007199254740989, above 2\^52/)
  // Refused before any host started, and the lock released: a good note starts.
  writeFileSync(join(dataDir, 'view-epoch'), '7\n')
  const cluster = await Cluster.start({ actors, hosts: 1, dataDir })
  expect(cluster.view.epoch).toBe(8)
  await cluster.stop()
})

test('a note of the hosts that cannot be rewritten is not left behind: a restart after drains still finds the newest copies', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-stale-note-'))
  dirs.push(dataDir)
  // A note from an earlier run, and its rewrite made to fail (as a full disk would fail it).
  writeFileSync(join(dataDir, 'view-hosts'), 'host-0\nhost-1\n')
  mkdirSync(join(dataDir, 'view-hosts.next'))
  const first = await Cluster.start({ actors, hosts: 2, replicas: 1, dataDir })
  try {
    await first.addHost()
    await first.addHost()
    await first.drain('host-0')
    await first.drain('host-1')
    expect(first.view.hosts).toEqual(['host-2', 'host-3'])
    for (let i = 0; i < 8; i++) expect(await first.call(`Counter/n${i}`, 'increment', [5])).toBe(5)
  } finally {
    await first.stop()
  }
  // The note named host-0 and host-1, whose journals hold none of the writes.
  const second = await Cluster.start({ actors, hosts: 2, replicas: 1, dataDir })
  try {
    for (let i = 0; i < 8; i++) expect(await second.call(`Counter/n${i}`, 'get', []), `n${i}`).toBe(5)
  } finally {
    await second.stop()
  }
})
