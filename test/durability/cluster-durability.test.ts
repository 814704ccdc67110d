import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { Cluster, isTroupeError } from '../../index.ts'
import { Account, Counter, Ledger, LocalCounter, Payer } from '../fixtures/actors.ts'

const actors = new URL('../fixtures/actors.ts', import.meta.url)
const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-durability-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('journaled actors on real workers and files', () => {
  test('a cluster restarted on the same dataDir recovers every actor', async () => {
    const dataDir = tempDir()
    const first = await Cluster.start({ actors, hosts: 3, dataDir })
    const expected = new Map<string, number>()
    await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      const counter = first.actor(Counter, `c${i}`)
      let value = 0
      for (let j = 0; j <= i % 5; j++) value = await counter.increment(i + 1)
      expected.set(`c${i}`, value)
    }))
    await first.actor(Ledger, 'book').record('rent', 900, 1_700_000_000_000)
    await first.stop()

    const second = await Cluster.start({ actors, hosts: 3, dataDir })
    try {
      for (const [id, value] of expected) expect(await second.actor(Counter, id).get()).toBe(value)
      const book = await second.actor(Ledger, 'book').snapshot()
      expect(book.entries).toEqual([{ at: new Date(1_700_000_000_000), amount: 900 }])
      expect(book.tags).toEqual(new Set(['rent']))
      expect(book.totals).toEqual(new Map([['rent', 900]]))
      expect(await second.actor(Counter, 'c0').increment(1)).toBe(expected.get('c0')! + 1)
    } finally {
      await second.stop()
    }
  })
})

describe('failover to a warm backup', () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await Cluster.start({ actors, hosts: 4 })
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  test('killing the primary right after an ack loses nothing: the new primary answers', async () => {
    const acked = new Map<string, number>()
    await Promise.all(Array.from({ length: 100 }, async (_, i) => {
      acked.set(`k${i}`, await cluster.actor(Counter, `k${i}`).increment(i + 1))
    }))
    const victim = cluster.ownerOf(Counter, 'k0')!
    const backup = cluster.ownersOf(Counter, 'k0')[1]
    await cluster.kill(victim)
    expect(cluster.view.hosts).not.toContain(victim)
    expect(cluster.ownerOf(Counter, 'k0')).toBe(backup)
    for (const [id, value] of acked) expect(await cluster.actor(Counter, id).get()).toBe(value)
    expect(await cluster.actor(Counter, 'k0').increment(1)).toBe(acked.get('k0')! + 1)
    const hosts = await cluster.hosts()
    expect(hosts.find((h) => h.id === victim)!.state).toBe('down')
  })

  test('calls in flight while the primary dies complete on the new primary, each exactly once', async () => {
    const counter = cluster.actor(Counter, 'busy')
    await counter.increment(0)
    const victim = cluster.ownerOf(Counter, 'busy')!
    const inFlight = Array.from({ length: 200 }, () => counter.increment(1))
    await cluster.kill(victim)
    const results = await Promise.allSettled(inFlight)
    const ok = results.filter((r) => r.status === 'fulfilled').length
    for (const r of results) if (r.status === 'rejected') expect(isTroupeError(r.reason)).toBe(true)
    const final = await counter.get()
    // Every acknowledged increment is there; an unacknowledged one may or may not be.
    expect(final).toBeGreaterThanOrEqual(ok)
    expect(final).toBeLessThanOrEqual(200)
  })
})

describe('turns and the journal through real workers', () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await Cluster.start({ actors, hosts: 3 })
  })
  afterAll(async () => {
    await cluster?.stop()
  })
  afterEach(() => undefined)

  test('a turn that throws leaves the state exactly as it was', async () => {
    const ledger = cluster.actor(Ledger, 'atomic')
    await ledger.record('food', 12, 0)
    const before = await ledger.snapshot()
    const error = await ledger.recordThenFail('oops').catch((e: unknown) => e)
    expect(isTroupeError(error, 'ActorFailed')).toBe(true)
    expect(await ledger.snapshot()).toEqual(before)
  })

  test('a transfer whose deposit fails keeps the withdrawn money', async () => {
    const payer = cluster.actor(Payer, 'atomic-from')
    const error = await payer.pay('ClosedAccount', 'shut', 30).catch((e: unknown) => e)
    expect(isTroupeError(error, 'ActorFailed')).toBe(true)
    expect((error as Error).message).toBe('this account is closed')
    expect(await payer.balance()).toBe(100)
    expect(await payer.pay('Account', 'open', 30)).toBe(70)
    expect(await cluster.actor(Account, 'open').balance()).toBe(30)
  })

  test('replacing the whole state is journaled like any change', async () => {
    const ledger = cluster.actor(Ledger, 'renamed')
    await ledger.rename('ada')
    expect((await ledger.snapshot()).meta.owner).toBe('ada')
  })

  test('a value that cannot be journaled is refused with Unjournalable and changes nothing', async () => {
    const ledger = cluster.actor(Ledger, 'bad-value')
    const error = await ledger.keepAFunction().catch((e: unknown) => e)
    expect(isTroupeError(error, 'Unjournalable')).toBe(true)
    expect((await ledger.snapshot()).meta).toEqual({ owner: 'nobody', version: 0 })
  })

  test('a request id repeated by the caller takes effect once', async () => {
    const first = await cluster.call('Counter/idem', 'increment', [5], { requestId: 'order-42' })
    const again = await cluster.call('Counter/idem', 'increment', [5], { requestId: 'order-42' })
    expect(first).toBe(5)
    expect(again).toBe(5)
    expect(await cluster.actor(Counter, 'idem').get()).toBe(5)
    const hosts = await cluster.hosts()
    expect(hosts.reduce((n, h) => n + h.dedupedCalls, 0)).toBeGreaterThanOrEqual(1)
  })

  test('an actor type may choose its consistency level', async () => {
    expect(await cluster.actor(LocalCounter, 'l').increment()).toBe(1)
  })
})

describe('Cluster.start durability options with bad input', () => {
  test.each([
    ['replicas negative', { replicas: -1 }],
    ['replicas not an integer', { replicas: 1.5 }],
    ['unknown consistency', { consistency: 'eventual' }],
    ['dataDir empty', { dataDir: '' }],
  ])('%s gives InvalidArgument', async (_name, extra) => {
    const error = await Cluster.start({ actors, hosts: 1, ...(extra as object) }).catch((e: unknown) => e)
    expect(isTroupeError(error, 'InvalidArgument')).toBe(true)
  })
})
