import { describe, expect, expectTypeOf, test } from 'vitest'
import { Actor, reentrant, readOnly, type ActorRef } from '../index.ts'
import { ClusterClient } from '../runtime/client.ts'
import { isTroupeError } from '../runtime/errors.ts'
import { keyHash, loadPointHasher } from '../runtime/hash.ts'
import { Host, type HostEvent } from '../runtime/host.ts'
import { checkPayload } from '../runtime/payload.ts'
import { ActorRegistry } from '../runtime/registry.ts'
import { MemoryNetwork } from '../transport/memory.ts'
import { Placement } from '../runtime/ring.ts'
import type { View } from '../runtime/view.ts'
import type { CallEnvelope, Envelope, ReplyEnvelope } from '../transport/envelope.ts'

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  expect(done()).toBe(true)
}

class Greeter extends Actor<{ greeted: string[] }> {
  initialState() {
    return { greeted: [] as string[] }
  }
  greet(name: string) {
    this.state.greeted.push(name)
    return `hello ${name} from ${this.hostId}`
  }
  async count(): Promise<number> {
    return this.state.greeted.length
  }
}

/** Holds its turn until `release` is called; `bump` counts. */
class Gate extends Actor<{ bumps: number }> {
  static release: (() => void) | undefined
  initialState() {
    return { bumps: 0 }
  }
  async hold(): Promise<void> {
    await new Promise<void>((resolve) => { Gate.release = resolve })
  }
  bump() {
    return ++this.state.bumps
  }
  bumps() {
    return this.state.bumps
  }
}

/** A callee, and actors whose timer (set in onActivate) calls it. */
class Tally extends Actor<{ n: number }> {
  initialState() {
    return { n: 0 }
  }
  bump() {
    return ++this.state.n
  }
  get() {
    return this.state.n
  }
}
class Ticker extends Actor<{ got: number[] }> {
  static readOnly = ['seen']
  initialState() {
    return { got: [] as number[] }
  }
  onActivate() {
    this.setTimer(async () => {
      this.state.got.push(await this.actor(Tally, 'z').bump())
    }, 5)
  }
  seen() {
    return this.state.got
  }
}

/** An actor that cannot activate, and one whose turn calls it. */
class Broken extends Actor<{ n: number }> {
  initialState() {
    return { n: 0 }
  }
  onActivate() {
    throw new Error('cannot start')
  }
  poke() {
    return ++this.state.n
  }
}
class Poker extends Actor<{ pokes: number }> {
  initialState() {
    return { pokes: 0 }
  }
  async poke() {
    this.state.pokes++
    return this.actor(Broken, 'b').poke()
  }
}

/** An actor that cannot activate while `down` is set, and one whose turn calls it (read-only `seen` keeps it busy). */
class Moody extends Tally {
  static down = false
  onActivate() {
    if (Moody.down) throw new Error('not now')
  }
}
/** Its lifecycle hooks hang until released while `hang` says so; each writes state when it ends. */
class Sleepy extends Actor<{ n: number; hooks: string[] }> {
  static hang = { activate: false, deactivate: false }
  static released: Array<() => void> = []
  initialState() {
    return { n: 0, hooks: [] as string[] }
  }
  async onActivate() {
    if (Sleepy.hang.activate) await new Promise<void>((resolve) => Sleepy.released.push(resolve))
    this.state.hooks.push('activate')
  }
  async onDeactivate() {
    if (Sleepy.hang.deactivate) await new Promise<void>((resolve) => Sleepy.released.push(resolve))
    this.state.hooks.push('deactivate')
  }
  bump() {
    return ++this.state.n
  }
  seen() {
    return this.state
  }
}
/** Starts from an object its module keeps (a default shared by every instance). */
const sharedDefaults = { tags: ['new'] as string[] }
class Tagged extends Actor<{ tags: string[] }> {
  initialState() {
    return sharedDefaults
  }
  tag(name: string) {
    this.state.tags.push(name)
    return this.state.tags.length
  }
  tags() {
    return this.state.tags
  }
}
/** Its initial state holds a function. */
class BadStart extends Actor<{ cb: () => void }> {
  initialState() {
    return { cb: () => undefined }
  }
  hello() {
    return 'hi'
  }
}
class Pusher extends Actor<{ pushes: number }> {
  static readOnly = ['seen']
  initialState() {
    return { pushes: 0 }
  }
  async push() {
    this.state.pushes++
    return this.actor(Moody, 'm').bump()
  }
  seen() {
    return this.state.pushes
  }
}

