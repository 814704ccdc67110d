/**
 * Bad input at the edges: actor classes the registry must refuse (directly, and through a bad
 * actors module given to Cluster.start), Cluster.start's numeric options, cluster.actor's type
 * names, and the gateway's own options. Each is refused with InvalidArgument naming the problem.
 */
import { readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Actor, Cluster, isTroupeError, readOnly, TroupeError } from '../index.ts'
import { Gateway } from '../runtime/gateway/server.ts'
import { ActorRegistry } from '../runtime/registry.ts'

const actors = new URL('./fixtures/actors.ts', import.meta.url)
/** Built JavaScript actors (Counter, Account, ChatRoom): a worker loads them fastest. */
const examples = new URL('../dist/actors/examples/index.js', import.meta.url)

async function failure(promise: Promise<unknown>): Promise<TroupeError> {
  const outcome = await promise.then((value) => ({ value }), (error: unknown) => ({ error }))
  if (!('error' in outcome)) throw new Error(`expected a failure, got ${String(outcome.value)}`)
  if (!isTroupeError(outcome.error)) throw new Error(`expected a TroupeError, got ${String(outcome.error)}`)
  return outcome.error
}

function refused(fn: () => unknown): TroupeError {
  try {
    fn()
  } catch (error) {
    if (isTroupeError(error)) return error
    throw new Error(`expected a TroupeError, got ${String(error)}`)
  }
  throw new Error('expected a TroupeError, nothing was thrown')
}

function expectInvalid(error: TroupeError, message: RegExp): void {
  expect(error.kind, error.message).toBe('InvalidArgument')
  expect(error).toBeInstanceOf(TroupeError)
  expect(error.message).toMatch(message)
}

function registering(...classes: Array<abstract new () => Actor<unknown>>): TroupeError {
  const registry = new ActorRegistry()
  return refused(() => {
    for (const c of classes) registry.register(c as never)
  })
}

