import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, test } from 'vitest'
import { Cluster, type ClusterEvent, type ClusterOptions } from '../../index.ts'

/** Built JavaScript actors (the example Counter): a worker loads them fastest. */
const actors = new URL('../fixtures/durable/actors.js', import.meta.url)
interface Counter { increment(by?: number): number; get(): number }

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})
let cluster: Cluster | undefined
afterEach(async () => {
  await cluster?.stop()
  cluster = undefined
})

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-paused-'))
  dirs.push(dir)
  return dir
}

async function started(options: Partial<ClusterOptions> & { dataDir: string }): Promise<Cluster> {
  cluster = await Cluster.start({ actors, hosts: 4, replicas: 1, pauseShards: true, ...options })
  return cluster
}

/** A counter id whose two owners are exactly `hosts` (primary first). */
function idOwnedBy(c: Cluster, hosts: [string, string]): string {
  for (let i = 0; ; i++) {
    const owners = c.ownersOf('Counter', `p${i}`)
    if (owners[0] === hosts[0] && owners[1] === hosts[1]) return `p${i}`
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  if (!condition()) throw new Error(`never happened: ${what}`)
}

describe('a paused shard across restarts (real workers and files)', () => {
  test('a stop while a shard is paused, then a start on the dataDir, keeps its acknowledged writes', async () => {
    const dir = dataDir()
    const c = await started({ dataDir: dir })
    const id = idOwnedBy(c, ['host-1', 'host-2'])
    for (let i = 0; i < 5; i++) await c.actor<Counter>('Counter', id).increment(1)
    // Both owners killed, the cluster stopped before the supervisor restarts them (as a crash of
    // the whole process would): the view-hosts note listed only host-0 and host-3, so the next
    // start ran those (and added host-4, host-5), never the journals holding the 5.
    const killed = Promise.all([c.kill('host-1'), c.kill('host-2')])
    await until(() => c.view.paused !== undefined, 'a paused view')
    await c.stop()
    await killed
    const again = await started({ dataDir: dir })
    expect(await again.actor<Counter>('Counter', id).get()).toBe(5)
  })

  test('one_for_all: siblings stopped to be restarted on their disks are waited for', async () => {
    const c = await started({ dataDir: dataDir(), supervision: { strategy: 'one_for_all' } })
    const id = idOwnedBy(c, ['host-1', 'host-2'])
    const counter = c.actor<Counter>('Counter', id)
    for (let i = 0; i < 5; i++) await counter.increment(1)
    // The strategy stops host-3, host-2, host-1 (each retired), then starts host-0..host-3 again.
    // A call while only host-0 was back ran on host-0, which holds nothing of the actor: it
    // answered 1, and that newer history won over the 5 once host-1 and host-2 were back.
    const during: Array<Promise<number>> = []
    c.on((event: ClusterEvent) => {
      if (event.kind === 'view' && event.view.hosts.length === 1 && event.view.hosts[0] === 'host-0') during.push(counter.increment(1))
    })
    await c.kill('host-0')
    await until(() => c.view.hosts.length === 4 && c.view.paused === undefined, 'every host back, nothing paused')
    expect(during).toHaveLength(1)
    expect(await during[0]).toBe(6)
    expect(await counter.get()).toBe(6)
  })

  test('a paused shard resumes though its holders\' re-replication outlasts hangTimeoutMs', async () => {
    // A host's run starts replicationRetryMs after the view: the supervisor asked for its report
    // with a deadline of hangTimeoutMs, never got a complete one, and published a new view every
    // 2 s (each restarting every run) while the shard stayed paused for good.
    const c = await started({ dataDir: dataDir(), hangTimeoutMs: 1000, limits: { replicationRetryMs: 1000, callTimeoutMs: 10_000 } })
    const id = idOwnedBy(c, ['host-1', 'host-2'])
    for (let i = 0; i < 5; i++) await c.actor<Counter>('Counter', id).increment(1)
    await Promise.all([c.kill('host-1'), c.kill('host-2')])
    expect(c.view.paused?.length).toBeGreaterThan(0)
    expect(await c.actor<Counter>('Counter', id).get()).toBe(5)
    expect(c.view.paused).toBeUndefined()
  }, 30_000)
})
