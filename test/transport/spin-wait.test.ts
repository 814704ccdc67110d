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

describe('SpinPolicy', () => {
  test('spins while spins catch; after two misses in a row it skips 1, 2, 4 … waits (capped); one catch resets it', () => {
    const policy = new SpinPolicy(100, 4)
    const pattern = (waits: number, outcome: (spun: boolean) => void): string => {
      let out = ''
      for (let i = 0; i < waits; i++) {
        const spun = policy.spinNow()
        out += spun ? 's' : '-'
        if (spun) outcome(spun)
      }
      return out
    }
    expect(pattern(3, () => policy.caught())).toBe('sss')
    expect(pattern(16, () => policy.missed())).toBe('ss-ss--ss----ss-')
    expect(pattern(8, () => policy.missed())).toBe('---ss---')
    policy.caught()
    expect(pattern(4, () => policy.missed())).toBe('-ss-')
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

  test('a spin that gets nothing ends at its budget; after two such misses the next wait does not spin', () => {
    const link = pollableEndpoint()
    const { transport, flush, clockReads } = spinning([['h0', link.endpoint]])
    for (let i = 0; i < 2; i++) {
      transport.send('h0', call(`c${i}`))
      flush()
    }
    expect(transport.spins).toEqual({ caught: 0, missed: 2 })
    // 100 µs at 10 µs per clock read: about ten polls per spin, not an endless loop.
    expect(link.polls()).toBeGreaterThanOrEqual(18)
    expect(link.polls()).toBeLessThanOrEqual(24)
    const reads = clockReads()
    transport.send('h0', call('c2'))
    flush()
    expect(clockReads()).toBe(reads)
    expect(transport.spins.missed).toBe(2)
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