/** Pays from a balance of 5, then tells Moody (the other side of a transfer): its path depends on the balance. */
class Payer extends Actor<{ balance: number }> {
  static readOnly = ['balance']
  initialState() {
    return { balance: 5 }
  }
  async pay(amount: number) {
    if (amount > this.state.balance) throw new RangeError(`insufficient funds: ${this.state.balance} < ${amount}`)
    this.state.balance -= amount
    await this.actor(Moody, 'm').bump()
    return this.state.balance
  }
  balance() {
    return this.state.balance
  }
}

/** Keeps (outside its state) and returns what it is given; and a caller on the same host that checks nothing is shared. */
class Mirror extends Actor<Record<string, never>> {
  static readOnly = ['lastN']
  private last: { n: number } | undefined
  initialState() {
    return {}
  }
  touch(given: { n: number }, again: { n: number }) {
    given.n++
    this.last = given
    return { given, same: given === again }
  }
  lastN() {
    return this.last?.n
  }
  symbol() {
    return Symbol('not sendable') as unknown as string
  }
}
class Handler extends Actor<Record<string, never>> {
  initialState() {
    return {}
  }
  async run() {
    const mirror = this.actor(Mirror, 'm')
    // The first call of a write turn leaves once the turn's intent is journaled, copied then;
    // the calls after it are sent at once, as the host delivers them.
    await mirror.lastN()
    const mine = { n: 1 }
    const back = await mirror.touch(mine, mine)
    back.given.n = 50
    const error = await mirror.symbol().catch((e: unknown) => e)
    return { mine: mine.n, back: back.given.n, same: back.same, lastAfter: await mirror.lastN(), error: isTroupeError(error) ? error.kind : String(error) }
  }
}

/** An id of `type` whose primary is `host`. */
function idOn(client: ClusterClient, type: typeof Greeter, host: string): string {
  for (let i = 0; ; i++) if (client.ownerOf(type, `k${i}`) === host) return `k${i}`
}

/** Drops the envelopes `from` sends that `lost` picks (a link that loses exactly those). */
function loseFrom(network: MemoryNetwork, from: string, lost: (to: string, envelope: { t: string; key?: string }) => boolean): void {
  const transport = network.member(from)! as unknown as { transmit(to: string, frame: Array<{ t: string; key?: string }>): void }
  const transmit = transport.transmit.bind(transport)
  transport.transmit = (to, frame) => {
    const kept = frame.filter((e) => !lost(to, e))
    if (kept.length > 0) transmit(to, kept)
  }
}

type HostSettings = Partial<Pick<ConstructorParameters<typeof Host>[0], 'replicas' | 'consistency' | 'limits' | 'onEscalate'>>

async function world(hostIds: string[], view: View = { epoch: 1, hosts: hostIds }, settings: HostSettings = {}, clientLimits: HostSettings['limits'] = {}) {
  const hasher = await loadPointHasher()
  const network = new MemoryNetwork()
  const registry = new ActorRegistry()
  registry.register(Greeter)
  registry.register(Gate)
  registry.register(Tally)
  registry.register(Broken)
  registry.register(Poker)
  registry.register(Ticker)
  registry.register(Moody)
  registry.register(Pusher)
  registry.register(Payer)
  registry.register(Mirror)
  registry.register(Handler)
  registry.register(Sleepy)
  registry.register(Tagged)
  registry.register(BadStart)
  const events: HostEvent[] = []
  const hosts = hostIds.map((id) => new Host({ id, transport: network.connect(id), registry, hasher, view, onEvent: (e) => events.push(e), ...settings }))
  const client = new ClusterClient({ id: 'client', transport: network.connect('client'), hasher, view, limits: clientLimits })
  return { network, hosts, client, events, hasher }
}

/** Three hosts (local, two backups, quick passivation and resends) and an actor whose primary is h0. */
async function refillWorld() {
  const view = { epoch: 1, hosts: ['h0', 'h1', 'h2'] }
  const w = await world(view.hosts, view, { replicas: 2, consistency: 'local', limits: { idleTimeoutMs: 40, replicationRetryMs: 20 } })
  const id = idOn(w.client, Greeter, 'h0')
  return { ...w, view, id, key: `Greeter/${id}` }
}

