import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { Actor } from '../../actors/actor.ts'
import { ClusterClient } from '../../runtime/client.ts'
import type { Consistency } from '../../runtime/durability/consistency.ts'
import { isTroupeError } from '../../runtime/errors.ts'
import { loadPointHasher } from '../../runtime/hash.ts'
import { Host } from '../../runtime/host.ts'
import { FileJournalStorage } from '../../runtime/journal/file-storage.ts'
import { MemoryJournalStorage } from '../../runtime/journal/memory-storage.ts'
import type { JournalStorage } from '../../runtime/journal/storage.ts'
import { seededRandom } from '../../runtime/random.ts'
import { ActorRegistry } from '../../runtime/registry.ts'
import { Placement } from '../../runtime/ring.ts'
import { SimulatedClock } from '../../runtime/simulated-clock.ts'
import type { View } from '../../runtime/view.ts'
import { MemoryNetwork } from '../../transport/memory.ts'
import { SimulatedNetwork } from '../../transport/simulated.ts'
import { faultyFs } from '../journal/faulty-fs.ts'
import { loadFromJournal } from '../../runtime/durability/replica-store.ts'

class Tally extends Actor<{ n: number }> {
  static readOnly = ['peek']
  initialState() {
    return { n: 0 }
  }
  add(by: number) {
    this.state.n += by
    return this.state.n
  }
  get() {
    return this.state.n
  }
  peek() {
    return this.state.n
  }
}

const hostIds = ['h0', 'h1', 'h2', 'h3']
const limits = { callTimeoutMs: 60_000, callRetryMs: 60_000 }

/** Four hosts and a client on a simulated network and clock (no faults unless a test adds them). */
async function simWorld(consistency: Consistency = 'strong', view: View = { epoch: 1, hosts: hostIds }, duplicateProbability = 0) {
  const hasher = await loadPointHasher()
  const clock = new SimulatedClock()
  const network = new SimulatedNetwork({ clock, random: seededRandom(7), delayMsMin: 1, delayMsMax: 1, reorder: false, duplicateProbability })
  const registry = new ActorRegistry()
  registry.register(Tally)
  const storages = new Map<string, MemoryJournalStorage>()
  const hosts = hostIds.map((id) => {
    const storage = new MemoryJournalStorage()
    storages.set(id, storage)
    return new Host({ id, transport: network.connect(id), registry, hasher, view, clock, random: seededRandom(id.length), consistency, storage, limits })
  })
  const client = new ClusterClient({ id: 'client', transport: network.connect('client'), hasher, view, clock, random: seededRandom(99), limits })
  const placement = Placement.build(view, client.limits, hasher)
  return { hosts, client, network, clock, storages, placement, hasher }
}

/** Settles a promise on simulated time, or reports that it is still pending. */
async function within<T>(clock: SimulatedClock, ms: number, promise: Promise<T>): Promise<{ done: true; value: T } | { done: false }> {
  let outcome: { done: true; value: T } | undefined
  let failure: unknown
  promise.then((value) => { outcome = { done: true, value } }, (error: unknown) => { failure = error })
  await clock.runFor(ms)
  if (failure !== undefined) throw failure
  return outcome ?? { done: false }
}

