import { once } from 'node:events'
import { MessageChannel, Worker } from 'node:worker_threads'
import { describe, expect, test } from 'vitest'
import type { Endpoint } from '../../transport/endpoint.ts'
import type { Envelope } from '../../transport/envelope.ts'
import { nodeEndpoint } from '../../transport/node-endpoint.ts'
import { PortTransport } from '../../transport/port.ts'
import { SpinPolicy } from '../../transport/spin-wait.ts'
import { toWire } from '../../transport/wire.ts'
import { call, Recorder } from './conformance.ts'

const reply = (id: string): Envelope => ({ v: 1, t: 'reply', id, ok: true, value: id })

/** An endpoint whose incoming messages the test queues, readable only by polling (`receiveNow`). */
function pollableEndpoint() {
  const inbox: unknown[] = []
  const sent: unknown[] = []
  let polls = 0
  const endpoint: Endpoint = {
    postMessage: (message) => sent.push(message),
    listen: () => {},
    close: () => {},
    receiveNow: () => {
      polls++
      return inbox.length > 0 ? { message: inbox.shift() } : undefined
    },
  }
  return { endpoint, inbox, sent, polls: () => polls }
}

/** A transport that flushes when the test says so, spinning on a clock that moves 10 µs per read. */
function spinning(links: Array<[string, Endpoint]>, awaiting: () => boolean = () => true) {
  let nowMs = 0
  let reads = 0
  let pending: (() => void) | undefined
  const transport = new PortTransport('client', links, {
    schedule: (flush) => { pending = flush },
    spinWait: { budgetUs: 100, awaiting, now: () => { reads++; return (nowMs += 0.01) } },
  })
  const recorder = new Recorder(transport)
  const flush = (): void => {
    const run = pending
    pending = undefined
    run?.()
  }
  return { transport, recorder, flush, clockReads: () => reads }
}

/** Runs `waits` waits: 's' where the policy spun (with the outcome `spin` gives), '-' where it skipped. */
function pattern(policy: SpinPolicy, waits: number, spin: () => 'caught' | 'missed'): string {
  let out = ''
  for (let i = 0; i < waits; i++) {
    const spun = policy.spinNow()
    out += spun ? 's' : '-'
    if (spun) policy[spin()]()
  }
  return out
}

describe('SpinPolicy', () => {
  test('spins while spins catch; after a run of misses it skips 1, 2, 4 … waits (capped), trying once between', () => {
    const policy = new SpinPolicy(100, 4)
    expect(pattern(policy, 3, () => 'caught')).toBe('sss')
    expect(pattern(policy, 16, () => 'missed')).toBe('sss-s--s----s---')
  })

  test('hits and misses that alternate still back off (a miss costs more than a hit saves)', () => {
    const policy = new SpinPolicy(100, 1024)
    let n = 0
    expect(pattern(policy, 48, () => (n++ % 2 === 0 ? 'caught' : 'missed'))).toBe('ssssss-ss--ss----ss--------ss----------------ss-')
  })

  test('a run of hits after backing off resumes spinning at every wait', () => {
    const policy = new SpinPolicy(100, 1024)
    pattern(policy, 40, () => 'missed')
    const resumed = pattern(policy, 80, () => 'caught')
    expect(resumed.endsWith('s'.repeat(40))).toBe(true)
    // A miss now is one miss at a good rate: no skip.
    expect(pattern(policy, 2, () => 'missed')).toBe('ss')
  })

  test.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('a budget of %s µs is refused', (budget) => {
    expect(() => new SpinPolicy(budget)).toThrow(RangeError)
  })
})

describe('a PortTransport with spinWait', () => {
  test('after a flush it polls for the reply and hands it over before the flush returns, in order, once', () => {
    const link = pollableEndpoint()
    const { transport, recorder, flush } = spinning([['h0', link.endpoint]])
    transport.send('h0', call('c1'))
    link.inbox.push(toWire([reply('c1'), reply('c2')]))
    flush()
    expect(link.sent).toHaveLength(1)
    expect(recorder.ids()).toEqual(['c1', 'c2'])
    expect(transport.spins).toEqual({ caught: 1, missed: 0 })
  })

  test('a spin that gets nothing ends at its budget; after three such misses the next wait does not spin', () => {
    const link = pollableEndpoint()
    const { transport, flush, clockReads } = spinning([['h0', link.endpoint]])
    for (let i = 0; i < 3; i++) {
      transport.send('h0', call(`c${i}`))
      flush()
    }
    expect(transport.spins).toEqual({ caught: 0, missed: 3 })
    // 100 µs at 10 µs per clock read: about ten polls per spin, not an endless loop.
    expect(link.polls()).toBeGreaterThanOrEqual(27)
    expect(link.polls()).toBeLessThanOrEqual(36)
    const reads = clockReads()
    transport.send('h0', call('c3'))
    flush()
    expect(clockReads()).toBe(reads)
    expect(transport.spins.missed).toBe(3)
  })

  test('a silenced transport does not spin', () => {
    const link = pollableEndpoint()
    const transport = new PortTransport('h0', [['h1', link.endpoint]], {
      schedule: (flush) => flush(),
      silenced: () => true,
      spinWait: { budgetUs: 100, awaiting: () => true, now: () => 0 },
    })
    link.inbox.push(toWire([reply('r1')]))
    transport.send('h1', call('c1'))
    expect(link.polls()).toBe(0)
    expect(transport.spins).toEqual({ caught: 0, missed: 0 })
  })

  test('spinWait needs a scheduler that lets the event loop run between spins', () => {
    expect(() => new PortTransport('h0', [], { spinWait: { budgetUs: 100, awaiting: () => true, now: () => 0 } })).toThrow(TypeError)
  })

  test('it does not spin when nothing is awaited, nor over links that cannot be polled', () => {
    const idle = pollableEndpoint()
    const a = spinning([['h0', idle.endpoint]], () => false)
    a.transport.send('h0', call('c1'))
    a.flush()
    expect(idle.polls()).toBe(0)
    const webLike: Endpoint = { postMessage: () => {}, listen: () => {}, close: () => {} }
    const b = spinning([['h0', webLike]])
    b.transport.send('h0', call('c1'))
    b.flush()
    expect(b.clockReads()).toBe(0)
    expect(b.transport.spins).toEqual({ caught: 0, missed: 0 })
  })

  test('over a real Worker: every reply arrives once and in order, some of them taken by polling', async () => {
    const { port1, port2 } = new MessageChannel()
    const worker = new Worker(new URL('./fixtures/relay-worker.mjs', import.meta.url), { workerData: { echo: [port2] }, transferList: [port2] })
    try {
      await once(worker, 'message')
      let awaited = 0
      const transport = new PortTransport('client', [['echo', nodeEndpoint(port1)]], {
        schedule: setImmediate,
        eagerFirst: true,
        // Generous: a loaded CI machine still answers within it, most of the time.
        spinWait: { budgetUs: 20_000, awaiting: () => awaited > 0, now: () => performance.now() },
      })
      const recorder = new Recorder(transport)
      for (let i = 0; i < 100; i++) {
        awaited++
        const before = recorder.envelopes.length
        transport.send('echo', call(`c${i}`))
        while (recorder.envelopes.length === before) await new Promise((resolve) => setImmediate(resolve))
        awaited--
      }
      expect(recorder.ids()).toEqual(Array.from({ length: 100 }, (_, i) => `c${i}`))
      expect(transport.spins.caught).toBeGreaterThan(0)
      transport.close()
    } finally {
      await worker.terminate()
    }
  })
})