/** How many records of `key` `host` holds (its snapshot's seq, or its records), polled every 10 ms until some, `tries` times. */
async function copyOn(host: Host, key: string, tries: number): Promise<number> {
  const held = async (): Promise<number> => { const j = await host.journal(key); return j.snapshot?.seq ?? j.records.length }
  for (let i = 0; i < tries && (await held()) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  return held()
}

describe('hosts in one thread over the in-memory transport', () => {
  test('calls reach the primary and activate once', async () => {
    const { hosts, client, events } = await world(['h0', 'h1', 'h2'])
    const ref = client.actor(Greeter, 'ann')
    expect(await ref.greet('bo')).toBe(`hello bo from ${client.ownerOf(Greeter, 'ann')}`)
    expect(await ref.count()).toBe(1)
    expect(events.filter((e) => e.kind === 'activate')).toHaveLength(1)
    await Promise.all(hosts.map((h) => h.stop()))
  })

  test('a client with a stale view is redirected to the new primary and adopts the view', async () => {
    const oldView: View = { epoch: 1, hosts: ['h0', 'h1'] }
    const newView: View = { epoch: 2, hosts: ['h0', 'h1', 'h2'] }
    const { hosts, client, hasher } = await world(['h0', 'h1', 'h2'], oldView)
    for (const host of hosts) host.setView(newView)
    const after = Placement.build(newView, client.limits, hasher)
    let id = ''
    for (let i = 0; !id; i++) if (after.primary(`Greeter/g${i}`) === 'h2') id = `g${i}`
    expect(client.ownerOf(Greeter, id)).not.toBe('h2')
    expect(await client.actor(Greeter, id).greet('x')).toBe('hello x from h2')
    expect(client.view.epoch).toBe(2)
    expect(hosts.reduce((n, h) => n + h.stats().redirectsSent, 0)).toBe(1)
  })

  test('a view with an older epoch is ignored and one epoch cannot name two memberships', async () => {
    const { hosts } = await world(['h0', 'h1'])
    const host = hosts[0]!
    expect(host.setView({ epoch: 0, hosts: ['h0'] })).toBe(false)
    expect(host.view.epoch).toBe(1)
    expect(() => host.setView({ epoch: 1, hosts: ['h0'] })).toThrow(/share epoch 1/)
  })

  test('malformed frames are counted and the host keeps serving', async () => {
    const { network, hosts, client } = await world(['h0'])
    const rogue = network.connect('rogue')
    rogue.listen({ envelope: () => {} })
    const target = network.member('h0')!
    target.deliver('rogue', 'garbage')
    target.deliver('rogue', [{ v: 1, t: 'call', id: 'x' }])
    expect(hosts[0]!.stats().malformedReceived).toBe(2)
    expect(await client.actor(Greeter, 'still').greet('ok')).toContain('hello ok')
  })

  test('a call refused as a Deadlock stays refused: a copy of it arriving later does not run', async () => {
    const { network, client } = await world(['h0'])
    const gate = client.actor(Gate, 'g')
    expect(await gate.bump()).toBe(1)
    const replies: ReplyEnvelope[] = []
    const caller = network.connect('caller')
    caller.listen({ envelope: (_from, envelope) => void (envelope.t === 'reply' && replies.push(envelope)) })
    const held = gate.hold()
    await until(() => Gate.release !== undefined)
    // A call from a turn that Gate/g's running turn waits on (its chain names Gate/g): a cycle.
    const cycle: CallEnvelope = { v: 1, t: 'call', id: 'caller:1', epoch: 1, key: 'Gate/g', method: 'bump', args: [], chain: ['Gate/g'] }
    caller.send('h0', cycle)
    await until(() => replies.length === 1)
    expect(replies[0]).toMatchObject({ ok: false, error: { kind: 'Deadlock' } })
    Gate.release!()
    await held
    // The same request again, with no cycle now (as a copy delayed in the network would come):
    // answered from the journal with the same refusal, and it never bumps.
    caller.send('h0', { ...cycle, chain: undefined })
    await until(() => replies.length === 2)
    expect(replies[1]).toMatchObject({ ok: false, error: { kind: 'Deadlock' } })
    expect(await gate.bumps()).toBe(1)
  })

  test("calls made by two actors' timer turns are two calls (their ids do not collide at the callee)", async () => {
    const { client } = await world(['h0'])
    await client.actor(Ticker, 'x').seen()
    await client.actor(Ticker, 'y').seen()
    for (let i = 0; i < 100; i++) {
      const [x, y] = await Promise.all([client.actor(Ticker, 'x').seen(), client.actor(Ticker, 'y').seen()])
      if (x.length === 1 && y.length === 1) break
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const seen = [...(await client.actor(Ticker, 'x').seen()), ...(await client.actor(Ticker, 'y').seen())].sort()
    expect(seen).toEqual([1, 2])
    expect(await client.actor(Tally, 'z').get()).toBe(2)
  })

  test('a turn whose call failed with ActivationFailed answers an unknown outcome (it may still complete), not a definite error', async () => {
    const { client } = await world(['h0'])
    const error = await client.actor(Poker, 'p').poke().catch((e: unknown) => e)
    expect(isTroupeError(error, 'HostUnavailable')).toBe(true)
    expect((error as Error).message).toMatch(/ActivationFailed.*retry with the same request id/)
  })

  test('a host forgets every answered call, whether its turn ended at once or later (nothing stays in flight)', async () => {
    for (const consistency of ['memory', 'strong'] as const) {
      const { hosts: [host], client } = await world(['h0'], undefined, { consistency })
      const ref = client.actor(Greeter, 'ann')
      for (let i = 0; i < 20; i++) await ref.greet(`n${i}`) // a write turn that ends at once
      for (let i = 0; i < 20; i++) await ref.count() // a read that ends later (async)
      await Promise.all([ref.greet('x'), ref.greet('y'), ref.count()])
      expect(host!.callsInFlight(), consistency).toBe(0)
      await host!.stop()
    }
  })

  test('a passivating activation whose last record waits for an ack that never comes lets go of its key once the view moves it', async () => {
    const { network, hosts, client, events } = await world(['h0', 'h1'], undefined, { replicas: 1, consistency: 'strong', limits: { idleTimeoutMs: 40 } })
    const id = idOn(client, Greeter, 'h0')
    const key = `Greeter/${id}`
    await client.actor(Greeter, id).greet('a')
    // From now on h1's acknowledgements never reach h0: h0's next record stays pending.
    loseFrom(network, 'h1', (to) => to === 'h0')
    const unacknowledged = client.actor(Greeter, id).greet('b').catch(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, 150)) // the idle sweep starts passivating it: it waits for the ack
    const gone = (): boolean => events.some((e) => e.kind === 'deactivate' && e.key === key && e.host === 'h0')
    expect(gone()).toBe(false)
    hosts[0]!.setView({ epoch: 2, hosts: ['h1'] }) // the view moves the key to h1
    await until(gone)
    expect(hosts[0]!.callsInFlight()).toBe(0)
    client.stop()
    await unacknowledged
    await Promise.all(hosts.map((h) => h.stop()))
  })

  test("after a view change an idle actor's copy reaches every owner, though the first shipments to one are lost", async () => {
    const { network, hosts, client, view, id, key } = await refillWorld()
    // h2 misses everything h0 ships of the actor from the start (local: no reply waits for it).
    let dropped = 0
    const drop = { shipments: Number.POSITIVE_INFINITY }
    loseFrom(network, 'h0', (to, e) => to === 'h2' && e.t === 'replicate' && e.key === key && dropped++ < drop.shipments)
    await client.actor(Greeter, id).greet('a')
    await until(() => !hosts[0]!.activeKeys().includes(key)) // passivated: idle on its owners
    expect((await hosts[2]!.journal(key)).records).toEqual([])
    // A view change (same hosts) re-replicates idle actors; the first two shipments to h2 are lost too.
    drop.shipments = dropped + 2
    for (const host of hosts) host.setView({ epoch: 2, hosts: view.hosts })
    await until(() => dropped >= drop.shipments)
    expect(await copyOn(hosts[2]!, key, 100)).toBe(1)
    await Promise.all(hosts.map((h) => h.stop()))
  })

  test("after a view change an idle actor's copy reaches an owner cut off for longer than the first rounds of resends", async () => {
    const { network, hosts, client, view, id, key } = await refillWorld()
    const cut = { until: Number.POSITIVE_INFINITY }
    loseFrom(network, 'h0', (to, e) => to === 'h2' && e.t === 'replicate' && e.key === key && Date.now() < cut.until)
    await client.actor(Greeter, id).greet('a')
    await until(() => !hosts[0]!.activeKeys().includes(key)) // passivated: idle on its owners
    // The view change re-replicates it; h2 stays cut off for 400 ms, longer than eight rounds 20 ms apart.
    cut.until = Date.now() + 400
    for (const host of hosts) host.setView({ epoch: 2, hosts: view.hosts })
    expect(await copyOn(hosts[2]!, key, 150)).toBe(1)
    await Promise.all(hosts.map((h) => h.stop()))
  })

  test("replicated() waits for an active actor's new backup to hold its records, though the first shipments to it are lost", async () => {
    // h0 alone in view 1 (the actor's only copy); h1 joins in view 2 as its backup.
    const w = await world(['h0', 'h1'], { epoch: 1, hosts: ['h0'] }, { replicas: 1, limits: { replicationRetryMs: 20 } })
    const joined = new ClusterClient({ id: 'probe', transport: w.network.connect('probe'), hasher: w.hasher, view: { epoch: 2, hosts: ['h0', 'h1'] } })
    let id = ''
    for (let i = 0; id === ''; i++) if (joined.ownerOf(Greeter, `k${i}`) === 'h0') id = `k${i}`
    const key = `Greeter/${id}`
    await w.client.actor(Greeter, id).greet('a')
    expect(w.hosts[0]!.activeKeys()).toContain(key)
    // What h0 ships of the actor to h1 is lost for 60 ms: its log's first resends too.
    const cutUntil = Date.now() + 60
    loseFrom(w.network, 'h0', (to, e) => to === 'h1' && e.t === 'replicate' && e.key === key && Date.now() < cutUntil)
    for (const host of w.hosts) host.setView({ epoch: 2, hosts: ['h0', 'h1'] })
    await w.hosts[0]!.replicated()
    expect((await w.hosts[1]!.journal(key)).records.length + ((await w.hosts[1]!.journal(key)).snapshot ? 1 : 0)).toBeGreaterThan(0)
    await Promise.all(w.hosts.map((h) => h.stop()))
  })

  test("a backup drops its warm copy of an actor nothing was shipped to for an idle period, and takes it over from its journal", async () => {
    const w = await world(['h0', 'h1'], { epoch: 1, hosts: ['h0', 'h1'] }, { replicas: 1, limits: { idleTimeoutMs: 40 } })
    const id = idOn(w.client, Greeter, 'h0')
    await w.client.actor(Greeter, id).greet('a')
    await w.client.actor(Greeter, id).greet('b')
    expect(w.hosts[1]!.stats().replicas).toBe(1)
    await until(() => w.hosts[1]!.stats().replicas === 0)
    // h0 leaves: h1 takes over from its journal, with both greetings.
    const next = { epoch: 2, hosts: ['h1'] }
    w.hosts[1]!.setView(next)
    w.client.setView(next)
    expect(await w.client.actor(Greeter, id).greet('c')).toBe(`hello c from h1`)
    expect(await w.client.actor(Greeter, id).count()).toBe(3)
    await Promise.all(w.hosts.map((h) => h.stop()))
  })

  test('an unfinished turn runs again while its actor stays busy (no idle timeout to wait for)', async () => {
    const { hosts: [host], client } = await world(['h0'], undefined, { consistency: 'local', limits: { idleTimeoutMs: 200 } })
    Moody.down = true
    const failed = await client.actor(Pusher, 'p').push().catch((error: unknown) => error)
    expect(isTroupeError(failed, 'HostUnavailable')).toBe(true) // unknown outcome: the turn runs again later
    Moody.down = false
    // Reads every 20 ms keep Pusher busy: it is never idle for idleTimeoutMs.
    let bumped = 0
    for (let i = 0; i < 40 && bumped === 0; i++) {
      await client.actor(Pusher, 'p').seen()
      bumped = await client.actor(Moody, 'm').get()
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(bumped).toBe(1)
    expect(await client.actor(Pusher, 'p').seen()).toBe(1)
    await host!.stop()
  })

  test('a turn that ended with an unknown outcome runs again before any other write turn of its actor', async () => {
    const { hosts: [host], client } = await world(['h0'], undefined, { consistency: 'local', limits: { replicationRetryMs: 20, callRetryMs: 80 } })
    const payer = client.actor(Payer, 'p')
    Moody.down = true
    const first = await payer.pay(3).catch((error: unknown) => error)
    expect(isTroupeError(first, 'HostUnavailable')).toBe(true) // unknown outcome: pay(3) runs again later
    Moody.down = false
    // pay(4) comes next: it waits for pay(3)'s re-run (balance 5 - 3 = 2), where it would have run
    // on 5 and left pay(3) to find the funds gone after its call to Moody had taken effect.
    const second = await payer.pay(4).catch((error: unknown) => error)
    expect(isTroupeError(second, 'ActorFailed')).toBe(true)
    expect((second as Error).message).toMatch(/insufficient funds: 2 < 4/)
    expect(await payer.balance()).toBe(2)
    expect(await client.actor(Moody, 'm').get()).toBe(1)
    await host!.stop()
  })

  test('two actors on one host share no object through arguments or results, and an unsendable result is refused', async () => {
    const { hosts, client } = await world(['h0'])
    expect(await client.actor(Handler, 'x').run()).toEqual({ mine: 1, back: 50, same: true, lastAfter: 2, error: 'Unserializable' })
    await Promise.all(hosts.map((h) => h.stop()))
  })

  test('a call carries its arguments as they were when it was made, though the caller changes them before the burst leaves', async () => {
    const { hosts, client } = await world(['h0', 'h1'])
    const shared = { n: 1 }
    const first = client.actor(Mirror, 'a').touch(shared, shared)
    shared.n = 10
    const second = client.actor(Mirror, 'b').touch(shared, shared)
    shared.n = 100
    expect((await first).given.n).toBe(2)
    expect((await second).given.n).toBe(11)
    expect(shared.n).toBe(100)
    await Promise.all(hosts.map((h) => h.stop()))
  })

  test('an argument whose getter throws (even null) is refused with Unserializable, as a rejection', async () => {
    const { hosts, client } = await world(['h0'])
    const weird = { get x(): number { throw null } }
    const outcome = client.actor(Greeter, 'g').greet(weird as unknown as string).then(() => 'sent', (error: unknown) => (isTroupeError(error) ? error.kind : String(error)))
    expect(await outcome).toBe('Unserializable')
    await Promise.all(hosts.map((h) => h.stop()))
  })

  test('a call resent after its first send was lost carries the arguments it was made with', async () => {
    const { hosts, client, network } = await world(['h0'], undefined, {}, { callRetryMs: 40, callTimeoutMs: 400 })
    let dropped = 0
    loseFrom(network, 'client', (_to, e) => e.t === 'call' && dropped++ === 0)
    const given = { n: 1 }
    const answer = client.actor(Mirror, 'r').touch(given, given)
    await new Promise((resolve) => setTimeout(resolve, 5))
    given.n = 50
    expect((await answer).given.n).toBe(2)
    expect(dropped).toBeGreaterThan(1)
    await Promise.all(hosts.map((h) => h.stop()))
  })

  test('an onActivate that never settles fails its activation after lifecycleTimeoutMs; ending later, it journals nothing', async () => {
    const { hosts, client } = await world(['h0'], undefined, { consistency: 'local', limits: { lifecycleTimeoutMs: 40 } })
    const sleepy = client.actor(Sleepy, 's')
    Sleepy.hang.activate = true
    const error = await sleepy.bump().catch((e: unknown) => e)
    expect(isTroupeError(error, 'ActivationFailed'), String(error)).toBe(true)
    expect(String((error as Error).message)).toContain('onActivate did not settle within 40 ms')
    Sleepy.hang.activate = false
    expect(await sleepy.bump()).toBe(1)
    // The first hook ends now: its change is not journaled, and the journal stays contiguous.
    for (const release of Sleepy.released.splice(0)) release()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await sleepy.bump()).toBe(2)
    expect(await sleepy.seen()).toEqual({ n: 2, hooks: ['activate'] })
    const journal = await hosts[0]!.journal('Sleepy/s')
    expect(journal.records.map((r) => r.seq)).toEqual(journal.records.map((_, i) => i + 1))
    await Promise.all(hosts.map((h) => h.stop()))
  })

  test('hooks past their time are no actor failures: many at once do not make the host give up', async () => {
    const escalations: string[] = []
    const { hosts, client } = await world(['h0'], undefined, { consistency: 'local', limits: { lifecycleTimeoutMs: 20 }, onEscalate: (why) => escalations.push(why) })
    Sleepy.hang.activate = true
    // More than the activation supervisor's intensity (5 in 5 s).
    const errors = await Promise.all(Array.from({ length: 8 }, (_, i) => client.actor(Sleepy, `slow-${i}`).bump().catch((e: unknown) => e)))
    expect(errors.every((e) => isTroupeError(e, 'ActivationFailed'))).toBe(true)
    expect(escalations).toEqual([])
    Sleepy.hang.activate = false
    for (const release of Sleepy.released.splice(0)) release()
    expect(await client.actor(Sleepy, 'slow-0').bump()).toBe(1)
    await Promise.all(hosts.map((h) => h.stop()))
  })

  test('an onDeactivate that never settles lets its actor go after lifecycleTimeoutMs, keeping what is committed', async () => {
    const { hosts, client } = await world(['h0'], undefined, { consistency: 'local', limits: { lifecycleTimeoutMs: 40, idleTimeoutMs: 30 } })
    const sleepy = client.actor(Sleepy, 'd')
    Sleepy.hang.deactivate = true
    expect(await sleepy.bump()).toBe(1)
    await until(() => Sleepy.released.length > 0) // passivating, its hook hanging
    Sleepy.hang.deactivate = false
    await until(() => !hosts[0]!.activeKeys().includes('Sleepy/d'))
    // The key is free again: the next call activates it anew from what was committed.
    expect(await sleepy.bump()).toBe(2)
    for (const release of Sleepy.released.splice(0)) release()
    await new Promise((resolve) => setTimeout(resolve, 20))
    // The hook that ended late journaled nothing: its 'deactivate' is in no state.
    expect(await sleepy.seen()).toEqual({ n: 2, hooks: ['activate', 'activate'] })
    await Promise.all(hosts.map((h) => h.stop()))
  })

  test("an actor's initial state is copied and checked: a default its module keeps and changes later is not its state", async () => {
    const { hosts, client } = await world(['h0'])
    expect(await client.actor(Tagged, 'a').tags()).toEqual(['new'])
    sharedDefaults.tags.push('changed outside any turn')
    expect(await client.actor(Tagged, 'a').tags()).toEqual(['new'])
    expect(await client.actor(Tagged, 'a').tag('x')).toBe(2)
    const error = await client.actor(BadStart, 'b').hello().catch((e: unknown) => e)
    expect(isTroupeError(error, 'ActivationFailed'), String(error)).toBe(true)
    expect(String(error)).toMatch(/Unjournalable: state\.cb is a function/)
    await Promise.all(hosts.map((h) => h.stop()))
  })

  test('a call to a stopped cluster fails with ClusterStopped', async () => {
    const { client } = await world(['h0'])
    client.stop()
    const error = await client.actor(Greeter, 'late').greet('x').catch((e: unknown) => e)
    expect(isTroupeError(error, 'ClusterStopped')).toBe(true)
  })
})

describe('checkPayload', () => {
  test('accepts what structured clone carries and refuses the rest', () => {
    expect(() => checkPayload([1, 'a', null, undefined, 2n, new Date(), new Map([[1, { a: [1] }]]), new Set([1]), new Uint8Array(4)], 1e6, 64, 'x')).not.toThrow()
    for (const bad of [() => 1, Symbol('s'), new WeakMap(), Promise.resolve()]) {
      expect(() => checkPayload([bad], 1e6, 64, 'x')).toThrowError(expect.objectContaining({ kind: 'Unserializable' }))
    }
    expect(() => checkPayload(['x'.repeat(1000)], 100, 64, 'x')).toThrowError(expect.objectContaining({ kind: 'PayloadTooLarge' }))
    expect(() => checkPayload([new Uint8Array(1000)], 100, 64, 'x')).toThrowError(expect.objectContaining({ kind: 'PayloadTooLarge' }))
  })
})

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

class Holder extends Actor<{ n: number }> {
  initialState() { return { n: 0 } }
  @readOnly async slowRead(ms: number) { await sleep(ms); return this.state.n }
  bump() { return ++this.state.n }
  @reentrant async viaEcho(other: string) { return await this.actor(Echo, other).readBack(this.id) }
  @readOnly peek() { return this.state.n }
}

class Echo extends Actor {
  async readBack(id: string) { return await this.actor(Holder, id).peek() }
}

class ThrowsUndefined extends Actor<{ n: number }> {
  constructor() {
    super()
    throw undefined // eslint-disable-line no-throw-literal
  }
  probe() { return 'ran on an instance whose constructor never finished' }
}

/** One in-memory host `h0` in `view` and a client, with the given classes registered. */
async function oneHost(classes: unknown[], options: { view?: View; replicas?: number; consistency?: 'local' } = {}) {
  const hasher = await loadPointHasher()
  const network = new MemoryNetwork()
  const registry = new ActorRegistry()
  for (const c of classes) registry.register(c as never)
  const view = options.view ?? { epoch: 1, hosts: ['h0'] }
  const host = new Host({ id: 'h0', transport: network.connect('h0'), registry, hasher, view, replicas: options.replicas, consistency: options.consistency })
  const client = new ClusterClient({ id: 'client', transport: network.connect('client'), hasher, view })
  return { host, client, network }
}

describe("a reviewer's cases", () => {
  test("a read from a reentrant turn's callee, behind a write queued behind an unrelated read, is no deadlock", async () => {
    const { host, client } = await oneHost([Holder, Echo])
    const a = client.actor(Holder, 'a')
    await a.bump()
    const slow = a.slowRead(300) // a read turn that waits on nothing but a timer
    await sleep(20)
    const via = a.viaEcho('e') // reentrant: runs beside the read; its callee reads back
    const bump = a.bump() // queued: a write cannot run beside the read
    expect(await via).toBe(2)
    expect(await bump).toBe(2)
    expect(await slow).toBe(1)
    await host.stop()
  })

  test('a constructor that throws undefined fails the activation (ActivationFailed)', async () => {
    const { host, client } = await oneHost([ThrowsUndefined])
    const outcome = await client.actor(ThrowsUndefined, 'a').probe().catch((error: unknown) => error)
    expect(isTroupeError(outcome, 'ActivationFailed')).toBe(true)
    await host.stop()
  })

  test('an active owner does not acknowledge an offered copy of another history (same seq, newer epoch)', async () => {
    const { host, client, network } = await oneHost([Greeter], { view: { epoch: 3, hosts: ['h0'] }, replicas: 0, consistency: 'local' })
    await client.actor(Greeter, 'a').greet('x')
    await client.actor(Greeter, 'a').greet('y') // h0's journal: seq 1..2, epoch 3
    const drained = network.connect('drained')
    const got: Envelope[] = []
    drained.listen({ envelope: (_from, e) => got.push(e) })
    drained.send('h0', { v: 1, t: 'replicate', id: 'x1', epoch: 3, key: 'Greeter/a', records: [], snapshot: { seq: 2, epoch: 9, state: { n: 40 }, requests: [] } } as Envelope)
    // Its copy of the same history, or an older one, is acknowledged: the drained host stops offering it.
    drained.send('h0', { v: 1, t: 'replicate', id: 'x2', epoch: 3, key: 'Greeter/a', records: [], snapshot: { seq: 2, epoch: 3, state: { n: 2 }, requests: [] } } as Envelope)
    await sleep(50)
    await host.stop()
    expect(got.filter((e) => e.t === 'replicated').map((e) => (e as { seq: number }).seq)).toEqual([2])
  })
})

describe('typed proxies', () => {
  test('methods become promises of their awaited results; base members are not messages', () => {
    type Ref = ActorRef<Greeter>
    expectTypeOf<Ref['greet']>().toEqualTypeOf<(name: string) => Promise<string>>()
    expectTypeOf<Ref['count']>().toEqualTypeOf<() => Promise<number>>()
    expectTypeOf<Ref>().not.toHaveProperty('state')
    expectTypeOf<Ref>().not.toHaveProperty('initialState')
    expectTypeOf<Ref>().not.toHaveProperty('actor')
    expectTypeOf<Ref>().not.toHaveProperty('id')
    // Never messages at run time: `then` (a proxy is no thenable) and `_`-prefixed methods.
    class Odd extends Actor {
      then() { return 1 }
      _internal() { return 2 }
      fine() { return 3 }
    }
    expectTypeOf<ActorRef<Odd>>().not.toHaveProperty('then')
    expectTypeOf<ActorRef<Odd>>().not.toHaveProperty('_internal')
    expectTypeOf<ActorRef<Odd>['fine']>().toEqualTypeOf<() => Promise<number>>()
  })
})

describe('a view that pauses a shard', () => {
  const shardOf = (key: string): number => keyHash(key) % 4096

  test('holds calls to its actors until a view resumes it, then runs each once', async () => {
    const paused = { epoch: 1, hosts: ['h0'], paused: [shardOf('Greeter/a')] }
    const { hosts: [host], client } = await world(['h0'], paused)
    const call = client.actor(Greeter, 'a').greet('x')
    let settled = false
    void call.finally(() => { settled = true })
    await sleep(30)
    expect(settled).toBe(false)
    // Another shard's actor answers meanwhile.
    expect(await client.actor(Greeter, 'b').greet('y')).toBe('hello y from h0')
    const resumed = { epoch: 2, hosts: ['h0'] }
    host!.setView(resumed)
    client.setView(resumed)
    expect(await call).toBe('hello x from h0')
    expect(await client.actor(Greeter, 'a').count()).toBe(1)
  })

  test('refuses a call still held after callTimeoutMs with HostUnavailable, naming the wait', async () => {
    const paused = { epoch: 1, hosts: ['h0'], paused: [shardOf('Greeter/a')] }
    const { client } = await world(['h0'], paused, { limits: { callTimeoutMs: 60 } }, { callTimeoutMs: 5000 })
    const error = await client.actor(Greeter, 'a').greet('x').catch((e: unknown) => e)
    expect(isTroupeError(error) && error.kind).toBe('HostUnavailable')
    expect((error as Error).message).toMatch(/waits for them to restart/)
  })
})