describe('the output gate', () => {
  test('strong: a reply waits until every backup holds the record, then goes out once they do', async () => {
    const { client, network, clock, placement } = await simWorld('strong')
    const [primary, b1, b2] = placement.owners('Tally/g', 3)
    network.partition([primary!], [b2!])
    const pending = within(clock, 2000, client.actor(Tally, 'g').add(5))
    expect((await pending).done).toBe(false)
    network.heal()
    // The primary ships again what the backup never acknowledged.
    const later = await within(clock, 2000, client.callKey('Tally/g', 'get', []))
    expect(later).toEqual({ done: true, value: 5 })
    void b1
  })

  test('strong: a read-only call that sees a record not durable yet is held back until it is', async () => {
    const { client, network, clock, placement } = await simWorld('strong')
    const [primary, , b2] = placement.owners('Tally/rg', 3)
    expect(await within(clock, 500, client.actor(Tally, 'rg').add(1))).toEqual({ done: true, value: 1 })
    network.partition([primary!], [b2!])
    const write = client.actor(Tally, 'rg').add(5)
    expect((await within(clock, 500, write)).done).toBe(false)
    // The read runs against the state with the write in it: answered now, it would show a write
    // that a failover could still lose.
    const read = client.actor(Tally, 'rg').peek()
    expect((await within(clock, 500, read)).done).toBe(false)
    network.heal()
    expect(await within(clock, 2000, read)).toEqual({ done: true, value: 6 })
    expect(await within(clock, 0, write)).toEqual({ done: true, value: 6 })
  })

  test('quorum: once the actor is active, one backup of two is enough', async () => {
    const { client, network, clock, placement } = await simWorld('quorum')
    const [primary, , b2] = placement.owners('Tally/q', 3)
    // Activation's recovery read asks every backup (a new primary cannot tell which held the quorum).
    expect(await within(clock, 500, client.actor(Tally, 'q').add(1))).toEqual({ done: true, value: 1 })
    network.partition([primary!], [b2!])
    expect(await within(clock, 500, client.actor(Tally, 'q').add(2))).toEqual({ done: true, value: 3 })
  })

  test('local: once the actor is active, no backup is needed; its activation reads every backup', async () => {
    const { client, network, clock, placement } = await simWorld('local')
    const [primary, b1, b2] = placement.owners('Tally/l', 3)
    // A new primary cannot tell whether the old one acknowledged records no backup holds yet.
    network.partition([primary!], [b1!, b2!])
    expect((await within(clock, 500, client.actor(Tally, 'l').add(3))).done).toBe(false)
    network.heal()
    expect(await within(clock, 2000, client.actor(Tally, 'l').add(0))).toEqual({ done: true, value: 3 })
    network.partition([primary!], [b1!, b2!])
    expect(await within(clock, 500, client.actor(Tally, 'l').add(4))).toEqual({ done: true, value: 7 })
  })

  test('per call: a weaker level answers while a backup is cut off, the type\'s level waits, and both are journaled and replicated', async () => {
    const { client, network, clock, placement } = await simWorld('strong')
    const [primary, , b2] = placement.owners('Tally/pc', 3)
    // Activated while every owner answers.
    expect(await within(clock, 500, client.actor(Tally, 'pc').add(1))).toEqual({ done: true, value: 1 })
    network.partition([primary!], [b2!])
    const local = client.actor(Tally, 'pc', { consistency: 'local' })
    const quorum = client.actor(Tally, 'pc', { consistency: 'quorum' })
    const strong = within(clock, 1000, client.actor(Tally, 'pc').add(10))
    expect((await strong).done).toBe(false)
    // Its own journal is enough for a `local` call, one backup of two for a `quorum` one.
    expect(await within(clock, 500, local.add(100))).toEqual({ done: true, value: 111 })
    expect(await within(clock, 500, quorum.add(1000))).toEqual({ done: true, value: 1111 })
    // `memory` answers once the turn ran.
    expect(await within(clock, 50, client.callKey('Tally/pc', 'add', [1], { consistency: 'memory' }))).toEqual({ done: true, value: 1112 })
    network.heal()
    // The cut-off backup gets every record: the strong call is answered, and every owner holds all four.
    const read = await within(clock, 3000, client.actor(Tally, 'pc', { consistency: 'strong' }).get())
    expect(read).toEqual({ done: true, value: 1112 })
  })

  test('per call: a stronger level waits for every backup on a local type', async () => {
    const { client, network, clock, placement } = await simWorld('local')
    const [primary, , b2] = placement.owners('Tally/ps', 3)
    expect(await within(clock, 500, client.actor(Tally, 'ps').add(1))).toEqual({ done: true, value: 1 })
    network.partition([primary!], [b2!])
    expect(await within(clock, 500, client.actor(Tally, 'ps').add(2))).toEqual({ done: true, value: 3 })
    const strong = within(clock, 1500, client.actor(Tally, 'ps', { consistency: 'strong' }).add(4))
    expect((await strong).done).toBe(false)
    network.heal()
    // The primary ships again what the cut-off backup has not acknowledged; the strong call goes out then.
    expect(await within(clock, 3000, client.actor(Tally, 'ps').get())).toEqual({ done: true, value: 7 })
  })

  test('a read that follows an unacknowledged write is held back too', async () => {
    const { client, network, clock, placement } = await simWorld('strong')
    const [primary, b1] = placement.owners('Tally/r', 3)
    network.partition([primary!], [b1!])
    const tally = client.actor(Tally, 'r')
    const write = within(clock, 500, tally.add(1))
    const read = within(clock, 500, tally.get())
    expect((await write).done).toBe(false)
    expect((await read).done).toBe(false)
  })
})

/**
 * Writes three adds to `Tally/<id>`, then works out the view without its primary: the backup that
 * takes over, and `joined`, the host new to the actor's owners in that view (published by `failOver`).
 */
async function threeAddsThenPlan(world: Awaited<ReturnType<typeof simWorld>>, id: string) {
  const { client, clock, placement, hasher, hosts } = world
  const tally = client.actor(Tally, id)
  for (let i = 1; i <= 3; i++) expect((await within(clock, 100, tally.add(1))).done).toBe(true)
  const [primary, backup, other] = placement.owners(`Tally/${id}`, 3)
  const next: View = { epoch: 2, hosts: hostIds.filter((h) => h !== primary) }
  const [newPrimary, ...newBackups] = Placement.build(next, client.limits, hasher).owners(`Tally/${id}`, 3)
  expect(newPrimary).toBe(backup)
  expect(newBackups).toContain(other)
  const failOver = (): void => {
    for (const host of hosts) if (host.id !== primary) host.setView(next)
    client.setView(next)
  }
  return { tally, joined: newBackups.find((h) => h !== other)!, failOver }
}

