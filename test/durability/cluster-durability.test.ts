import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { Cluster, isTroupeError, type ClusterEvent } from '../../index.ts'
import { Account, Counter, Ledger, Payer } from '../fixtures/actors.ts'
import { segmentFile } from '../../runtime/journal/segment-log.ts'

const actors = new URL('../fixtures/actors.ts', import.meta.url)
/** Built JavaScript actors (Counter, LocalCounter, Tally, Stall): a worker starts them far faster than TypeScript. */
const durableActors = new URL('../fixtures/durable/actors.js', import.meta.url)
/** Built JavaScript actors (Counter, Account): a worker loads them fastest. */
const examples = new URL('../../dist/actors/examples/index.js', import.meta.url)
const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-durability-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

async function until(condition: () => boolean | Promise<boolean>, what: string, attempts = 1000): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await condition()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`never happened: ${what}`)
}

/** An actor id whose owners (primary first) start with `hosts`. */
function idOn(cluster: Cluster, type: string, hosts: string[], prefix = 'x'): string {
  for (let i = 0; ; i++) {
    const owners = cluster.ownersOf(type, `${prefix}${i}`)
    if (hosts.every((h, j) => owners[j] === h)) return `${prefix}${i}`
  }
}

/** Sends a call (the same request id every time) until it has a definite answer. */
async function untilAnswered<T>(send: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await send()
    } catch (error) {
      if (!isTroupeError(error)) throw error
      if (!['CallTimeout', 'HostUnavailable', 'StaleEpoch', 'MailboxFull', 'ActivationFailed'].includes(error.kind)) throw error
    }
  }
}

interface Stalled {
  /** The directory the stall watches (see `stallOnce` in the durable fixtures). */
  dir: string
  release(): void
  /** Resolves once the stalled thread runs again. */
  finished(): Promise<void>
}

/** Stalls `host`'s thread with a Stall actor whose primary it is, until `release()`. */
async function stallHost(cluster: Cluster, host: string): Promise<Stalled> {
  const stalled = stallDir()
  void cluster.call(`Stall/${idOn(cluster, 'Stall', [host], `stall-${host}-`)}`, 'stall', [stalled.dir]).catch(() => undefined)
  await until(() => existsSync(join(stalled.dir, 'started')), `${host} stalls`)
  return stalled
}

function stallDir(): Stalled {
  const dir = tempDir()
  return {
    dir,
    release: () => writeFileSync(join(dir, 'release'), ''),
    finished: () => until(() => existsSync(join(dir, 'finished')), 'the stalled host runs again'),
  }
}

type Tallied = { host: string; count: number }