describe('the registry refuses bad actor classes', () => {
  class Counter extends Actor<{ n: number }> {
    initialState() { return { n: 0 } }
    bump() { return ++this.state.n }
    get() { return this.state.n }
  }

  test('two classes with one type name; the same class twice is fine', () => {
    class Impostor extends Actor {
      static actorType = 'Counter'
      get() { return 1 }
    }
    expectInvalid(registering(Counter, Impostor), /two actor classes are named Counter \(classes Counter and Impostor\)/)
    const registry = new ActorRegistry()
    registry.register(Counter as never)
    registry.register(Counter as never)
    expect(registry.names()).toEqual(['Counter'])
    // fromModule, as a host loads a module namespace.
    expectInvalid(refused(() => ActorRegistry.fromModule({ Counter, Impostor })), /two actor classes are named Counter/)
  })

  test.each([
    ['a slash', 'a/b', /actor type "a\/b" \(class Named\) must be non-empty and contain no '\/'/],
    ['empty', '', /actor type "" \(class Named\) must be non-empty/],
    ['a number', 42, /Named\.actorType must be a string, got number/],
    ['null', null, /Named\.actorType must be a string, got null/],
  ])('static actorType %s', (_name, actorType, message) => {
    class Named extends Actor {
      static actorType = actorType as string
      get() { return 0 }
    }
    expectInvalid(registering(Named), message)
  })

  test.each([
    ['an unknown level', 'eventual', /Bad\.consistency must be one of memory, local, quorum, strong, got "eventual"/],
    ['a number', 3, /Bad\.consistency must be one of .*, got number/],
  ])('static consistency %s', (_name, consistency, message) => {
    class Bad extends Actor {
      static consistency = consistency as 'strong'
      get() { return 0 }
    }
    expectInvalid(registering(Bad), message)
  })

  test.each([
    ['a string (it used to read as the methods g, e, t)', 'readOnly', 'get', /Listy\.readOnly must be an array of method names \(e\.g\. \['get'\]\), got "get"/],
    ['a Set', 'readOnly', new Set(['get']), /Listy\.readOnly must be an array of method names/],
    ['a number in the list', 'reentrant', ['get', 7], /Listy\.reentrant must hold method names, got number/],
    ['an empty name', 'reentrant', [''], /Listy\.reentrant must hold method names, got ""/],
    ['a method it does not have', 'readOnly', ['gett'], /Listy\.readOnly names "gett", which is not a public method of Listy \(methods: get, set\)/],
    ['a lifecycle hook', 'reentrant', ['onActivate'], /Listy\.reentrant names "onActivate", which is not a public method/],
    ['a private method', 'readOnly', ['_secret'], /Listy\.readOnly names "_secret"/],
    ['a getter', 'readOnly', ['size'], /Listy\.readOnly names "size"/],
  ])('static %s: %s', (_name, which, list, message) => {
    class Listy extends Actor<{ v: number }> {
      static readOnly = which === 'readOnly' ? (list as string[]) : undefined
      static reentrant = which === 'reentrant' ? (list as string[]) : undefined
      initialState() { return { v: 0 } }
      get() { return this.state.v }
      set(v: number) { this.state.v = v }
      _secret() { return 0 }
      get size() { return 1 }
    }
    expectInvalid(registering(Listy), message)
  })

  test.each(['actor', 'remind', 'forget', 'reminderNames', 'setTimer', 'state'])('a method named like the base class\'s own %s', (name) => {
    class Clash extends Actor {
      get() { return 0 }
    }
    Object.defineProperty(Clash.prototype, name, { value: () => 1 })
    expectInvalid(registering(Clash), new RegExp(`Clash\\.${name} replaces the Actor base class's own ${name}`))
  })

  test('an accessor named like the base class\'s own id, key or hostId', () => {
    class Shadow extends Actor {
      get id() { return 'mine' }
      get() { return 0 }
    }
    expectInvalid(registering(Shadow), /Shadow\.id replaces the Actor base class's own id/)
    // initialState and the lifecycle hooks are meant to be overridden.
    class Fine extends Actor<{ n: number }> {
      initialState() { return { n: 1 } }
      onActivate() {}
      get() { return this.state.n }
    }
    expect(() => new ActorRegistry().register(Fine as never)).not.toThrow()
  })

  test('good static lists still set each method\'s mode, inherited ones too', () => {
    class Base extends Actor<{ v: number }> {
      static readOnly = ['get']
      static reentrant = ['ping']
      initialState() { return { v: 0 } }
      get() { return this.state.v }
      ping() { return 'pong' }
      set(v: number) { this.state.v = v }
    }
    class Derived extends Base {
      @readOnly peek() { return this.state.v }
    }
    const registry = new ActorRegistry()
    registry.register(Base as never)
    registry.register(Derived as never)
    for (const type of ['Base', 'Derived']) {
      const methods = registry.get(type)!.methods
      expect(methods.get('get')!.mode).toBe('read')
      expect(methods.get('ping')!.mode).toBe('reentrant')
      expect(methods.get('set')!.mode).toBe('write')
    }
    expect(registry.get('Derived')!.methods.get('peek')!.mode).toBe('read')
  })
})

describe('Cluster.start with a bad actors module', () => {
  // Every worker thread is an OS thread of this process (vitest runs this file in a fork).
  const threads = (): number => readdirSync('/proc/self/task').length

  test.each([
    ['duplicate-type.js', /options\.actors: two actor classes are named Counter \(classes Counter and OtherCounter\)/],
    ['slash-type.js', /options\.actors: actor type "a\/b" \(class Sliced\) must be non-empty and contain no '\/'/],
    ['bad-consistency.js', /options\.actors: Eventual\.consistency must be one of memory, local, quorum, strong, got "eventual"/],
    ['readonly-string.js', /options\.actors: Stringly\.readOnly must be an array of method names/],
    ['reentrant-unknown.js', /options\.actors: Typo\.reentrant names "pnig", which is not a public method of Typo/],
  ])('%s gives InvalidArgument naming the problem, and leaves no worker behind', async (file, message) => {
    const before = threads()
    const error = await failure(Cluster.start({ actors: new URL(`./fixtures/bad/${file}`, import.meta.url), hosts: 2 }))
    expectInvalid(error, message)
    // A terminated worker's thread is joined shortly after: wait for it, then compare.
    for (let waited = 0; threads() > before && waited < 3000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(threads()).toBeLessThanOrEqual(before)
  })
})

describe('Cluster.start with bad numeric options', () => {
  const notADirectory = join(tmpdir(), `troupe-bad-input-${process.pid}`)
  beforeAll(() => writeFileSync(notADirectory, 'a file, not a directory'))

  const numbers = (name: string, bad: Array<[string, unknown]>, nest: (value: unknown) => object): Array<[string, object, RegExp]> =>
    bad.map(([what, value]) => [`${name} ${what}`, nest(value), new RegExp(name.replace(/\./g, '\\.'))])
  const wrong: Array<[string, unknown]> = [['a string', '1000'], ['null', null], ['negative', -1], ['NaN', Number.NaN], ['not an integer', 1.5], ['Infinity', Number.POSITIVE_INFINITY], ['absurdly large', 1e12]]

  test.each([
    ...numbers('options.heartbeatMs', wrong, (v) => ({ heartbeatMs: v })),
    ...numbers('options.hangTimeoutMs', wrong, (v) => ({ hangTimeoutMs: v })),
    ...numbers('options.heapMbMax', [...wrong, ['below 16 MB', 8]], (v) => ({ heapMbMax: v })),
    ...numbers('options.hosts', wrong, (v) => ({ hosts: v })),
    ...numbers('options.spinWaitUs', [...wrong, ['above 10,000 µs', 10_001]], (v) => ({ spinWaitUs: v })),
    ...numbers('options.replicas', [...wrong, ['above 7', 8]], (v) => ({ replicas: v })),
    ...numbers('supervision.intensity', wrong, (v) => ({ supervision: { intensity: v } })),
    ...numbers('supervision.periodMs', [...wrong, ['zero', 0]], (v) => ({ supervision: { periodMs: v } })),
    ...numbers('supervision.restartDelayMs', wrong, (v) => ({ supervision: { restartDelayMs: v } })),
    ...numbers('autoscale.intervalMs', wrong, (v) => ({ autoscale: { intervalMs: v } })),
    ...numbers('autoscale.cooldownMs', wrong, (v) => ({ autoscale: { cooldownMs: v } })),
    ...numbers('autoscale.minHosts', [...wrong, ['zero', 0]], (v) => ({ autoscale: { minHosts: v } })),
    ...numbers('autoscale.scaleUpCallsPerHost', wrong, (v) => ({ autoscale: { scaleUpCallsPerHost: v } })),
    ...numbers('limits', wrong, (v) => ({ limits: { callTimeoutMs: v } })),
    ...numbers('limits', [['above 2^31 - 1 ms (a timer would fire at once)', 2 ** 31]], (v) => ({ limits: { idleTimeoutMs: v } })),
    ...numbers('limits', [['above 2^20', 2 ** 21]], (v) => ({ limits: { shardCount: v } })),
    ['pings further apart than the hang timeout (the lease would lapse)', { heartbeatMs: 5000, hangTimeoutMs: 1000 }, /options\.heartbeatMs \(5000\) must not exceed options\.hangTimeoutMs \(1000\)/],
    ['autoscale.maxHosts below minHosts', { autoscale: { minHosts: 4, maxHosts: 2 } }, /autoscale\.maxHosts/],
    ['supervision not an object', { supervision: 'one_for_all' }, /options\.supervision must be an object/],
    ['a misspelt option', { host: 4 }, /options: unknown option "host"/],
    ['a misspelt supervision option', { supervision: { intensty: 1 } }, /options\.supervision: unknown option "intensty"/],
    ['a misspelt autoscale option', { autoscale: { maxHost: 3 } }, /options\.autoscale: unknown option "maxHost"/],
    ['a dataDir through a file', { dataDir: join(notADirectory, 'data') }, /options\.dataDir: cannot create/],
    ['limits null', { limits: null }, /options\.limits: limits must be an object of limit names and numbers, got null/],
    ['limits an array', { limits: [1] }, /options\.limits: limits must be an object .*, got an array/],
  ])('%s gives InvalidArgument', async (_name, options, message) => {
    const error = await failure(Cluster.start({ actors, hosts: 1, ...options } as never))
    expectInvalid(error, message)
  })

  test('an option given as undefined keeps its default, in supervision too', async () => {
    const cluster = await Cluster.start({ actors, hosts: 1, supervision: { strategy: undefined, restartDelayMs: undefined }, limits: { callTimeoutMs: undefined } })
    await cluster.stop()
  })

  test('an actors URL Node cannot open gives InvalidArgument', async () => {
    expectInvalid(await failure(Cluster.start({ actors: 'file://[bad/actors.js', hosts: 1 })), /options\.actors: "file:\/\/\[bad\/actors\.js" is not a local module: Invalid URL/)
  })
})

describe('a running cluster refuses bad names', () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await Cluster.start({ actors: examples, hosts: 1, replicas: 0 })
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  test.each([
    ['a number', 42, /actor type must be a non-empty string without '\/', got number/],
    ['null', null, /got object/],
    ['an object', {}, /got object/],
    ['containing a slash', 'Counter/x', /got "Counter\/x"/],
    ['empty', '', /got ""/],
    ['an anonymous function', (() => () => 0)(), /got ""/],
  ])('cluster.actor with a type name %s gives InvalidArgument', (_name, type, message) => {
    expectInvalid(refused(() => cluster.actor(type as never, 'x')), message)
  })

  test('cluster.actor with a bad id, and a type that is not loaded', () => {
    expectInvalid(refused(() => cluster.actor('Counter', '')), /actor id must be a non-empty string/)
    expectInvalid(refused(() => cluster.actor('Counter', 7 as never)), /actor id must be a non-empty string, got number/)
    expect(refused(() => cluster.actor('Nope', 'x')).kind).toBe('UnknownActorType')
    // ownersOf checks as ownerOf does: nothing is placed for a type no host serves.
    expect(refused(() => cluster.ownersOf('Nope', 'x')).kind).toBe('UnknownActorType')
    expectInvalid(refused(() => cluster.ownersOf('Counter', '')), /actor id must be a non-empty string/)
  })

  test('kill, scale and journal with bad arguments give InvalidArgument; the cluster keeps serving', async () => {
    expectInvalid(await failure(cluster.kill('host-9')), /no live host host-9 \(live: host-0\)/)
    expectInvalid(await failure(cluster.kill(7 as never)), /a host id must be a string/)
    for (const n of [0, -1, 1.5, Number.NaN, 10_000, '2']) expectInvalid(await failure(cluster.scale(n as never)), /scale needs an integer from 1 to 256/)
    expectInvalid(await failure(cluster.journal('no-slash')), /journal needs a key "Type\/id"/)
    expectInvalid(await failure(cluster.drain('host-9')), /no live host host-9 \(live: host-0\)/)
    // replicas: 0 and journaled types: moving an actor would lose its only copy.
    expectInvalid(await failure(cluster.drain('host-0')), /drain: with replicas: 0 an actor's only copy is on its host/)
    expectInvalid(await failure(cluster.addHost()), /addHost: with replicas: 0/)
    expectInvalid(await failure(cluster.scale(2)), /scale: with replicas: 0/)
    expect(await cluster.actor<{ increment(by?: number): Promise<number> }>('Counter', 'after').increment(2)).toBe(2)
    expect(cluster.view.hosts).toEqual(['host-0'])
  })
})

describe('the gateway refuses bad options', () => {
  test.each([
    ['bodyBytesMax NaN (no size would compare above it)', { bodyBytesMax: Number.NaN }, /bodyBytesMax must be an integer from 1 to 268435456/],
    ['bodyBytesMax 0', { bodyBytesMax: 0 }, /bodyBytesMax/],
    ['bodyBytesMax past what one string holds', { bodyBytesMax: 2 ** 30 }, /bodyBytesMax/],
    ['sampleEveryMs negative', { sampleEveryMs: -5 }, /sampleEveryMs/],
    ['knownKeysMax a string', { knownKeysMax: '10' }, /knownKeysMax must be an integer from 0 to 1000000, got string/],
  ])('new Gateway with %s', (_name, options, message) => {
    expectInvalid(refused(() => new Gateway(options as never)), message)
  })

  test('listen refuses a bad port, and an empty host (Node would listen on every interface)', async () => {
    const gateway = new Gateway()
    expectInvalid(await failure(gateway.listen(-1)), /port must be an integer from 0 to 65535/)
    expectInvalid(await failure(gateway.listen(70_000)), /port/)
    expectInvalid(await failure(gateway.listen(0, '')), /the gateway host must be an address or a host name/)
  })
})