describe('warm failover and fencing', () => {
  test('a backup that answers it holds more records than the primary makes the primary step down', async () => {
    const { hosts, client, network, clock, placement } = await simWorld('strong')
    const [primaryId, b1, b2] = placement.owners('Tally/ahead', 3)
    const primary = hosts[hostIds.indexOf(primaryId!)]!
    expect(await within(clock, 500, client.actor(Tally, 'ahead').add(1))).toEqual({ done: true, value: 1 })
    network.partition([primaryId!], [b2!])
    const write = client.actor(Tally, 'ahead').add(5)
    expect((await within(clock, 200, write)).done).toBe(false)
    // b1 holds another history, further than this primary's: another primary wrote meanwhile.
    primary.receive(b1!, { v: 1, t: 'replicated', id: 'x~1', key: 'Tally/ahead', seq: 50, status: 'resync' })
    expect(primary.activeKeys()).not.toContain('Tally/ahead')
  })

  test('when the primary leaves the view, its backup answers from its warm replica', async () => {
    const { hosts, client, clock, placement } = await simWorld('strong')
    const tally = client.actor(Tally, 'w')
    for (let i = 1; i <= 5; i++) expect((await within(clock, 100, tally.add(1))).done).toBe(true)
    const [primary, backup] = placement.owners('Tally/w', 2)
    const next: View = { epoch: 2, hosts: hostIds.filter((h) => h !== primary) }
    for (const host of hosts) if (host.id !== primary) host.setView(next)
    client.setView(next)
    const newPrimary = hosts.find((h) => h.id === backup)!
    expect(newPrimary.stats().replicas).toBeGreaterThan(0)
    expect(await within(clock, 200, tally.get())).toEqual({ done: true, value: 5 })
    expect(newPrimary.activeKeys()).toContain('Tally/w')
  })

  test('a takeover costs one round trip: the recovery read carries the new primary\'s copy, which a new backup stores before it answers', async () => {
    const world = await simWorld('strong')
    const { tally, joined, failOver } = await threeAddsThenPlan(world, 'o')
    failOver()
    // Every hop takes 1 ms: call, fetch, answer, reply. A separate resync of the new backup would add two more.
    expect(await within(world.clock, 4, tally.get())).toEqual({ done: true, value: 3 })
    expect((await world.storages.get(joined)!.readSnapshot('Tally/o'))?.seq).toBe(3)
  })

  test('a backup taking over answers nothing until every backup of the new view holds the history it recovered (its sync point)', async () => {
    const world = await simWorld('strong')
    const { clock, storages } = world
    const { tally, joined, failOver } = await threeAddsThenPlan(world, 't')
    // The host new to the key's owners answers the recovery read (it holds nothing) but cannot
    // store what it is sent until released: it never acknowledges meanwhile.
    const storage = storages.get(joined)!
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    const { installSnapshot, append } = storage
    storage.installSnapshot = async (...args) => { await released; return installSnapshot.apply(storage, args) }
    storage.append = async (...args) => { await released; return append.apply(storage, args) }
    failOver()
    // The surviving backup holds the same history, but the host new to the key must hold it too
    // before anything is answered: the history keeps its full replication factor from the start.
    const read = within(clock, 500, tally.get())
    expect((await read).done).toBe(false)
    release()
    expect(await within(clock, 2000, tally.add(1))).toEqual({ done: true, value: 4 })
  })

  test('a backup that comes back without its disk into the same view (faster than any view change) is given back what it held', async () => {
    const world = await simWorld('strong')
    const { hosts, client, clock, placement, network, hasher } = world
    const tally = client.actor(Tally, 'r')
    for (let i = 1; i <= 3; i++) expect((await within(clock, 100, tally.add(1))).done).toBe(true)
    const backup = placement.owners('Tally/r', 2)[1]!
    const index = hosts.findIndex((h) => h.id === backup)
    // A crash that loses the disk: the transport goes, and the host restarts empty in view 1.
    await within(clock, 100, hosts[index]!.stop())
    const storage = new MemoryJournalStorage()
    const registry = new ActorRegistry()
    registry.register(Tally)
    hosts[index] = new Host({ id: backup, transport: network.connect(backup), registry, hasher, view: { epoch: 1, hosts: hostIds }, clock, random: seededRandom(3), consistency: 'strong', storage, limits, restartedWithoutState: true })
    await clock.runFor(1000)
    expect((await loadFromJournal(storage, 'Tally/r', 16, undefined)).seq).toBe(3)
  })

  test('a backup that comes back without its disk while its primary is cut off is given what it held by the other backup', async () => {
    const world = await simWorld('strong')
    const { hosts, client, clock, placement, network, hasher } = world
    const tally = client.actor(Tally, 'u')
    for (let i = 1; i <= 3; i++) expect((await within(clock, 100, tally.add(1))).done).toBe(true)
    const [primary, , backup] = placement.owners('Tally/u', 3)
    const index = hosts.findIndex((h) => h.id === backup)
    await within(clock, 100, hosts[index]!.stop())
    // The primary is down as far as the others can tell (no view has said so yet): it refills nobody.
    network.partition([primary!], hostIds.filter((h) => h !== primary))
    const storage = new MemoryJournalStorage()
    const registry = new ActorRegistry()
    registry.register(Tally)
    hosts[index] = new Host({ id: backup!, transport: network.connect(backup!), registry, hasher, view: { epoch: 1, hosts: hostIds }, clock, random: seededRandom(3), consistency: 'strong', storage, limits, restartedWithoutState: true })
    await clock.runFor(1000)
    expect((await loadFromJournal(storage, 'Tally/u', 16, undefined)).seq).toBe(3)
  })

  test("a stale primary's write is fenced by its backups: it steps down, learns the view, and the write lands once on the new primary", async () => {
    const { hosts, client, clock, placement } = await simWorld('strong')
    const tally = client.actor(Tally, 'f')
    expect(await within(clock, 100, tally.add(10))).toEqual({ done: true, value: 10 })
    const [primary] = placement.owners('Tally/f', 1)
    const stalePrimary = hosts.find((h) => h.id === primary)!
    // Everyone but the old primary (and the client) moves to epoch 2, where it is gone.
    const next: View = { epoch: 2, hosts: hostIds.filter((h) => h !== primary) }
    for (const host of hosts) if (host !== stalePrimary) host.setView(next)
    const write = await within(clock, 3000, tally.add(1000))
    expect(stalePrimary.stats().fencedWrites).toBeGreaterThan(0)
    expect(stalePrimary.view.epoch).toBe(2)
    expect(client.view.epoch).toBe(2)
    // Acknowledged once, by the new primary: the fenced attempt left no trace.
    expect(write).toEqual({ done: true, value: 1010 })
    expect(await within(clock, 200, tally.get())).toEqual({ done: true, value: 1010 })
  })
})