describe('journaled actors on real workers and files', () => {
  test("a failed call's error, with its fields and cause, is journaled: a retry after a restart gets the same one back", async () => {
    const dataDir = tempDir()
    const first = await Cluster.start({ actors, hosts: 2, dataDir })
    const error = await first.call('Faulty/fr', 'failRandomly', [], { requestId: 'pay-7' }).catch((e: unknown) => e)
    await first.stop()
    expect(isTroupeError(error, 'ActorFailed')).toBe(true)
    const data = (error as { data: Record<string, unknown> }).data
    expect(data).toMatchObject({ code: 'E_RANDOM', cause: expect.objectContaining({ message: 'the ledger says no' }) })

    const second = await Cluster.start({ actors, hosts: 2, dataDir })
    try {
      const again = await second.call('Faulty/fr', 'failRandomly', [], { requestId: 'pay-7' }).catch((e: unknown) => e)
      expect((again as { data: unknown }).data).toEqual(data)
      const fresh = await second.call('Faulty/fr', 'failRandomly', []).catch((e: unknown) => e)
      expect((fresh as { data: { needed: number } }).data.needed).not.toBe(data.needed)
    } finally {
      await second.stop()
    }
  })

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

describe('a cluster restarted on its dataDir with another number of hosts', () => {
  /** A cluster on a new dataDir that wrote `n` counters (`m0`.., the i-th to i + 1), then stopped. */
  async function writtenAndStopped(hosts: number, replicas: number, n: number): Promise<{ dataDir: string; expected: Map<string, number> }> {
    const dataDir = tempDir()
    const first = await Cluster.start({ actors, hosts, replicas, dataDir })
    const expected = new Map<string, number>()
    await Promise.all(Array.from({ length: n }, async (_, i) => {
      expected.set(`m${i}`, await first.actor(Counter, `m${i}`).increment(i + 1))
    }))
    await first.stop()
    return { dataDir, expected }
  }

  async function expectKept(cluster: Cluster, expected: Map<string, number>): Promise<void> {
    for (const [id, value] of expected) expect(await cluster.actor(Counter, id).get(), `${id} on ${cluster.view.hosts.length} hosts`).toBe(value)
  }

  test('starts the hosts the journals belong to, then scales: fewer and more hosts keep every actor (replicas 1)', async () => {
    const { dataDir, expected } = await writtenAndStopped(4, 1, 120)
    for (const [round, hosts] of [2, 5].entries()) {
      const again = await Cluster.start({ actors, hosts, replicas: 1, dataDir })
      try {
        expect(again.view.hosts).toHaveLength(hosts)
        await expectKept(again, expected)
        for (const [id, value] of expected) expected.set(id, await again.actor(Counter, id).increment(1))
        expect(expected.get('m0')).toBe(2 + round)
      } finally {
        await again.stop()
      }
    }
  })

  test.each([
    // As a torn write would leave it: a part of a list, which must not start host-0 alone.
    ['a damaged note of the hosts is not trusted: the journals\' directories say which hosts start', 'host-0\nhos', 2],
    // A host is noted only once its journal's directory exists: host-7 is a damaged name (host-1's, say).
    ['a note naming a host that has no directory is damaged and not trusted: no host\'s journal is left out', 'host-0\nhost-7\n', 3],
  ])('%s', async (_, note, hosts) => {
    const { dataDir, expected } = await writtenAndStopped(3, 1, 60)
    expect(readFileSync(join(dataDir, 'view-hosts'), 'utf8')).toBe('host-0\nhost-1\nhost-2\n')
    writeFileSync(join(dataDir, 'view-hosts'), note)
    const again = await Cluster.start({ actors, hosts, replicas: 1, dataDir })
    try {
      expect(again.view.hosts).toHaveLength(hosts)
      await expectKept(again, expected)
    } finally {
      await again.stop()
    }
  })

  test('without a note, every host directory holding a journal starts, whatever its number (hosts added over time count past 256)', async () => {
    const dataDir = tempDir()
    // The hosts of a cluster that added and drained hosts for a long time.
    for (const id of ['host-300', 'host-301']) mkdirSync(join(dataDir, id))
    writeFileSync(join(dataDir, 'view-hosts'), 'host-300\nhost-301\n')
    const first = await Cluster.start({ actors, hosts: 2, replicas: 1, dataDir })
    const expected = new Map<string, number>()
    try {
      expect(first.view.hosts).toEqual(['host-300', 'host-301'])
      for (let i = 0; i < 20; i++) expected.set(`m${i}`, await first.actor(Counter, `m${i}`).increment(i + 1))
    } finally {
      await first.stop()
    }
    rmSync(join(dataDir, 'view-hosts'))
    const again = await Cluster.start({ actors, hosts: 2, replicas: 1, dataDir })
    try {
      expect(again.view.hosts).toEqual(['host-300', 'host-301'])
      await expectKept(again, expected)
    } finally {
      await again.stop()
    }
    // More journals than a cluster can start hosts, and no note: refused, saying how to go on.
    rmSync(join(dataDir, 'view-hosts'))
    for (let i = 0; i < 256; i++) {
      mkdirSync(join(dataDir, `host-${i}`))
      writeFileSync(join(dataDir, `host-${i}`, segmentFile(1)), '')
    }
    const error = await Cluster.start({ actors, hosts: 2, replicas: 1, dataDir }).catch((e: unknown) => e)
    expect(isTroupeError(error, 'InvalidArgument'), String(error)).toBe(true)
    expect(String(error)).toMatch(/258 host directories hold journals, more than the 256 hosts a cluster starts: write the hosts of its last view/)
  })

  test('with replicas 0 it is refused (an actor has no other copy to move), and the same count starts', async () => {
    const { dataDir, expected } = await writtenAndStopped(2, 0, 40)
    const error = await Cluster.start({ actors, hosts: 1, replicas: 0, dataDir }).catch((e: unknown) => e)
    expect(isTroupeError(error, 'InvalidArgument')).toBe(true)
    expect((error as Error).message).toMatch(/holds the journals of 2 hosts, and with replicas: 0/)
    const again = await Cluster.start({ actors, hosts: 2, replicas: 0, dataDir })
    try {
      await expectKept(again, expected)
    } finally {
      await again.stop()
    }
  })
})

describe.each([
  ['memory journals', false],
  ['file journals (a fresh dataDir)', true],
])('failover to a warm backup, %s', (_journals, onFiles) => {
  let cluster: Cluster
  let dataDir: string | undefined
  beforeAll(async () => {
    dataDir = onFiles ? mkdtempSync(join(tmpdir(), 'troupe-failover-')) : undefined
    cluster = await Cluster.start({ actors, hosts: 4, dataDir })
  })
  afterAll(async () => {
    await cluster?.stop()
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true })
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
    const n = 200
    const counter = cluster.actor(Counter, 'busy')
    await counter.increment(0)
    const victim = cluster.ownerOf(Counter, 'busy')!
    const send = (i: number): Promise<number> => cluster.call('Counter/busy', 'increment', [1], { requestId: `busy#${i}` }) as Promise<number>
    const inFlight = Array.from({ length: n }, (_, i) => send(i))
    await cluster.kill(victim)
    const results = await Promise.allSettled(inFlight)
    for (const r of results) if (r.status === 'rejected') expect(isTroupeError(r.reason)).toBe(true)
    const acked = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    // An increment's result is the count just after it: each acknowledged increment has its own,
    // between 1 and n, and the count has all of them (an unacknowledged one may or may not be there).
    expect(new Set(acked).size).toBe(acked.length)
    for (const value of acked) expect(value >= 1 && value <= n).toBe(true)
    const final = await counter.get()
    expect(final).toBeGreaterThanOrEqual(Math.max(0, ...acked))
    expect(final).toBeLessThanOrEqual(n)
    // Retried with its own request id, each call that failed completes exactly once; one that
    // succeeded answers its first result again. So the n results are 1..n, once each, and the count is n.
    const all = await Promise.all(results.map((r, i) => (r.status === 'fulfilled' ? r.value : untilAnswered(() => send(i)))))
    expect([...all].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1))
    for (let i = 0; i < n; i += 37) expect(await send(i)).toBe(all[i])
    expect(await counter.get()).toBe(n)
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

  test('one request id sent to two actors is two requests: their turns\' calls to a third actor both take effect', async () => {
    expect(await cluster.call('Payer/alice', 'pay', ['Account', 'shared-payee', 10], { requestId: 'order-1' })).toBe(90)
    expect(await cluster.call('Payer/carol', 'pay', ['Account', 'shared-payee', 20], { requestId: 'order-1' })).toBe(80)
    expect(await cluster.actor(Account, 'shared-payee').balance()).toBe(30)
  })

  test("a caller's request id never meets one the runtime derives or makes: each call takes effect", async () => {
    expect(await cluster.call('Payer/ids', 'pay', ['Account', 'ids', 30], { requestId: 'order-7' })).toBe(70)
    // What a turn's first call was once called ('order-7/0'), and the runtime's own prefix, are a caller's ids like any other, or refused.
    expect(await cluster.call('Account/ids', 'deposit', [5], { requestId: 'order-7/0' })).toBe(35)
    for (const id of ['order-7\u001f0', '~timer:order-7', '~w-1', 'tab\there', '\ud800']) {
      const error = await cluster.call('Account/ids', 'deposit', [5], { requestId: id }).catch((e: unknown) => e)
      expect(isTroupeError(error, 'InvalidArgument'), String(error)).toBe(true)
    }
    expect(await cluster.call('Payer/ids', 'pay', ['Account', 'ids', 30], { requestId: 'order-7' })).toBe(70)
    expect(await cluster.actor(Account, 'ids').balance()).toBe(35)
  })
})

describe('a damaged journal at start', () => {
  test('refuses Cluster.start with the journal\'s own kind (CorruptRecord), naming the host and the segment', async () => {
    const dataDir = tempDir()
    const first = await Cluster.start({ actors: examples, hosts: 1, dataDir })
    await first.actor(Counter, 'damaged').increment(1)
    await first.stop()
    const hostDir = join(dataDir, readdirSync(dataDir).find((name) => name.startsWith('host-'))!)
    // A segment far past the last one: the ones between are missing.
    writeFileSync(join(hostDir, segmentFile(9)), new Uint8Array(64))
    const error = await Cluster.start({ actors: examples, hosts: 1, dataDir }).catch((e: unknown) => e)
    expect(isTroupeError(error, 'CorruptRecord'), String(error)).toBe(true)
    expect(String(error)).toMatch(/host-0 failed to start: .*journal segment 0+2\.seg is missing/)
  })
  test('with replicas 0, a noted host whose journal is gone is refused at start, until its directory is made empty', async () => {
    const dataDir = tempDir()
    const first = await Cluster.start({ actors: examples, hosts: 2, replicas: 0, dataDir })
    const ids = Array.from({ length: 8 }, (_, i) => `only-${i}`)
    for (const id of ids) await first.actor(Counter, id).increment(1)
    const lost = ids.filter((id) => first.ownerOf(Counter, id) === 'host-1')
    await first.stop()
    rmSync(join(dataDir, 'host-1'), { recursive: true })
    const error = await Cluster.start({ actors: examples, hosts: 2, replicas: 0, dataDir }).catch((e: unknown) => e)
    expect(isTroupeError(error, 'InvalidArgument'), String(error)).toBe(true)
    expect(String(error)).toMatch(/the journal of host-1 .* is gone, and with replicas: 0/)
    mkdirSync(join(dataDir, 'host-1'))
    const again = await Cluster.start({ actors: examples, hosts: 2, replicas: 0, dataDir })
    for (const id of ids) expect(await again.actor(Counter, id).get()).toBe(lost.includes(id) ? 0 : 1)
    await again.stop()
  })
})

describe('membership changes and active actors', () => {
  test('addHost resolves once active actors hold their replicas: the old only holder killed at once loses nothing', async () => {
    // No dataDir: the killed host comes back with nothing, so only the new host's copies remain.
    const cluster = await Cluster.start({ actors: examples, hosts: 1, replicas: 1 })
    try {
      const ids = Array.from({ length: 40 }, (_, i) => `joined-${i}`)
      // Each actor active on host-0 (the only host), with records it alone holds.
      for (const id of ids) for (let n = 0; n < 3; n++) await cluster.actor(Counter, id).increment(1)
      const added = await cluster.addHost()
      const stay = ids.filter((id) => cluster.ownerOf(Counter, id) === 'host-0')
      expect(stay.length).toBeGreaterThan(0)
      await cluster.kill('host-0')
      for (const id of ids) expect([id, await untilAnswered(() => cluster.actor(Counter, id).get())]).toEqual([id, 3])
      expect(cluster.view.hosts).toContain(added)
    } finally {
      await cluster.stop()
    }
  })
})

describe('consistency levels on real workers', () => {
  test('local: a host added while increments run keeps every acknowledged one (the new primary reads every backup first)', async () => {
    const cluster = await Cluster.start({ actors: examples, hosts: 3, consistency: 'local' })
    try {
      const keys = 5
      const acked = new Array<number>(keys).fill(0)
      let next = 0
      const writer = async (): Promise<void> => {
        while (next < 600) {
          const n = next++
          for (let attempt = 0; ; attempt++) {
            try {
              await cluster.call(`Counter/local-${n % keys}`, 'increment', [1], { requestId: `local-w${n}` })
              acked[n % keys]!++
              break
            } catch (error) {
              if (attempt > 30) throw error
              await new Promise((resolve) => setTimeout(resolve, 50))
            }
          }
        }
      }
      const added = (async () => {
        await new Promise((resolve) => setTimeout(resolve, 20))
        await cluster.addHost()
      })()
      await Promise.all([added, ...Array.from({ length: 8 }, writer)])
      for (let i = 0; i < keys; i++) expect(await cluster.call(`Counter/local-${i}`, 'get', [])).toBe(acked[i])
    } finally {
      await cluster.stop()
    }
  })

  test('an actor type may choose its consistency level: with a backup stalled, `local` still answers, `strong` waits for the backup', async () => {
    const cluster = await Cluster.start({ actors: durableActors, hosts: 3, dataDir: tempDir(), hangTimeoutMs: 60_000 })
    let stall: Stalled | undefined
    try {
      // host-0 is the primary of both actors, host-1 and host-2 their backups.
      const local = cluster.actor<{ increment(): Promise<number>; get(): Promise<number> }>('LocalCounter', idOn(cluster, 'LocalCounter', ['host-0', 'host-1', 'host-2']))
      const strong = cluster.actor<{ increment(): Promise<number>; get(): Promise<number> }>('Counter', idOn(cluster, 'Counter', ['host-0', 'host-1', 'host-2']))
      expect(await local.increment()).toBe(1)
      expect(await strong.increment()).toBe(1)
      // host-2 still in the view, but answering nothing (not even its supervisor: a long hangTimeoutMs).
      stall = await stallHost(cluster, 'host-2')
      let strongAnswered = false
      const strongWrite = strong.increment().then((value) => {
        strongAnswered = true
        return value
      })
      // Sent after the strong write on the same port to the same primary, the local writes are answered ...
      expect(await local.increment()).toBe(2)
      expect(await local.increment()).toBe(3)
      // ... while the strong one is held back: host-2 has not acknowledged its record.
      expect(strongAnswered).toBe(false)
      stall.release()
      expect(await strongWrite).toBe(2)
      await stall.finished()
      expect(await strong.get()).toBe(2)
      expect(await local.get()).toBe(3)
      expect(cluster.view.epoch).toBe(1)
    } finally {
      stall?.release()
      await cluster.stop()
    }
  })
})

describe('crashes on real worker threads and real files', () => {
  test('a host killed under load is restarted by its supervisor on its own files: every acknowledged write is there', async () => {
    const events: ClusterEvent[] = []
    const cluster = await Cluster.start({ actors: durableActors, hosts: 3, dataDir: tempDir(), limits: { callRetryMs: 200 } })
    cluster.on((e) => events.push(e))
    try {
      const victim = 'host-1'
      // Half of the actors have the victim as primary, the others have it as a backup.
      const onVictim = Array.from({ length: 10 }, (_, i) => idOn(cluster, 'Counter', [victim], `v${i}-`))
      const elsewhere = Array.from({ length: 10 }, (_, i) => idOn(cluster, 'Counter', [i % 2 ? 'host-0' : 'host-2'], `o${i}-`))
      const ids = [...onVictim, ...elsewhere]
      const acked = new Map(ids.map((id) => [id, 0]))
      const wrong: string[] = []
      let stop = false
      // One logical increment after another per actor, each retried with its own request id until
      // answered: the n-th must answer n (none lost, none applied twice).
      const load = ids.map(async (id) => {
        for (let n = 1; !stop; n++) {
          const value = await untilAnswered(() => cluster.call(`Counter/${id}`, 'increment', [1], { requestId: `${id}#${n}` }))
          if (value !== n) wrong.push(`${id}#${n} answered ${String(value)}`)
          acked.set(id, n)
        }
      })
      await until(() => [...acked.values()].every((n) => n >= 3), 'writes before the kill')
      await cluster.kill(victim)
      expect(cluster.view.hosts).not.toContain(victim)
      await until(() => events.some((e) => e.kind === 'restart' && e.host === victim) && cluster.view.hosts.includes(victim), 'the supervisor restarts it and it rejoins')
      // The restarted host is the primary of its actors again, and serves more writes.
      for (const id of onVictim) expect(cluster.ownerOf('Counter', id)).toBe(victim)
      const atRestart = new Map(acked)
      await until(() => ids.every((id) => acked.get(id)! >= atRestart.get(id)! + 3), 'writes after the restart')
      stop = true
      await Promise.all(load)
      expect(wrong).toEqual([])
      for (const id of ids) expect(await cluster.call(`Counter/${id}`, 'get', [])).toBe(acked.get(id))
      expect(await cluster.duplicateActivations()).toEqual([])
      const host = (await cluster.hosts()).find((h) => h.id === victim)!
      expect(host.state).toBe('up')
      expect(host.restarts).toBe(1)
      expect(events.find((e) => e.kind === 'host-down')).toEqual({ kind: 'host-down', host: victim, reason: 'killed' })
    } finally {
      await cluster.stop()
    }
  })

  test('the whole cluster crashes (its process is SIGKILLed mid-load) and restarts on the same dataDir: every acknowledged write is there, none applied twice', async () => {
    const dataDir = tempDir()
    const ackFile = join(tempDir(), 'acks')
    writeFileSync(ackFile, '')
    const keys = 12
    const child = spawn(process.execPath, [fileURLToPath(new URL('./crashing-cluster.mjs', import.meta.url)), dataDir, ackFile, String(keys)], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)))
    try {
      await until(() => child.exitCode !== null || readFileSync(ackFile, 'utf8').split('\n').length > 40 * keys, 'writes acknowledged in the doomed cluster', 3000)
      expect(child.exitCode, stderr).toBeNull()
      child.kill('SIGKILL')
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    expect(await exited).toBe('SIGKILL')
    // Every acknowledgement the dead client got, and nothing else: the last per key is what must be there.
    const last = new Map<string, number>()
    for (const line of readFileSync(ackFile, 'utf8').split('\n').slice(1)) {
      if (line === '') continue
      const [id, n, value] = line.split(' ')
      expect(value).toBe(n)
      expect(Number(n)).toBe((last.get(id!) ?? 0) + 1)
      last.set(id!, Number(n))
    }
    expect(last.size).toBe(keys)

    const cluster = await Cluster.start({ actors: durableActors, hosts: 3, dataDir })
    try {
      for (const [id, n] of last) {
        // The increment in flight at the crash (n + 1) may or may not have been applied ...
        const value = (await cluster.call(`Counter/${id}`, 'get', [])) as number
        expect([n, n + 1]).toContain(value)
        // ... and is applied exactly once when the caller retries it with its request id; the last
        // acknowledged one answers its first result again (the request table survived the crash).
        expect(await cluster.call(`Counter/${id}`, 'increment', [1], { requestId: `${id}#${n + 1}` })).toBe(n + 1)
        expect(await cluster.call(`Counter/${id}`, 'increment', [1], { requestId: `${id}#${n}` })).toBe(n)
        expect(await cluster.call(`Counter/${id}`, 'get', [])).toBe(n + 1)
      }
      expect(await cluster.duplicateActivations()).toEqual([])
    } finally {
      await cluster.stop()
    }
  })
})

