import { readdirSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Cluster, isTroupeError, TroupeError, type ErrorKind } from '../index.ts'
import { errorDataBytesMax } from '../runtime/errors.ts'
import { errorTextCharsMax, serializeThrown } from '../runtime/thrown.ts'
import { BrokenActivation, BrokenConstructor, Counter, Faulty, FieldClash, FlakyActivation, HangingActivation, LocalCounter, ScratchCounter, Sneaky, StateField } from './fixtures/actors.ts'

const actors = new URL('./fixtures/actors.ts', import.meta.url)

async function failure(promise: Promise<unknown>): Promise<TroupeError> {
  const outcome = await promise.then((value) => ({ value }), (error: unknown) => ({ error }))
  if (!('error' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`)
  if (!isTroupeError(outcome.error)) throw new Error(`expected a TroupeError, got ${String(outcome.error)}`)
  return outcome.error
}

function expectKind(error: TroupeError, kind: ErrorKind): void {
  expect(error.kind, error.message).toBe(kind)
  expect(error).toBeInstanceOf(TroupeError)
}

describe('typed errors through real worker threads', () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await Cluster.start({
      actors,
      hosts: 2,
      limits: { payloadBytesMax: 64 * 1024, callTimeoutMs: 300, lifecycleTimeoutMs: 100 },
    })
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  test('an unknown actor type is refused by the client and by the host', async () => {
    expect(() => cluster.actor('Nope', 'x')).toThrowError(expect.objectContaining({ kind: 'UnknownActorType' }))
    expectKind(await failure(cluster.call('Nope/x', 'hello', [])), 'UnknownActorType')
  })

  test('an unknown method is refused with UnknownMethod', async () => {
    expectKind(await failure(cluster.call('Counter/x', 'nope', [])), 'UnknownMethod')
    const untyped = cluster.actor(Counter, 'x') as unknown as Record<string, () => Promise<unknown>>
    expectKind(await failure(untyped.launchMissiles!()), 'UnknownMethod')
    // Lifecycle hooks, private-by-convention and base-class members are not messages.
    for (const method of ['onActivate', 'initialState', '_secret', 'actor', 'constructor', 'toString']) {
      expectKind(await failure(cluster.call('Counter/x', method, [])), 'UnknownMethod')
    }
  })

  test("a user exception keeps its name, message and stack, and the actor keeps serving", async () => {
    const faulty = cluster.actor(Faulty, 'f1')
    const error = await failure(faulty.fail('out of range'))
    expectKind(error, 'ActorFailed')
    expect(error.causeName).toBe('RangeError')
    expect(error.message).toBe('out of range')
    expect(error.stack).toContain('fail')
    expect(error.actor).toBe('Faulty/f1')
    const later = await failure(faulty.throwLater('async boom'))
    expect(later.causeName).toBe('TypeError')
    expect(await faulty.ok()).toBeGreaterThan(0)
  })

  test("a user exception's own fields and cause reach the caller as data, across hosts and through actors that pass it on", async () => {
    const error = await failure(cluster.actor(Faulty, 'f2').failWithFields('E_FUNDS'))
    expectKind(error, 'ActorFailed')
    expect(error.causeName).toBe('InsufficientFunds')
    expect(error.message).toBe('needs 30, has 10')
    expect(error.data).toEqual({ code: 'E_FUNDS', needed: 30, balance: 10, cause: { name: 'Error', message: 'the ledger says no' } })
    // A function field cannot be sent: it is left out, the rest arrives.
    expect(error.data).not.toHaveProperty('retry')
    // Another actor sees the fields too, on whichever host the callee lives, and can let it through.
    const candidates = Array.from({ length: 16 }, (_, i) => `g${i}`)
    const sameHost = candidates.find((id) => cluster.ownerOf(Faulty, id) === cluster.ownerOf(Faulty, 'relay'))!
    const otherHost = candidates.find((id) => cluster.ownerOf(Faulty, id) !== cluster.ownerOf(Faulty, 'relay'))!
    for (const other of [sameHost, otherHost]) {
      expect(await cluster.actor(Faulty, 'relay').seeFailure(other)).toEqual({ kind: 'ActorFailed', causeName: 'InsufficientFunds', code: 'E_INNER', needed: 30 })
    }
    const passed = await failure(cluster.actor(Faulty, 'relay').passFailure(otherHost))
    expect(passed.causeName).toBe('InsufficientFunds')
    expect(passed.data).toMatchObject({ code: 'E_DEEP', balance: 10 })
  })

  test('unserializable arguments are refused before anything is sent', async () => {
    const faulty = cluster.actor(Faulty, 'f2')
    expectKind(await failure(faulty.echo(() => 1)), 'Unserializable')
    expectKind(await failure(faulty.echo(Symbol('s'))), 'Unserializable')
    expectKind(await failure(faulty.echo({ nested: [{ fn: () => 2 }] })), 'Unserializable')
    expectKind(await failure(faulty.echo(Promise.resolve(1))), 'Unserializable')
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expectKind(await failure(faulty.echo(cyclic)), 'Unserializable')
    // structuredClone shares a SharedArrayBuffer: the callee's writes would reach the caller.
    expectKind(await failure(faulty.echo(new SharedArrayBuffer(8))), 'Unserializable')
    expectKind(await failure(faulty.echo({ view: new Uint8Array(new SharedArrayBuffer(8)) })), 'Unserializable')
    expect(await faulty.echo({ ok: [1, 'two', null, new Date(0), new Map([[1, 2]])] })).toEqual({ ok: [1, 'two', null, new Date(0), new Map([[1, 2]])] })
  })

  test('unserializable results come back as Unserializable, and the actor keeps serving', async () => {
    const faulty = cluster.actor(Faulty, 'f3')
    expectKind(await failure(faulty.returnFunction()), 'Unserializable')
    expectKind(await failure(faulty.returnSymbol()), 'Unserializable')
    expectKind(await failure(faulty.returnShared()), 'Unserializable')
    expect(await faulty.ok()).toBe(1)
  })

  test('a result whose getter throws is Unserializable: the turn changes nothing and no host goes down', async () => {
    const events: string[] = []
    const unlisten = cluster.on((event) => events.push(event.kind))
    const faulty = cluster.actor(Faulty, 'unreadable')
    expect(await faulty.ok()).toBe(1)
    for (const attempt of [() => faulty.returnUnreadable(), () => faulty.returnUnreadable(1), () => faulty.peekUnreadable(), () => faulty.glanceUnreadable()]) {
      const error = await failure(attempt())
      expectKind(error, 'Unserializable')
      expect(error.message).toContain('getter boom')
    }
    // The first read of returnUnreadable(1) succeeded: the copy's read failed, and the turn was refused all the same.
    expect(await faulty.ok()).toBe(2)
    unlisten()
    expect(events.filter((kind) => kind === 'host-down' || kind === 'restart')).toEqual([])
    expect((await cluster.hosts()).map((host) => host.restarts)).toEqual([0, 0])
  })

  test('oversized arguments and results give PayloadTooLarge', async () => {
    const faulty = cluster.actor(Faulty, 'f4')
    expectKind(await failure(faulty.echo('x'.repeat(100 * 1024))), 'PayloadTooLarge')
    expectKind(await failure(faulty.big(100 * 1024)), 'PayloadTooLarge')
    expect(await faulty.big(10)).toBe('x'.repeat(10))
  })

  test('a call with no reply in time gives CallTimeout', async () => {
    const error = await failure(cluster.actor(Faulty, 'f5').sleep(2000))
    expectKind(error, 'CallTimeout')
    expect(error.actor).toBe('Faulty/f5')
  })

  test('an activation whose onActivate throws fails with ActivationFailed, then retries on the next call', async () => {
    const broken = cluster.actor(BrokenActivation, 'b')
    const error = await failure(broken.hello())
    expectKind(error, 'ActivationFailed')
    expect(error.message).toContain('cannot start')
    expectKind(await failure(broken.hello()), 'ActivationFailed')
    // Not a cached failure: the next call activates again, and succeeds once onActivate does.
    const flaky = cluster.actor(FlakyActivation, 'f')
    expectKind(await failure(flaky.attempts()), 'ActivationFailed')
    expect(await flaky.attempts()).toBe(2)
  })

  test('a constructor that throws, or a state set as a field, fails the activation with ActivationFailed; no host goes down', async () => {
    const events: string[] = []
    const off = cluster.on((event) => { if (event.kind === 'host-down') events.push(event.host) })
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const error = await failure(cluster.actor(BrokenConstructor, 'c').hello())
        expectKind(error, 'ActivationFailed')
        expect(error.message).toContain('cannot construct')
      }
      // A stale read builds an instance of its own: it fails the same way, answered.
      const stale = await failure(cluster.actor(BrokenConstructor, 'c', { staleReads: true }).hello())
      expect(stale.message).toContain('cannot construct')
      const field = await failure(cluster.actor(StateField, 'f').bump())
      expectKind(field, 'ActivationFailed')
      expect(field.message).toContain('initialState()')
      const clash = await failure(cluster.actor(FieldClash, 'f').bump())
      expectKind(clash, 'ActivationFailed')
      expect(clash.message).toContain("FieldClash.forget (a field) replaces the Actor base class's own forget")
      expect(events).toEqual([])
      expect((await cluster.hosts()).map((h) => h.restarts)).toEqual([0, 0])
      expect(await cluster.actor(Counter, 'after-constructors').increment(1)).toBe(1)
    } finally {
      off()
    }
  })

  test('cluster.on refuses what is not a listener function; a listener that throws breaks nothing', async () => {
    expect(() => cluster.on('host-down' as never)).toThrowError(expect.objectContaining({ kind: 'InvalidArgument' }))
    const off = cluster.on(() => { throw new Error('a listener bug') })
    try {
      const host = await cluster.addHost()
      await cluster.drain(host)
      expect((await cluster.hosts()).filter((h) => h.state === 'up')).toHaveLength(2)
      expect(await cluster.actor(Counter, 'after-listener').increment(1)).toBe(1)
    } finally {
      off()
    }
  })

  test('an onActivate that never settles fails with ActivationFailed after lifecycleTimeoutMs, and each call tries again', async () => {
    const hanging = cluster.actor(HangingActivation, 'hang-1')
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await failure(hanging.bump())
      expectKind(error, 'ActivationFailed')
      expect(error.message).toContain('onActivate did not settle within 100 ms')
    }
    expect(await cluster.actor(HangingActivation, 'fine').bump()).toBe(1)
  })

  test('a @readOnly or @reentrant method that changes state fails with ActorFailed (TypeError), changes nothing, and the actor keeps serving', async () => {
    const sneaky = cluster.actor(Sneaky, 's1')
    expect(await sneaky.add(1)).toBe(1)
    const poke = await failure(sneaky.peekAndPoke())
    expectKind(poke, 'ActorFailed')
    expect(poke.causeName).toBe('TypeError')
    expect(poke.message).toContain('read-only')
    expectKind(await failure(sneaky.noteLater('ada')), 'ActorFailed')
    expect(await sneaky.read()).toEqual({ n: 1, seen: [] })
    expect(await sneaky.add(1)).toBe(2)
  })

  test('a @reentrant method run while a write turn awaits sees that turn\'s state and cannot change it', async () => {
    const sneaky = cluster.actor(Sneaky, 's2')
    const held = sneaky.addWhenReleased(1)
    while (!(await sneaky.holding())) await new Promise((resolve) => setTimeout(resolve, 5))
    for (const attempt of [() => sneaky.creditNow(50), () => sneaky.replaceNow()]) {
      const error = await failure(attempt())
      expectKind(error, 'ActorFailed')
      expect(error.causeName).toBe('TypeError')
      expect(error.message).toContain('read-only')
    }
    expect(await sneaky.peekNow()).toEqual({ n: 1, seen: [] })
    await sneaky.release()
    expect(await held).toBe(1)
    expect(await sneaky.read()).toEqual({ n: 1, seen: [] })
  })

  test('a per-call consistency must be a level, and durable only for a journaled type (InvalidArgument)', async () => {
    expectKind(await failure(cluster.call('Counter/pc', 'increment', [1], { consistency: 'eventual' as never })), 'InvalidArgument')
    expect(() => cluster.actor(Counter, 'pc', { consistency: 7 as never })).toThrowError(expect.objectContaining({ kind: 'InvalidArgument' }))
    expectKind(await failure(cluster.actor(ScratchCounter, 'pc', { consistency: 'strong' }).increment()), 'InvalidArgument')
    // Answered at once, journaled at the type's level all the same.
    expect(await cluster.actor(Counter, 'pc', { consistency: 'memory' }).increment(1)).toBe(1)
    expect(await cluster.actor(ScratchCounter, 'pc', { consistency: 'memory' }).increment()).toBe(1)
    expect(await cluster.actor(LocalCounter, 'pc', { consistency: 'strong' }).increment()).toBe(1)
  })

  test('cluster.call refuses a bad key, method or timeout at once with InvalidArgument, not a timeout', async () => {
    const bad: Array<[unknown, unknown, unknown, unknown]> = [
      ['noslash', 'increment', [1], undefined],
      ['/x', 'increment', [1], undefined],
      ['Counter/', 'increment', [1], undefined],
      [42, 'increment', [1], undefined],
      [`Counter/${'x'.repeat(2000)}`, 'increment', [1], undefined],
      ['Counter/half\ud800pair', 'increment', [1], undefined],
      ['Counter/x', '', [1], undefined],
      ['Counter/x', 7, [1], undefined],
      ['Counter/x', 'm'.repeat(2000), [1], undefined],
      ['Counter/x', 'increment', 'not an array', undefined],
      ['Counter/x', 'increment', [1], Number.NaN],
      ['Counter/x', 'increment', [1], 'abc'],
      ['Counter/x', 'increment', [1], -5],
      ['Counter/x', 'increment', [1], 1.5],
      ['Counter/x', 'increment', [1], 2 ** 40],
    ]
    for (const [key, method, args, timeoutMs] of bad) {
      const error = await failure(cluster.call(key as string, method as string, args as unknown[], { timeoutMs: timeoutMs as number }))
      expectKind(error, 'InvalidArgument')
    }
    // The same actor still answers a well-formed call.
    expect(await cluster.call('Counter/bad-input', 'increment', [1], { timeoutMs: 5000 })).toBe(1)
  })

  test('bad ids are refused with InvalidArgument', () => {
    expect(() => cluster.actor(Counter, '')).toThrowError(expect.objectContaining({ kind: 'InvalidArgument' }))
    expect(() => cluster.actor(Counter, 42 as unknown as string)).toThrowError(expect.objectContaining({ kind: 'InvalidArgument' }))
    expect(() => cluster.actor(Counter, 'x'.repeat(2000))).toThrowError(expect.objectContaining({ kind: 'InvalidArgument' }))
    expect(() => cluster.actor(Counter, 'half\udc00')).toThrowError(expect.objectContaining({ kind: 'InvalidArgument' }))
  })

  test("an error's data leaves out what cannot be copied, and all of it when it is too large", () => {
    class Odd extends Error {
      readonly n = 1
      readonly f = (): void => {}
      readonly s = Symbol('s')
      readonly when = new Date(5)
    }
    expect(serializeThrown(new Odd('odd'), 'T/a').data).toEqual({ n: 1, when: new Date(5) })
    class Huge extends Error {
      readonly blob = 'x'.repeat(errorDataBytesMax)
      readonly code = 'E_HUGE'
    }
    const huge = serializeThrown(new Huge('huge'), 'T/a')
    expect(huge.data).toEqual({ code: 'E_HUGE' })
    expect(huge.message).toBe('huge')
    // Fields that fit one by one but not together: the first ones are kept.
    const many = Object.assign(new Error('many'), { a: 'x'.repeat(errorDataBytesMax / 3), b: 'y'.repeat(errorDataBytesMax / 3), c: 'z'.repeat(errorDataBytesMax / 3) })
    expect(Object.keys(serializeThrown(many, 'T/a').data!)).toEqual(['a'])
    // A cause is its name and message, the message cut at 1 KiB; its stack stays inside.
    const caused = serializeThrown(new Error('outer', { cause: new TypeError('y'.repeat(5_000_000)) }), 'T/a')
    expect(caused.data).toEqual({ cause: { name: 'TypeError', message: 'y'.repeat(1024) } })
    expect(serializeThrown(new Error('plain'), 'T/a')).not.toHaveProperty('data')
    expect(serializeThrown('a string', 'T/a')).not.toHaveProperty('data')
    // An own __proto__ field is not a way to set data's prototype.
    const sneaky = serializeThrown(Object.defineProperty(new Error('p'), '__proto__', { value: { polluted: true }, enumerable: true }), 'T/a')
    expect(Object.getPrototypeOf(sneaky.data ?? {})).toBe(Object.prototype)
  })

  test("a thrown plain object's fields, an AggregateError's errors and a user error's own `kind` field reach data", () => {
    expect(serializeThrown({ code: 'E_PLAIN', n: 2 }, 'T/a')).toMatchObject({ kind: 'ActorFailed', message: 'non-Error thrown: [object Object]', data: { code: 'E_PLAIN', n: 2 } })
    const aggregate = serializeThrown(new AggregateError([new RangeError('one'), 'two'], 'both failed'), 'T/a')
    expect(aggregate).toMatchObject({ name: 'AggregateError', message: 'both failed', data: { errors: [{ name: 'RangeError', message: 'one' }, 'two'] } })
    // A field named like a troupe error kind does not make a user's error a TroupeError.
    const kinded = serializeThrown(Object.assign(new Error('mine'), { kind: 'MailboxFull' }), 'T/a')
    expect(kinded).toMatchObject({ kind: 'ActorFailed', message: 'mine', data: { kind: 'MailboxFull' } })
    // Nor a plain object with a kind and a toJSON: HostUnavailable would leave the outcome unknown.
    const spoof = { kind: 'HostUnavailable', message: 'not really', toJSON: () => ({ kind: 'HostUnavailable', message: 'not really' }) }
    expect(serializeThrown(spoof, 'T/a')).toMatchObject({ kind: 'ActorFailed', data: { kind: 'HostUnavailable', message: 'not really' } })
  })

  test('a thrown value whose text cannot be read keeps what can be read', () => {
    // No prototype: String() throws, yet its fields are its data.
    const bare = Object.assign(Object.create(null) as object, { code: 'E_BARE', needed: 3 })
    expect(serializeThrown(bare, 'T/a')).toMatchObject({ kind: 'ActorFailed', message: 'non-Error thrown: [object Object]', data: { code: 'E_BARE', needed: 3 } })
    const loud = { code: 'E_LOUD', toString() { throw new Error('no') } }
    expect(serializeThrown(loud, 'T/a')).toMatchObject({ kind: 'ActorFailed', data: { code: 'E_LOUD' } })
    // An error whose message getter throws keeps its name and fields.
    class Shy extends Error {
      readonly code = 'E_SHY'
      override get message(): string { throw new Error('no') }
    }
    const shy = serializeThrown(new Shy(), 'T/a')
    expect(shy).toMatchObject({ kind: 'ActorFailed', name: 'Error', message: 'an error whose message cannot be read', data: { code: 'E_SHY' } })
  })

  test("an error's message and stack are cut at errorTextCharsMax, saying how much was left out; its name at 256", () => {
    const long = 'm'.repeat(5_000_000)
    const error = Object.assign(new Error(long), { name: 'N'.repeat(1000) })
    error.stack = 's'.repeat(3 * errorTextCharsMax)
    const out = serializeThrown(error, 'T/a')
    expect(out.message).toBe(`${'m'.repeat(errorTextCharsMax)}… (${5_000_000 - errorTextCharsMax} more characters)`)
    expect(out.stack).toBe(`${'s'.repeat(errorTextCharsMax)}… (${2 * errorTextCharsMax} more characters)`)
    expect(out.name).toBe(`${'N'.repeat(256)}… (744 more characters)`)
    expect(serializeThrown(long, 'T/a').message.length).toBeLessThan(errorTextCharsMax + 100)
    expect(serializeThrown(new TroupeError('ActorFailed', long), 'T/a').message.length).toBeLessThan(errorTextCharsMax + 100)
    expect(serializeThrown(new Error('short'), 'T/a').message).toBe('short')
  })

  test('a TroupeError an actor builds with data is checked the same way, and an error that cannot be read still answers', () => {
    const built = serializeThrown(new TroupeError('ActorFailed', 'built', { data: { f: () => 1, code: 'E_BUILT' } }), 'T/a')
    expect(built).toMatchObject({ kind: 'ActorFailed', message: 'built', actor: 'T/a', data: { code: 'E_BUILT' } })
    expect(built.data).not.toHaveProperty('f')
    const trap = new Proxy(new Error('trapped'), { ownKeys: () => { throw new Error('no keys for you') } })
    expect(serializeThrown(trap, 'T/a')).toMatchObject({ kind: 'ActorFailed', actor: 'T/a' })
    const unreadable = Object.defineProperty(new Error(), 'message', { get: () => { throw new Error('no message') } })
    expect(serializeThrown(unreadable, 'T/a')).toMatchObject({ kind: 'ActorFailed', message: 'an error whose message cannot be read', name: 'Error' })
  })

  test('errors cross the wire as plain data with a kind', () => {
    const error = new TroupeError('MailboxFull', 'full', { actor: 'Counter/a' })
    const wire = structuredClone(error.toJSON())
    expect(wire).toEqual({ kind: 'MailboxFull', message: 'full', actor: 'Counter/a' })
    expect(isTroupeError(wire, 'MailboxFull')).toBe(true)
    expect(isTroupeError({ kind: 'Nonsense' })).toBe(false)
  })
})

describe('a bounded mailbox', () => {
  test('answers MailboxFull past its depth and keeps serving', async () => {
    const cluster = await Cluster.start({ actors, hosts: 1, limits: { mailboxDepthMax: 10 } })
    try {
      const faulty = cluster.actor(Faulty, 'busy')
      const outcomes = await Promise.allSettled(Array.from({ length: 40 }, () => faulty.sleep(5)))
      const full = outcomes.filter((o) => o.status === 'rejected')
      expect(full.length).toBeGreaterThan(0)
      for (const o of full) expect(isTroupeError((o as PromiseRejectedResult).reason, 'MailboxFull')).toBe(true)
      expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBeGreaterThanOrEqual(10)
      expect(await faulty.ok()).toBe(1)
    } finally {
      await cluster.stop()
    }
  })
})

describe('Cluster.start with bad input', () => {
  test.each([
    ['no options', undefined],
    ['hosts 0', { actors, hosts: 0 }],
    ['hosts not an integer', { actors, hosts: 1.5 }],
    ['hosts a string', { actors, hosts: '4' }],
    ['too many hosts', { actors, hosts: 10_000 }],
    ['actors missing', { hosts: 1 }],
    ['actors not a module path', { actors: 42, hosts: 1 }],
    ['actors file does not exist', { actors: new URL('./fixtures/nope.ts', import.meta.url), hosts: 1 }],
    ['an unknown limit', { actors, hosts: 1, limits: { warpSpeed: 9 } }],
    ['a negative limit', { actors, hosts: 1, limits: { callTimeoutMs: -1 } }],
  ])('%s gives InvalidArgument', async (_name, options) => {
    const error = await failure(Cluster.start(options as never))
    expectKind(error, 'InvalidArgument')
  })

  test.each([['syntax-error.ts'], ['throws-on-load.ts']])('an actors module that fails to load (%s) gives HostUnavailable and leaves no worker behind', async (file) => {
    // Every worker thread is an OS thread of this process (vitest runs this file in a fork).
    const threads = (): number => readdirSync('/proc/self/task').length
    const before = threads()
    const error = await failure(Cluster.start({ actors: new URL(`./fixtures/bad/${file}`, import.meta.url), hosts: 2 }))
    expectKind(error, 'HostUnavailable')
    // A terminated worker's thread is joined shortly after: wait for it, then compare.
    for (let waited = 0; threads() > before && waited < 3000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(threads()).toBeLessThanOrEqual(before)
  })
})