describe('exactly-once', () => {
  test('duplicated call envelopes run their turn once', async () => {
    const { client, clock, hosts } = await simWorld('strong', undefined, 1)
    const tally = client.actor(Tally, 'dup')
    for (let i = 0; i < 10; i++) expect(await within(clock, 100, tally.add(1))).toEqual({ done: true, value: i + 1 })
    expect(await within(clock, 100, tally.get())).toEqual({ done: true, value: 10 })
    expect(hosts.reduce((n, h) => n + h.stats().dedupedCalls, 0)).toBeGreaterThan(0)
  })
})

/** Counts its activations in its state: every activation journals a record. */
class Waker extends Actor<{ wakes: number }> {
  initialState() {
    return { wakes: 0 }
  }
  onActivate() {
    this.state.wakes++
  }
  wakes() {
    return this.state.wakes
  }
}

describe('storage failures', () => {
  const dirs: string[] = []
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  /** One host (`local`, no replicas) journaling to files on a disk that can fill up, and a client. */
  async function soloOnDisk(type: typeof Tally | typeof Waker, onEscalate?: (reason: string) => void) {
    const hasher = await loadPointHasher()
    const network = new MemoryNetwork()
    const registry = new ActorRegistry()
    registry.register(type)
    const view: View = { epoch: 1, hosts: ['solo'] }
    const dir = mkdtempSync(join(tmpdir(), 'troupe-full-'))
    dirs.push(dir)
    const { fs, plan } = faultyFs()
    const storage: JournalStorage = await FileJournalStorage.open({ dir, fs })
    const host = new Host({ id: 'solo', transport: network.connect('solo'), registry, hasher, view, storage, consistency: 'local', replicas: 0, onEscalate })
    const client = new ClusterClient({ id: 'client', transport: network.connect('client'), hasher, view })
    return { host, client, plan }
  }

  test('a full disk refuses the write with StorageFull, acknowledges nothing, and the actor recovers', async () => {
    const { host, client, plan } = await soloOnDisk(Tally)
    const tally = client.actor(Tally, 'disk')
    expect(await tally.add(1)).toBe(1)
    plan.diskFull = true
    const error = await tally.add(100).catch((e: unknown) => e)
    expect(isTroupeError(error, 'StorageFull')).toBe(true)
    plan.diskFull = false
    // The failed turn's state was never acknowledged; the actor reloads what is durable.
    expect(await tally.get()).toBe(1)
    expect(await tally.add(1)).toBe(2)
    await host.stop()
  })

  test('activations a full disk refuses answer StorageFull and never count as failures: the host does not give up', async () => {
    const escalations: string[] = []
    const { host, client, plan } = await soloOnDisk(Waker, (why) => escalations.push(why))
    plan.diskFull = true
    // More than the activation supervisor's intensity (5 in 5 s), on several actors.
    for (let i = 0; i < 8; i++) {
      const error = await client.actor(Waker, `w${i % 3}`).wakes().catch((e: unknown) => e)
      expect(isTroupeError(error, 'StorageFull'), String(error)).toBe(true)
    }
    expect(escalations).toEqual([])
    plan.diskFull = false
    expect(await client.actor(Waker, 'w0').wakes()).toBe(1)
    await host.stop()
  })
})



class Purse extends Actor<{ balance: number }> {
  initialState() {
    return { balance: 100 }
  }
  deposit(amount: number) {
    this.state.balance += amount
    return this.state.balance
  }
  async send(to: string, amount: number) {
    if (this.state.balance < amount) throw new RangeError('insufficient funds')
    this.state.balance -= amount
    await this.actor(Purse, to).deposit(amount)
    return this.state.balance
  }
  balance() {
    return this.state.balance
  }
}