describe('fencing on real workers', () => {
  test('a primary whose turn ends after the view moved on gets nothing acknowledged: the new primary answers, each write once, none lost', async () => {
    const cluster = await Cluster.start({ actors: durableActors, hosts: 3, dataDir: tempDir(), hangTimeoutMs: 60_000 })
    const stalled = stallDir()
    try {
      // host-1 is the primary; without it, host-0 is; host-2 is a backup in both views.
      const ids = Array.from({ length: 4 }, (_, i) => idOn(cluster, 'Tally', ['host-1', 'host-0', 'host-2'], `t${i}-`))
      const increment = (id: string, n: number, method = 'increment', args: unknown[] = []): Promise<Tallied> =>
        untilAnswered(() => cluster.call(`Tally/${id}`, method, args, { requestId: `${id}#${n}` }) as Promise<Tallied>)
      for (const id of ids) {
        expect(await increment(id, 1)).toEqual({ host: 'host-1', count: 1 })
        expect(await increment(id, 2)).toEqual({ host: 'host-1', count: 2 })
      }
      // host-1 runs the third increment of ids[0] up to its state change, then stalls inside the
      // turn; the third increments of the others wait in its queue.
      const third = [increment(ids[0]!, 3, 'incrementStalling', [stalled.dir])]
      await until(() => existsSync(join(stalled.dir, 'started')), 'host-1 stalls mid-turn')
      third.push(...ids.slice(1).map((id) => increment(id, 3)))
      const epoch = cluster.view.epoch
      const drained = cluster.drain('host-1')
      await until(() => !cluster.view.hosts.includes('host-1'), 'the view without host-1 is out')
      expect(cluster.view.epoch).toBe(epoch + 1)
      // host-0 takes over while host-1 is still stalled: it answers every third increment, once.
      expect(await Promise.all(third)).toEqual(ids.map(() => ({ host: 'host-0', count: 3 })))
      // host-1 wakes up and ends its turn: a record of count 3 for ids[0], stamped with the old
      // epoch, after the view without it went out. Nothing of it may count.
      stalled.release()
      await stalled.finished()
      await drained
      for (const id of ids) {
        expect(await cluster.call(`Tally/${id}`, 'get', [])).toBe(3)
        // A retry of the third increment answers what host-0 answered; the fourth is the fourth.
        expect(await increment(id, 3)).toEqual({ host: 'host-0', count: 3 })
        expect(await increment(id, 4)).toEqual({ host: 'host-0', count: 4 })
      }
      expect(await cluster.duplicateActivations()).toEqual([])
    } finally {
      stalled.release()
      await cluster.stop()
    }
  })

  test('writes racing with addHost and drain: none lost, none applied twice, each answered by the primary of its view', async () => {
    const cluster = await Cluster.start({ actors: durableActors, hosts: 3, dataDir: tempDir(), limits: { callRetryMs: 200 } })
    try {
      const ids = Array.from({ length: 24 }, (_, i) => `r${i}`)
      const before = new Map(ids.map((id) => [id, cluster.ownerOf('Tally', id)!]))
      const answers = new Map<string, Tallied[]>(ids.map((id) => [id, []]))
      let stop = false
      const load = ids.map(async (id) => {
        for (let n = 1; !stop; n++) {
          answers.get(id)!.push(await untilAnswered(() => cluster.call(`Tally/${id}`, 'increment', [], { requestId: `${id}#${n}` }) as Promise<Tallied>))
        }
      })
      // Every key gets writes answered in each phase.
      const progress = async (what: string): Promise<void> => {
        const from = new Map(ids.map((id) => [id, answers.get(id)!.length]))
        await until(() => ids.every((id) => answers.get(id)!.length >= from.get(id)! + 2), what)
      }
      await progress('writes before')
      const added = await cluster.addHost()
      await progress('writes after the join')
      await cluster.drain('host-0')
      await progress('writes after the drain')
      stop = true
      await Promise.all(load)
      expect(cluster.view.hosts).toEqual(['host-1', 'host-2', added])
      for (const id of ids) {
        const got = answers.get(id)!
        // Each write applied once, none lost: the n-th answered n, and the count is the last.
        expect(got.map((a) => a.count)).toEqual(got.map((_, i) => i + 1))
        expect(await cluster.call(`Tally/${id}`, 'get', [])).toBe(got.length)
        // A join moves a key only to the new host, a drain only off the drained one: each key has
        // had at most two primaries, its first then its last, and never went back. An answer from
        // a host after another had taken over would be a write acknowledged by a stale primary.
        const hosts = got.map((a) => a.host).filter((h, i, all) => i === 0 || all[i - 1] !== h)
        const after = cluster.ownerOf('Tally', id)!
        expect(hosts).toEqual(before.get(id) === after ? [after] : [before.get(id), after])
      }
      expect(await cluster.duplicateActivations()).toEqual([])
    } finally {
      await cluster.stop()
    }
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
