import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, test } from 'vitest'
import { Cluster, type ClusterEvent, type ClusterOptions } from '../../index.ts'
import type { View } from '../../runtime/view.ts'
import { formatEvent, renderStatus, styleFor } from '../../runtime/cli/format.ts'
import type { ClusterStatus } from '../../runtime/gateway/server.ts'

/** Built JavaScript actors (the example Counter): a worker loads them fastest. */
const actors = new URL('../fixtures/durable/actors.js', import.meta.url)
interface Counter { increment(by?: number): number; get(): number }

/** A counter id whose two owners are exactly `hosts` (primary first). */
function idOwnedBy(cluster: Cluster, hosts: [string, string]): string {
  for (let i = 0; ; i++) {
    const owners = cluster.ownersOf('Counter', `p${i}`)
    if (owners[0] === hosts[0] && owners[1] === hosts[1]) return `p${i}`
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  if (!condition()) throw new Error(`never happened: ${what}`)
}

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

async function started(options: Partial<ClusterOptions>): Promise<{ cluster: Cluster; views: View[]; events: ClusterEvent[] }> {
  const dir = dataDir()
  const views: View[] = []
  const events: ClusterEvent[] = []
  cluster = await Cluster.start({ actors, hosts: 4, replicas: 1, dataDir: dir, pauseShards: true, ...options })
  cluster.on((event: ClusterEvent) => {
    events.push(event)
    if (event.kind === 'view') views.push(event.view)
  })
  return { cluster, views, events }
}

describe('every owner of an actor down at once, with a dataDir (real workers and files)', () => {
  test('its calls wait for the owners to restart on their disks, and no acknowledged write is lost', async () => {
    const { cluster, views } = await started({})
    const id = idOwnedBy(cluster, ['host-0', 'host-3'])
    const counter = cluster.actor<Counter>('Counter', id)
    for (let i = 0; i < 5; i++) await counter.increment(1)
    // Both owners killed in one go: without a pause, the next call started the actor over on a
    // host that held nothing of it (answering 0), and that history won when the owners came back.
    await Promise.all([cluster.kill('host-0'), cluster.kill('host-3')])
    expect(cluster.view.hosts).toEqual(['host-1', 'host-2'])
    expect(cluster.view.paused?.length).toBeGreaterThan(0)
    expect(await counter.get()).toBe(5)
    // It answered once its holder was back: the pause ended in a later view with it. (host-0 went
    // first, and host-3 alone held the actor then: the count of holders may wait for it alone.)
    const resumed = views.findLast((v) => v.paused === undefined)!
    expect(resumed.hosts).toContain('host-3')
    expect(await counter.increment(1)).toBe(6)
    // Actors of other shards were never paused: one owned by two live hosts answers at once.
    expect(await cluster.actor<Counter>('Counter', idOwnedBy(cluster, ['host-1', 'host-2'])).increment(1)).toBe(1)
  })

  test('membership changes one at a time (addHost, drain) pause nothing, and keep every write', async () => {
    const { cluster, views } = await started({ hosts: 3 })
    await Promise.all(Array.from({ length: 60 }, (_, i) => cluster.actor<Counter>('Counter', `m${i}`).increment(i)))
    for (let round = 0; round < 3; round++) {
      await cluster.addHost()
      await cluster.drain(cluster.view.hosts[0]!)
    }
    expect(views.every((v) => v.paused === undefined)).toBe(true)
    const counts = await Promise.all(Array.from({ length: 60 }, (_, i) => cluster.actor<Counter>('Counter', `m${i}`).get()))
    expect(counts).toEqual(Array.from({ length: 60 }, (_, i) => i))
  })

  test('one owner down pauses nothing: its backup takes over', async () => {
    const { cluster, views } = await started({})
    const id = idOwnedBy(cluster, ['host-0', 'host-3'])
    const counter = cluster.actor<Counter>('Counter', id)
    await counter.increment(3)
    await cluster.kill('host-0')
    expect(await counter.get()).toBe(3)
    await until(() => cluster.view.hosts.includes('host-0'), 'host-0 restarted')
    expect(views.every((v) => v.paused === undefined)).toBe(true)
  })

  test('owners the supervisor does not restart are not waited for: the actor starts over (its writes are lost, as the README says)', async () => {
    const { cluster, views, events } = await started({ supervision: { restart: 'temporary' } })
    const id = idOwnedBy(cluster, ['host-0', 'host-3'])
    const counter = cluster.actor<Counter>('Counter', id)
    await counter.increment(4)
    await Promise.all([cluster.kill('host-0'), cluster.kill('host-3')])
    expect(await counter.get()).toBe(0)
    expect(cluster.view.paused).toBeUndefined()
    // Said, not silent: the shards that were waiting for them resumed with their writes lost.
    const lost = events.filter((e) => e.kind === 'shards-lost')
    expect(lost.length).toBeGreaterThan(0)
    expect(lost.reduce((n, e) => n + (e.kind === 'shards-lost' ? e.shards : 0), 0)).toBe(views.find((v) => v.paused !== undefined)!.paused!.length)
    expect(views.every((v) => !v.hosts.includes('host-0'))).toBe(true)
  })

})

describe('when nothing is paused', () => {
  test.each([
    ['without a dataDir (a restarted host comes back empty)', { dataDir: undefined }],
    ['by default with a dataDir (pauseShards is opt-in; the limit the README states)', { pauseShards: undefined }],
  ])('%s: an actor whose owners all died starts over', async (_, options: Partial<ClusterOptions>) => {
    const { cluster, views } = await started(options)
    const id = idOwnedBy(cluster, ['host-0', 'host-3'])
    await cluster.actor<Counter>('Counter', id).increment(2)
    await Promise.all([cluster.kill('host-0'), cluster.kill('host-3')])
    expect(await cluster.actor<Counter>('Counter', id).get()).toBe(0)
    expect(views.every((v) => v.paused === undefined)).toBe(true)
  })

  test.each([['yes'], [1], [null]])('pauseShards %j is refused with InvalidArgument', async (value) => {
    const error = await Cluster.start({ actors, hosts: 1, pauseShards: value as unknown as boolean }).catch((e: unknown) => e)
    expect(error).toMatchObject({ kind: 'InvalidArgument', message: expect.stringMatching(/pauseShards/) })
  })
})

describe('paused shards in the CLI', () => {
  const plain = styleFor({ isTTY: false }, {})
  test('a view event says how many shards it pauses', () => {
    expect(formatEvent({ kind: 'view', view: { epoch: 3, hosts: ['host-1', 'host-2'], paused: [4, 9] } }, plain)).toBe('view  epoch 3: host-1, host-2; 2 shards paused')
    expect(formatEvent({ kind: 'view', view: { epoch: 4, hosts: ['host-1'] } }, plain)).toBe('view  epoch 4: host-1')
    expect(formatEvent({ kind: 'shards-lost', shards: 3, epoch: 9 }, plain)).toBe('shards-lost  3 shards resumed with none of their hosts back (view epoch 9): their writes are lost')
  })

  test('troupe status says so, and nothing when none is paused', () => {
    const status = (view: View): ClusterStatus => ({
      view,
      cluster: { uptimeMs: 1000, hostsUp: 2, hostsDown: 2 },
      hosts: [],
      duplicateActivations: 0,
      events: [],
      supports: { kill: true, drain: true, scale: true, addHost: true, journal: true },
    })
    expect(renderStatus(status({ epoch: 7, hosts: ['host-1', 'host-2'], paused: [1] }), 'http://x', plain)).toContain('view epoch 7 · 1 shard paused (their holders are restarting)')
    expect(renderStatus(status({ epoch: 8, hosts: ['host-1', 'host-2'] }), 'http://x', plain)).not.toContain('paused')
  })
})

async function startedOn(options: Partial<ClusterOptions> & { dataDir: string }): Promise<Cluster> {
  cluster = await Cluster.start({ actors, hosts: 4, replicas: 1, pauseShards: true, ...options })
  return cluster
}

describe('a paused shard across restarts (real workers and files)', () => {
  test('a stop while a shard is paused, then a start on the dataDir, keeps its acknowledged writes', async () => {
    const dir = dataDir()
    const c = await startedOn({ dataDir: dir })
    const id = idOwnedBy(c, ['host-1', 'host-2'])
    for (let i = 0; i < 5; i++) await c.actor<Counter>('Counter', id).increment(1)
    // Both owners killed, the cluster stopped before the supervisor restarts them (as a crash of
    // the whole process would): the view-hosts note listed only host-0 and host-3, so the next
    // start ran those (and added host-4, host-5), never the journals holding the 5.
    const killed = Promise.all([c.kill('host-1'), c.kill('host-2')])
    await until(() => c.view.paused !== undefined, 'a paused view')
    await c.stop()
    await killed
    const again = await startedOn({ dataDir: dir })
    expect(await again.actor<Counter>('Counter', id).get()).toBe(5)
  })

  test('one_for_all: siblings stopped to be restarted on their disks are waited for', async () => {
    const c = await startedOn({ dataDir: dataDir(), supervision: { strategy: 'one_for_all' } })
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
    const c = await startedOn({ dataDir: dataDir(), hangTimeoutMs: 1000, limits: { replicationRetryMs: 1000, callTimeoutMs: 10_000 } })
    const id = idOwnedBy(c, ['host-1', 'host-2'])
    for (let i = 0; i < 5; i++) await c.actor<Counter>('Counter', id).increment(1)
    await Promise.all([c.kill('host-1'), c.kill('host-2')])
    expect(c.view.paused?.length).toBeGreaterThan(0)
    expect(await c.actor<Counter>('Counter', id).get()).toBe(5)
    expect(c.view.paused).toBeUndefined()
  }, 30_000)
})