describe('a full disk at strong consistency', () => {
  const dirs: string[] = []
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  /** Host a journals to files on a disk that can fill up, hosts b and c to memory; each actor has one backup. */
  async function threeHosts(onEscalate?: (reason: string) => void) {
    const hasher = await loadPointHasher()
    const network = new MemoryNetwork()
    const registry = new ActorRegistry()
    registry.register(Purse)
    const view: View = { epoch: 1, hosts: ['a', 'b', 'c'] }
    const dir = mkdtempSync(join(tmpdir(), 'troupe-full-strong-'))
    dirs.push(dir)
    const { fs, plan } = faultyFs()
    const limits = { replicationRetryMs: 20, callRetryMs: 200 }
    const storageOf = async (id: string): Promise<JournalStorage> => id === 'a' ? FileJournalStorage.open({ dir, fs }) : new MemoryJournalStorage()
    const hosts = await Promise.all(view.hosts.map(async (id) => new Host({ id, transport: network.connect(id), registry, hasher, view, storage: await storageOf(id), consistency: 'strong', replicas: 1, limits, ...(id === 'a' && onEscalate ? { onEscalate } : {}) })))
    const client = new ClusterClient({ id: 'client', transport: network.connect('client'), hasher, view, limits })
    const placement = Placement.build(view, client.limits, hasher)
    /** An id whose primary and backup are these hosts. */
    const idOn = (primary: string, backup: string, prefix: string): string => {
      for (let i = 0; ; i++) if (placement.owners(`Purse/${prefix}${i}`, 2).join() === `${primary},${backup}`) return `${prefix}${i}`
    }
    return { hosts, client, plan, idOn }
  }

  /** Calls until a definite answer, always with the same request id (what a caller does with an unknown outcome). */
  async function untilDefinite(call: () => Promise<unknown>): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await call().then((value) => ({ value }), (error: unknown) => ({ error }))
      if ('value' in outcome) return outcome.value
      const unknownOutcome = isTroupeError(outcome.error) && ['StorageFull', 'StorageFailed', 'HostUnavailable', 'CallTimeout'].includes(outcome.error.kind)
      if (!unknownOutcome || attempt > 40) throw outcome.error
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  test('a write the primary could not journal may have reached its backup: StorageFull leaves the outcome unknown, and a retry with its id answers it once', async () => {
    const { hosts, client, plan, idOn } = await threeHosts()
    const key = `Purse/${idOn('a', 'b', 'p')}`
    expect(await client.callKey(key, 'deposit', [1])).toBe(101)
    plan.diskFull = true
    const error = await client.callKey(key, 'deposit', [10], { requestId: 'dep-10' }).catch((e: unknown) => e)
    expect(isTroupeError(error, 'StorageFull')).toBe(true)
    plan.diskFull = false
    // The backup kept the record: the retry learns that it took effect, and it takes effect once.
    const answer = await untilDefinite(() => client.callKey(key, 'deposit', [10], { requestId: 'dep-10' }))
    const balance = await client.callKey(key, 'balance', [])
    expect([101, 111]).toContain(balance)
    expect(answer).toBe(balance)
    expect(await untilDefinite(() => client.callKey(key, 'deposit', [10], { requestId: 'dep-10' }))).toBe(answer)
    expect(await client.callKey(key, 'balance', [])).toBe(balance)
    await Promise.all(hosts.map((h) => h.stop()))
  })

  test('a failed fdatasync breaks the journal for good: its host gives up once (as primary and as backup) so a replacement opens it afresh; a full disk does not', async () => {
    const escalations: string[] = []
    const { hosts, client, plan, idOn } = await threeHosts((reason) => escalations.push(reason))
    // As primary: a's disk fills, then fails a sync.
    const onA = `Purse/${idOn('a', 'b', 'p')}`
    plan.diskFull = true
    expect(isTroupeError(await client.callKey(onA, 'deposit', [1]).catch((e: unknown) => e), 'StorageFull')).toBe(true)
    plan.diskFull = false
    expect(escalations).toEqual([]) // a full disk may drain: no reason to give up
    // (The refused write may still take effect: its backup holds it. Either way, writes go on.)
    expect([101, 102]).toContain(await untilDefinite(() => client.callKey(onA, 'deposit', [1], { requestId: 'one' })))
    plan.syncError = 'EIO'
    expect(isTroupeError(await client.callKey(onA, 'deposit', [1]).catch((e: unknown) => e), 'StorageFailed')).toBe(true)
    expect(escalations).toHaveLength(1)
    expect(escalations[0]).toMatch(/journal storage failed: .*fdatasync/)
    plan.syncError = undefined
    // Its journal stays broken: shipments to a fail too, and a gives up no more than once.
    await client.callKey(`Purse/${idOn('b', 'a', 'q')}`, 'deposit', [1], { timeoutMs: 300 }).catch(() => undefined)
    expect(escalations).toHaveLength(1)
    await Promise.all(hosts.map((h) => h.stop()))
  })

  test('a backup whose fdatasync fails gives up too', async () => {
    const escalations: string[] = []
    const { hosts, client, plan, idOn } = await threeHosts((reason) => escalations.push(reason))
    const backedByA = `Purse/${idOn('b', 'a', 'q')}`
    expect(await client.callKey(backedByA, 'deposit', [1])).toBe(101)
    plan.syncError = 'EIO'
    await client.callKey(backedByA, 'deposit', [1], { timeoutMs: 300 }).catch(() => undefined)
    expect(escalations).toHaveLength(1)
    expect(escalations[0]).toMatch(/journal storage failed: .*fdatasync/)
    plan.syncError = undefined
    await Promise.all(hosts.map((h) => h.stop()))
  })

  test('a transfer whose deposit hit a full disk neither loses nor creates money', async () => {
    const { hosts, client, plan, idOn } = await threeHosts()
    // Only dst's records go to a's disk: its deposit fails there after it was shipped to b.
    const src = idOn('b', 'c', 'src'), dst = idOn('a', 'b', 'dst')
    expect(await client.callKey(`Purse/${dst}`, 'balance', [])).toBe(100)
    plan.diskFull = true
    const first = await client.callKey(`Purse/${src}`, 'send', [dst, 30], { requestId: 'move-30' }).then((value) => ({ value }), (error: unknown) => ({ error }))
    // Not a definite failure: src's turn began calling (its intent is journaled) and runs again.
    expect('error' in first && isTroupeError(first.error, 'HostUnavailable')).toBe(true)
    plan.diskFull = false
    const answer = await untilDefinite(() => client.callKey(`Purse/${src}`, 'send', [dst, 30], { requestId: 'move-30' }))
    const [from, to] = [await client.callKey(`Purse/${src}`, 'balance', []), await client.callKey(`Purse/${dst}`, 'balance', [])] as number[]
    expect(from! + to!).toBe(200)
    expect(answer).toBe(from)
    expect(from).toBe(70)
    await Promise.all(hosts.map((h) => h.stop()))
  })
})

describe('snapshots and compaction', () => {
  test('every K records the journal is snapshotted and compacted; replay after restart gives the same state', async () => {
    const hasher = await loadPointHasher()
    const network = new MemoryNetwork()
    const registry = new ActorRegistry()
    registry.register(Tally)
    const view: View = { epoch: 1, hosts: ['a', 'b'] }
    const storages = { a: new MemoryJournalStorage(), b: new MemoryJournalStorage() }
    const make = (id: 'a' | 'b'): Host => new Host({ id, transport: network.connect(id), registry, hasher, view, storage: storages[id], replicas: 1, limits: { snapshotEveryRecords: 10 } })
    const hosts = [make('a'), make('b')]
    const client = new ClusterClient({ id: 'client', transport: network.connect('client'), hasher, view })
    const tally = client.actor(Tally, 'snap')
    for (let i = 1; i <= 25; i++) expect(await tally.add(1)).toBe(i)
    for (const storage of Object.values(storages)) {
      const snapshot = await storage.readSnapshot('Tally/snap')
      expect(snapshot?.seq).toBe(20)
      expect((await storage.read('Tally/snap')).map((r) => r.seq)).toEqual([21, 22, 23, 24, 25])
    }
    const copy = await loadFromJournal(storages.b, 'Tally/snap', 64, undefined)
    expect(copy.state).toEqual({ n: 25 })
    expect(copy.requests.size).toBe(25)
    await Promise.all(hosts.map((h) => h.stop()))
  })
})

