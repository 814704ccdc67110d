/** The gateway's pure parts: error statuses, JSON of results, what-if, metrics. */
import { describe, expect, test } from 'vitest'
import { TroupeError, type ErrorKind } from '../../runtime/errors.ts'
import { errorAnswer, HttpError, statusOfKind } from '../../runtime/gateway/http-errors.ts'
import { toJson } from '../../runtime/gateway/json.ts'
import { LatencyWindow, percentileOf, RateTracker } from '../../runtime/gateway/metrics.ts'
import { whatIfKill } from '../../runtime/gateway/what-if.ts'
import { loadPointHasher } from '../../runtime/hash.ts'
import { Placement } from '../../runtime/ring.ts'

describe('error statuses', () => {
  test.each<[ErrorKind, number]>([
    ['UnknownActorType', 404], ['UnknownMethod', 404], ['InvalidArgument', 400], ['Unserializable', 400],
    ['PayloadTooLarge', 413], ['MailboxFull', 429], ['CallTimeout', 504], ['HostUnavailable', 503],
    ['ActorFailed', 500], ['Deadlock', 500], ['ActivationFailed', 500], ['StorageFull', 500],
  ])('%s -> %i', (kind, status) => {
    expect(statusOfKind(kind)).toBe(status)
    expect(errorAnswer(new TroupeError(kind, 'boom')).status).toBe(status)
  })

  test('ActorFailed keeps the error name and actor, never the stack', () => {
    const answer = errorAnswer(new TroupeError('ActorFailed', 'no', { name: 'RangeError', stack: 'RangeError: no\n  at secret.ts:1', actor: 'Account/a' }))
    expect(answer.body).toEqual({ kind: 'ActorFailed', message: 'no', name: 'RangeError', actor: 'Account/a' })
  })

  test("ActorFailed carries the thrown error's fields as data, but not its cause", () => {
    const data = { code: 'E_FUNDS', needed: 30, cause: new Error('inside') }
    expect(errorAnswer(new TroupeError('ActorFailed', 'no', { name: 'InsufficientFunds', data })).body).toEqual({ kind: 'ActorFailed', message: 'no', name: 'InsufficientFunds', data: { code: 'E_FUNDS', needed: 30 } })
    expect(errorAnswer(new TroupeError('ActorFailed', 'no', { data: { cause: 1 } })).body).not.toHaveProperty('data')
  })

  test('429 and 503 say when to retry; anything else is a 500 Internal', () => {
    expect(errorAnswer(new TroupeError('MailboxFull', 'full')).headers['retry-after']).toBe('1')
    expect(errorAnswer(new TroupeError('HostUnavailable', 'gone')).headers['retry-after']).toBe('1')
    expect(errorAnswer(new Error('surprise'))).toMatchObject({ status: 500, body: { kind: 'Internal', message: 'surprise' } })
    expect(errorAnswer(new HttpError(405, 'MethodNotAllowed', 'no', { allow: 'POST' }))).toMatchObject({ status: 405, headers: { allow: 'POST' } })
  })
})

describe('results as JSON', () => {
  test('Map, Set, bigint, typed arrays, Date and undefined have a JSON form', () => {
    expect(toJson(undefined)).toBe('null')
    expect(JSON.parse(toJson({ m: new Map([['a', 1]]), n: new Map([[1, 'x']]), s: new Set([1, 2]), b: 10n, u: new Uint8Array([1, 2]), d: new Date(0) }))).toEqual({
      m: { a: 1 }, n: [[1, 'x']], s: [1, 2], b: '10', u: [1, 2], d: '1970-01-01T00:00:00.000Z',
    })
  })
})

