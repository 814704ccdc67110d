import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import type { TroupeError } from '../../runtime/errors.ts'
import type { CallEnvelope, Envelope } from '../../transport/envelope.ts'
import type { PeerId, Transport } from '../../transport/transport.ts'

/**
 * The one suite every transport adapter runs (as hono's router `common.case.test.ts`):
 * the properties the runtime relies on, checked the same way for each medium.
 */

/** Three connected transports with ids 'a', 'b' and 'c', and how to drive their medium. */
export interface ConformanceHarness {
  transports: { a: Transport; b: Transport; c: Transport }
  /** Puts a raw wire value on the link from `from` to `to`, as if `from` had posted it. */
  injectRaw(from: 'a' | 'b' | 'c', to: 'a' | 'b' | 'c', raw: unknown): void
  /** Encodes envelopes (and raw junk entries) as one frame of this medium's wire form. */
  frame(entries: Array<Envelope | { junk: unknown }>): unknown
  /** Lets what is in flight arrive (or enough time pass that it would have). */
  settle(): Promise<void>
  /** Frees the medium (ports, workers). */
  dispose?(): Promise<void> | void
}

/** What a transport reported to its owner, in order. */
export class Recorder {
  readonly envelopes: { from: PeerId; envelope: Envelope; batch: number }[] = []
  readonly malformed: { from: PeerId; error: TroupeError; raw: unknown }[] = []
  readonly undeliverable: { to: PeerId; envelope: Envelope; error: TroupeError }[] = []
  private batch = 0
  private batchOpen = false

  constructor(transport: Transport) {
    transport.listen({
      envelope: (from, envelope) => {
        // Envelopes handed over in one synchronous run (one frame) share a batch number.
        if (!this.batchOpen) {
          this.batch++
          this.batchOpen = true
          queueMicrotask(() => (this.batchOpen = false))
        }
        this.envelopes.push({ from, envelope, batch: this.batch })
      },
      malformed: (from, error, raw) => this.malformed.push({ from, error, raw }),
      undeliverable: (to, envelope, error) => this.undeliverable.push({ to, envelope, error }),
    })
  }

  ids(): string[] {
    return this.envelopes.map((e) => e.envelope.id)
  }
}

/** A valid call envelope with the given id. */
export function call(id: string, args: unknown[] = []): CallEnvelope {
  return { v: 1, t: 'call', id, epoch: 0, key: 'Counter/alice', method: 'increment', args }
}

/** Settles until `done()` holds, or fails after `roundsMax` settles. */
export async function eventually(h: ConformanceHarness, done: () => boolean, roundsMax = 300): Promise<void> {
  for (let i = 0; i < roundsMax && !done(); i++) await h.settle()
  expect(done()).toBe(true)
}

/** Registers the conformance suite for one transport medium. */
export function describeTransportConformance(name: string, makePair: () => ConformanceHarness | Promise<ConformanceHarness>): void {
  describe(`transport conformance: ${name}`, () => {
    let h: ConformanceHarness
    let a: Transport, b: Transport, c: Transport
    let ra: Recorder, rb: Recorder, rc: Recorder

    beforeEach(async () => {
      h = await makePair()
      ;({ a, b, c } = h.transports)
      ra = new Recorder(a)
      rb = new Recorder(b)
      rc = new Recorder(c)
    })
    afterEach(async () => {
      for (const t of [a, b, c]) t.close()
      await h.dispose?.()
    })

    test('envelopes arrive tagged with the sender peer id', async () => {
      a.send('b', call('a1'))
      c.send('b', call('c1'))
      b.send('a', call('b1'))
      await eventually(h, () => rb.envelopes.length === 2 && ra.envelopes.length === 1)
      expect(rb.envelopes.map((e) => [e.from, e.envelope.id]).sort()).toEqual([['a', 'a1'], ['c', 'c1']])
      expect(ra.envelopes.map((e) => [e.from, e.envelope.id])).toEqual([['b', 'b1']])
      expect(rb.envelopes[0]!.envelope).toEqual(call(rb.envelopes[0]!.envelope.id))
    })

    test('envelopes sent to one peer in one tick arrive as one frame, in order, and frames stay in order', async () => {
      for (let i = 0; i < 5; i++) a.send('b', call(`x${i}`))
      a.send('c', call('toC'))
      await Promise.resolve() // the first tick's frame has been flushed: what follows is a second frame
      for (let i = 5; i < 8; i++) a.send('b', call(`x${i}`))
      await eventually(h, () => rb.envelopes.length === 8 && rc.envelopes.length === 1)
      expect(rb.ids()).toEqual(['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'])
      expect(new Set(rb.envelopes.slice(0, 5).map((e) => e.batch)).size).toBe(1)
      expect(new Set(rb.envelopes.slice(5).map((e) => e.batch)).size).toBe(1)
    })

    test('a malformed wire value is reported as MalformedEnvelope and the transport keeps working', async () => {
      h.injectRaw('a', 'b', { v: 99, t: 'call', id: 'bad' })
      h.injectRaw('a', 'b', 'not a frame')
      h.injectRaw('a', 'b', h.frame([call('ok1'), { junk: { v: 1, t: 'nope', id: 'bad2' } }, call('ok2')]))
      await eventually(h, () => rb.malformed.length === 3 && rb.envelopes.length === 2)
      for (const m of rb.malformed) {
        expect(m.from).toBe('a')
        expect(m.error.kind).toBe('MalformedEnvelope')
      }
      expect(rb.ids()).toEqual(['ok1', 'ok2'])
      a.send('b', call('after'))
      await eventually(h, () => rb.envelopes.length === 3)
      expect(rb.ids()[2]).toBe('after')
    })

    test('sending to an unknown peer reports HostUnavailable', async () => {
      a.send('nobody', call('lost'))
      await eventually(h, () => ra.undeliverable.length === 1)
      const [report] = ra.undeliverable
      expect(report!.to).toBe('nobody')
      expect(report!.envelope.id).toBe('lost')
      expect(report!.error.kind).toBe('HostUnavailable')
    })

    test('an envelope holding a function is Unserializable while the rest of its frame arrives', async () => {
      a.send('b', call('ok1'))
      a.send('b', call('fn', [() => 1]))
      a.send('b', call('ok2'))
      await eventually(h, () => ra.undeliverable.length === 1 && rb.envelopes.length === 2)
      expect(ra.undeliverable[0]!.envelope.id).toBe('fn')
      expect(ra.undeliverable[0]!.error.kind).toBe('Unserializable')
      expect(rb.ids()).toEqual(['ok1', 'ok2'])
    })

    test('close() stops delivery to and from the closed transport', async () => {
      a.send('b', call('before'))
      await eventually(h, () => rb.envelopes.length === 1)
      b.close()
      a.send('b', call('to-closed'))
      c.send('a', call('queued'))
      c.close() // in the same tick as the send: the queued frame never leaves
      c.send('a', call('from-closed'))
      for (let i = 0; i < 5; i++) await h.settle()
      expect(rb.ids()).toEqual(['before'])
      expect(ra.envelopes).toEqual([])
    })
  })
}