/**
 * Two hosts on file journals (replicas 1) and an actor whose primary is `a`: one write on both,
 * then `a` goes down and `b`, alone in view 2, takes `aloneOnB` more; then `b` goes down too.
 * `boot` starts a host again on its journal, on a network of the test's choosing.
 */
async function aheadOnB(aloneOnB: number) {
  const hasher = await loadPointHasher()
  const registry = new ActorRegistry()
  registry.register(Tally)
  const dir = mkdtempSync(join(tmpdir(), 'troupe-restarts-'))
  const boot = async (network: MemoryNetwork, id: 'a' | 'b', view: View, options: { replicas?: number; restartedWithState?: boolean } = {}): Promise<Host> => {
    const storage = await FileJournalStorage.open({ dir: join(dir, id) })
    return new Host({ id, transport: network.connect(id), registry, hasher, view, storage, replicas: 1, ...options, limits: { replicationRetryMs: 20 } })
  }
  const first = new MemoryNetwork()
  const both: View = { epoch: 1, hosts: ['a', 'b'] }
  const [a, b] = [await boot(first, 'a', both), await boot(first, 'b', both)]
  const client = new ClusterClient({ id: 'client', transport: first.connect('client'), hasher, view: both })
  let id = ''
  for (let i = 0; id === ''; i++) if (client.ownerOf(Tally, `t${i}`) === 'a') id = `t${i}`
  expect(await client.actor(Tally, id).add(1)).toBe(1)
  await a.stop()
  b.setView({ epoch: 2, hosts: ['b'] })
  client.setView({ epoch: 2, hosts: ['b'] })
  for (let n = 2; n <= aloneOnB + 1; n++) expect(await client.actor(Tally, id).add(1)).toBe(n)
  await b.stop()
  client.stop()
  return { hasher, boot, id, removeDir: () => rmSync(dir, { recursive: true, force: true }) }
}

describe('journal space', () => {
  test('an actor written once long ago does not keep every later segment on disk: it is written again, and its state kept', async () => {
    const hasher = await loadPointHasher()
    const registry = new ActorRegistry()
    registry.register(Tally)
    const dir = mkdtempSync(join(tmpdir(), 'troupe-tidy-'))
    const view: View = { epoch: 1, hosts: ['solo'] }
    const boot = async (network: MemoryNetwork) => {
      const storage = await FileJournalStorage.open({ dir, segmentBytesMax: 2048 })
      const host = new Host({ id: 'solo', transport: network.connect('solo'), registry, hasher, view, storage, consistency: 'local', replicas: 0, limits: { idleTimeoutMs: 20, snapshotEveryRecords: 10 } })
      return { storage, host, client: new ClusterClient({ id: 'client', transport: network.connect('client'), hasher, view }) }
    }
    const { storage, host, client } = await boot(new MemoryNetwork())
    expect(await client.actor(Tally, 'cold').add(7)).toBe(7)
    let most = 0
    for (let n = 1; n <= 600; n++) {
      expect(await client.actor(Tally, 'hot').add(1)).toBe(n)
      most = Math.max(most, storage.segments().length)
      if (n % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 15)) // idle sweeps run
    }
    // About 100 bytes a record: 600 records fill some 30 segments of 2 KiB.
    expect(most).toBeLessThan(10)
    await host.stop()
    client.stop()
    const again = await boot(new MemoryNetwork())
    expect(await again.client.actor(Tally, 'cold').get()).toBe(7)
    expect(await again.client.actor(Tally, 'hot').get()).toBe(600)
    await again.host.stop()
    again.client.stop()
    rmSync(dir, { recursive: true, force: true })
  })
})