describe('what-if kill', () => {
  const ring = { shardCount: 4096, vnodesPerHost: 64 }
  const view = { epoch: 7, hosts: ['host-0', 'host-1', 'host-2', 'host-3'] }

  test('exactly the shards the host is primary of move, each to the primary of the view without it', async () => {
    const hasher = await loadPointHasher()
    const w = whatIfKill({ view, host: 'host-2', replicas: 2, ring, hasher, keys: ['Counter/a', 'Counter/b', 'Account/7'] })
    const now = Placement.build(view, ring, hasher)
    const next = Placement.build({ epoch: 8, hosts: ['host-0', 'host-1', 'host-3'] }, ring, hasher)
    expect(w.after).toEqual({ epoch: 8, hosts: ['host-0', 'host-1', 'host-3'] })
    expect(w.primaryShards).toBe(now.shardsPerHost().get('host-2'))
    expect(w.moves.reduce((a, m) => a + m.shards, 0)).toBe(w.primaryShards)
    // With backups, the new primary is always the first backup: every move is warm.
    expect(w.moves.every((m) => m.cold === 0 && m.warm === m.shards)).toBe(true)
    for (const a of w.actors) {
      expect(a.from).toBe(now.primary(a.key))
      expect(a.to).toBe(next.primary(a.key))
      expect(a.effect === 'moves-warm').toBe(a.from === 'host-2')
    }
    const shares = w.ringShare.reduce((a, r) => a + r.after, 0)
    expect(shares).toBeCloseTo(1, 9)
  })

  test('without replicas every move is cold', async () => {
    const w = whatIfKill({ view, host: 'host-0', replicas: 0, ring, hasher: await loadPointHasher() })
    expect(w.moves.every((m) => m.warm === 0)).toBe(true)
    expect(w.backupShards).toBe(0)
  })

  test('an unknown or last host is refused', async () => {
    const hasher = await loadPointHasher()
    expect(() => whatIfKill({ view, host: 'host-9', replicas: 2, ring, hasher })).toThrow(RangeError)
    expect(() => whatIfKill({ view: { epoch: 1, hosts: ['solo'] }, host: 'solo', replicas: 2, ring, hasher })).toThrow(/last host/)
  })
})

describe('metrics', () => {
  test('percentiles are nearest-rank over the window', () => {
    expect(percentileOf([], 0.99)).toBeNull()
    expect(percentileOf(Array.from({ length: 100 }, (_, i) => i + 1), 0.99)).toBe(99)
    const window = new LatencyWindow({ size: 4, windowMs: 1000 })
    for (const ms of [1, 2, 3, 4, 100]) window.record('h', ms, 0)
    expect(window.percentile('h', 1, 10)).toBe(100) // the ring kept the last 4
    expect(window.percentile('h', 1, 5000)).toBeNull() // all older than the window
  })

  test('rates come from the newest sample at least a second old', () => {
    const rates = new RateTracker()
    rates.add(new Map([['h', 0]]), 0)
    rates.add(new Map([['h', 500]]), 1000)
    expect(rates.rates(new Map([['h', 1500]]), 2000).get('h')).toBe(1000)
    expect(rates.rates(new Map([['new', 5]]), 2000).get('new')).toBeNull()
  })
})

describe('GET /status on a slow cluster', () => {
  test('asks for the hosts and for duplicate activations at once (each may wait hangTimeoutMs on a hung host)', async () => {
    const { Gateway } = await import('../../runtime/gateway/server.ts')
    const asked: string[] = []
    const waiting: Array<() => void> = []
    const cluster = {
      view: { epoch: 1, hosts: ['host-0'] },
      call: () => Promise.resolve(undefined),
      ownerOf: () => 'host-0',
      hosts: () => {
        asked.push('hosts')
        return new Promise<never[]>((resolve) => waiting.push(() => resolve([])))
      },
      duplicateActivations: () => {
        asked.push('duplicates')
        // The hosts answer only once this is asked: asked one after the other, /status would never answer.
        for (const answer of waiting.splice(0)) answer()
        return Promise.resolve([])
      },
      kill: () => Promise.resolve(),
      on: () => () => undefined,
    }
    const gateway = new Gateway()
    const { url } = await gateway.listen(0)
    gateway.attach(cluster)
    try {
      const answer = await fetch(`${url}/status`)
      expect(answer.status).toBe(200)
      expect(asked.filter((what) => what === 'duplicates')).toHaveLength(1)
    } finally {
      await gateway.close()
    }
  })
})