describe('call timeouts', () => {
  test('a call given its own timeoutMs fails at that deadline, not up to a sweep interval (1 s) later', async () => {
    const { client, network, clock } = await simWorld('strong')
    network.partition(['client'], hostIds)
    const late = within(clock, 4001, client.callKey('Tally/t', 'get', [], { timeoutMs: 4000 }).catch((error: unknown) => error))
    const outcome = await late
    expect(outcome.done).toBe(true)
    expect(outcome.done && isTroupeError(outcome.value, 'CallTimeout')).toBe(true)
  })

  test('one request id sent to a second actor while in flight to a first is refused, never answered with the first call\'s result', async () => {
    const { client, clock } = await simWorld('strong')
    const first = client.callKey('Tally/x', 'add', [1], { requestId: 'order-42' })
    const second = await within(clock, 500, client.callKey('Tally/y', 'add', [100], { requestId: 'order-42' }).catch((error: unknown) => error))
    expect(second.done && isTroupeError(second.value, 'InvalidArgument')).toBe(true)
    expect(await within(clock, 500, first)).toEqual({ done: true, value: 1 })
    // Before, it joined the first and was answered 1 while y's add never ran. Once the first is answered, the id is free for y.
    expect(await within(clock, 500, client.callKey('Tally/y', 'add', [100], { requestId: 'order-42' }))).toEqual({ done: true, value: 100 })
  })

  test('a duplicate of a call in flight keeps its own timeout; the same id at another level is refused while in flight', async () => {
    const { client, network, clock, placement } = await simWorld('strong')
    const [primary, , backup] = placement.owners('Tally/d', 3)
    expect(await within(clock, 100, client.callKey('Tally/d', 'get', []))).toEqual({ done: true, value: 0 }) // active: no recovery read below
    network.partition([primary!], [backup!])
    // At `local` the first is answered while a backup is cut off; the same id at `strong` is not
    // joined to it (it was answered at once, at `local`): refused while the first is in flight.
    const local = within(clock, 100, client.callKey('Tally/d', 'add', [5], { requestId: 'dup-1', consistency: 'local' }))
    const strong = await within(clock, 10, client.callKey('Tally/d', 'add', [5], { requestId: 'dup-1', consistency: 'strong' }).catch((error: unknown) => error))
    expect(strong.done && isTroupeError(strong.value, 'InvalidArgument')).toBe(true)
    expect(await local).toEqual({ done: true, value: 5 })
    // Once it is answered, the same id at `strong` is answered from the journal at that level: held until the backup has it.
    const again = client.callKey('Tally/d', 'add', [5], { requestId: 'dup-1', consistency: 'strong' })
    let againDone = false
    void again.then(() => { againDone = true })
    await clock.runFor(500)
    expect(againDone).toBe(false)
    network.heal()
    expect(await within(clock, 2000, again)).toEqual({ done: true, value: 5 })
    // A duplicate with a timeout of its own fails at it, while the first call it follows goes on.
    network.partition(['client'], hostIds)
    const first = client.callKey('Tally/d', 'add', [1], { requestId: 'dup-2' })
    let firstSettled = false
    void first.then(() => { firstSettled = true }, () => { firstSettled = true })
    const dup = await within(clock, 300, client.callKey('Tally/d', 'add', [1], { requestId: 'dup-2', timeoutMs: 200 }).catch((error: unknown) => error))
    expect(dup.done && isTroupeError(dup.value, 'CallTimeout')).toBe(true)
    expect(firstSettled).toBe(false)
  })

  test('the timer of a call given its own timeoutMs is cleared when the call is answered', async () => {
    const { client, clock } = await simWorld('strong')
    expect(await within(clock, 100, client.callKey('Tally/c', 'add', [1], { timeoutMs: 50_000 }))).toEqual({ done: true, value: 1 })
    const before = clock.pendingTimers()
    for (let i = 0; i < 20; i++) expect((await within(clock, 100, client.callKey('Tally/c', 'get', [], { timeoutMs: 50_000 }))).done).toBe(true)
    // Twenty answered calls leave no 50 s timer behind (a client making many would hold them all).
    expect(clock.pendingTimers()).toBeLessThanOrEqual(before)
  })
})

describe('loading an actor from its journal', () => {
  test('a replay changes its own copy in place, never the stored snapshot or the records', async () => {
    const storage = new MemoryJournalStorage()
    const seen = { a: 1 } as Record<string, number>
    await storage.installSnapshot('Tally/j', { seq: 1, epoch: 1, state: { state: { seen }, requests: [] } })
    const records = Array.from({ length: 50 }, (_, i) => ({ seq: i + 2, epoch: 1, requestId: `r${i}`, patch: [{ op: 'set' as const, path: ['seen', `k${i}`], value: { n: i } }], result: i }))
    const last = { seq: 52, epoch: 1, requestId: 'last', patch: [{ op: 'set', path: ['seen', 'k0', 'n'], value: 99 }], result: 0 }
    await storage.append('Tally/j', [...records, last])
    for (let load = 0; load < 2; load++) {
      const replica = await loadFromJournal(storage, 'Tally/j', 16, undefined)
      expect(replica.seq).toBe(52)
      const state = replica.state as { seen: Record<string, unknown> }
      expect(Object.keys(state.seen)).toHaveLength(51)
      expect(state.seen.k0).toEqual({ n: 99 })
    }
    expect(seen).toEqual({ a: 1 })
    expect(((await storage.readSnapshot('Tally/j'))!.state as { state: unknown }).state).toEqual({ seen: { a: 1 } })
    expect((await storage.read('Tally/j', 2))[0]!.patch).toEqual([{ op: 'set', path: ['seen', 'k0'], value: { n: 0 } }])
  })
})

describe('a drained host hands its copies off', () => {
  test('an owner where the actor is active acknowledges the copy at once: the drain does not wait out the refill rounds', async () => {
    const { hosts, client, clock, placement, hasher } = await simWorld('strong')
    const tally = client.actor(Tally, 'd')
    for (let i = 1; i <= 3; i++) expect((await within(clock, 100, tally.add(1))).done).toBe(true)
    const [primary, , leaver] = placement.owners('Tally/d', 3)
    const next: View = { epoch: 2, hosts: hostIds.filter((h) => h !== leaver) }
    expect(Placement.build(next, client.limits, hasher).primary('Tally/d')).toBe(primary)
    for (const host of hosts) host.setView(next)
    client.setView(next)
    await clock.runFor(50)
    const drained = hosts.find((h) => h.id === leaver)!
    // Without the acknowledgement, the primary stays silent and the refill runs every round
    // (bounded by replicationRetryMs x 8 = 1.6 s); the other owners answer in 2 ms.
    expect((await within(clock, 100, drained.drain())).done).toBe(true)
    expect(hosts.find((h) => h.id === primary)!.activeKeys()).toContain('Tally/d')
    // Stopping drains again: copies every owner acknowledged in this view are not sent twice.
    const shipped = drained.stats().recordsShipped
    expect(shipped).toBeGreaterThan(0)
    expect((await within(clock, 100, drained.stop())).done).toBe(true)
    expect(drained.stats().recordsShipped).toBe(shipped)
    expect(await within(clock, 100, tally.get())).toEqual({ done: true, value: 3 })
  })
})

describe('restarts', () => {
  test('restarted with fewer replicas, a host that no longer owns an actor offers its further copy to the primary', async () => {
    const { hasher, boot, id, removeDir } = await aheadOnB(2)
    // Both restart on their journals with replicas 0: a is the actor's only owner, b holds its furthest copy.
    const second = new MemoryNetwork()
    const hosts = [await boot(second, 'a', { epoch: 3, hosts: ['a', 'b'] }, { replicas: 0 }), await boot(second, 'b', { epoch: 3, hosts: ['a', 'b'] }, { replicas: 0 })]
    // A view at once (a restart whose epoch note was behind its journals publishes one): the starts'
    // offers go on in the next run.
    const view: View = { epoch: 4, hosts: ['a', 'b'] }
    for (const host of hosts) host.setView(view)
    await Promise.all(hosts.map((h) => h.replicated()))
    const after = new ClusterClient({ id: 'client', transport: second.connect('client'), hasher, view })
    expect(await after.actor(Tally, id).get()).toBe(3)
    after.stop()
    await Promise.all(hosts.map((h) => h.stop()))
    removeDir()
  })

  test('a host back on its disk while others wrote serves nothing alone: it waits for an owner that holds the rest', async () => {
    const { hasher, boot, id, removeDir } = await aheadOnB(1)
    // a comes back on its disk, the only host of view 3: its copy (1) may be behind, so it answers nothing.
    const second = new MemoryNetwork()
    const aBack = await boot(second, 'a', { epoch: 3, hosts: ['a'] }, { restartedWithState: true })
    const after = new ClusterClient({ id: 'client', transport: second.connect('client'), hasher, view: { epoch: 3, hosts: ['a'] }, limits: { callTimeoutMs: 300 } })
    const alone = await after.actor(Tally, id).get().catch((e: unknown) => e)
    expect(isTroupeError(alone, 'CallTimeout'), String(alone)).toBe(true)
    // b comes back on its disk too: the read finds its copy, and nothing acknowledged is lost.
    const view: View = { epoch: 4, hosts: ['a', 'b'] }
    const bBack = await boot(second, 'b', view, { restartedWithState: true })
    aBack.setView(view)
    after.setView(view)
    expect(await after.actor(Tally, id).get()).toBe(2)
    expect(await after.actor(Tally, id).add(1)).toBe(3)
    after.stop()
    await Promise.all([aBack.stop(), bBack.stop()])
    removeDir()
  })
})

class Gauge extends Actor<{ v: number }> {
  static readOnly = ['read']
  initialState() {
    return { v: 0 }
  }
  set(v: number) {
    this.state.v = v
    return v
  }
  read() {
    return this.state.v
  }
}

describe('stale reads from backups', () => {
  test('opted-in read-only calls are answered by a backup from its warm replica, which may lag; writes still go to the primary', async () => {
    const hasher = await loadPointHasher()
    const clock = new SimulatedClock()
    const network = new SimulatedNetwork({ clock, random: seededRandom(5), delayMsMin: 1, delayMsMax: 1, reorder: false })
    const registry = new ActorRegistry()
    registry.register(Gauge)
    const view: View = { epoch: 1, hosts: hostIds }
    const hosts = hostIds.map((id) => new Host({ id, transport: network.connect(id), registry, hasher, view, clock, random: seededRandom(id.length), consistency: 'local', limits }))
    const client = new ClusterClient({ id: 'client', transport: network.connect('client'), hasher, view, clock, random: seededRandom(9), limits })
    const [primary, backup] = client.owners('Gauge/g', 2)
    const gauge = client.actor(Gauge, 'g', { staleReads: true })
    expect(await within(clock, 50, gauge.set(1))).toEqual({ done: true, value: 1 })
    expect(await within(clock, 50, gauge.read())).toEqual({ done: true, value: 1 })
    network.partition([primary!], [backup!])
    expect(await within(clock, 50, gauge.set(2))).toEqual({ done: true, value: 2 })
    // The backup has not heard of the second write: its answer is stale, as the caller allowed.
    expect(await within(clock, 50, gauge.read())).toEqual({ done: true, value: 1 })
    expect(await within(clock, 50, client.actor(Gauge, 'g').read())).toEqual({ done: true, value: 2 })
    network.heal()
    await clock.runFor(500)
    expect(await within(clock, 50, gauge.read())).toEqual({ done: true, value: 2 })
    expect(hosts.find((h) => h.id === backup)!.stats().activations).toBe(0)
    expect(() => client.actor('Gauge', 'g', { staleReads: true })).toThrowError(expect.objectContaining({ kind: 'InvalidArgument' }))
  })
})

describe('the supervisor lease', () => {
  test('a primary whose lease ran out runs no turn (its caller hears HostUnavailable) until the lease is renewed', async () => {
    const { hosts, client, clock, placement } = await simWorld('strong')
    const primary = hosts[hostIds.indexOf(placement.primary('Tally/lease')!)]!
    primary.renewLease(1000)
    expect(await within(clock, 500, client.actor(Tally, 'lease').add(1))).toEqual({ done: true, value: 1 })
    await clock.runFor(1000)
    const refused = client.actor(Tally, 'lease').add(10).then(() => 'ran', (error: unknown) => (isTroupeError(error) ? error.kind : 'other'))
    expect(await within(clock, 500, refused)).toEqual({ done: true, value: 'HostUnavailable' })
    primary.renewLease(1000)
    expect(await within(clock, 500, client.actor(Tally, 'lease').add(100))).toEqual({ done: true, value: 101 })
  })
})
