import type { TroupeError } from '../runtime/errors.ts'
import type { Envelope } from '../transport/envelope.ts'
import type { SimulatedTransport } from '../transport/simulated.ts'
import type { PeerId, Transport, TransportHandlers } from '../transport/transport.ts'

/** Renders an envelope for the trace: kind, request id, and for calls the key and method. */
export function describeEnvelope(envelope: Envelope): string {
  if (envelope.t === 'call') return `call ${envelope.id} ${envelope.key}.${envelope.method}`
  if (envelope.t === 'reply') return `reply ${envelope.id} ${envelope.ok ? 'ok' : `err ${envelope.error.kind}`}`
  if (envelope.t === 'redirect') return `redirect ${envelope.id} epoch ${envelope.view.epoch}`
  // Replication and recovery envelopes, read loosely (their shapes grow with the runtime).
  const other = envelope as { t: string; id?: unknown; key?: unknown; epoch?: unknown; seq?: unknown; lastEpoch?: unknown; status?: unknown; records?: Array<{ seq: number; epoch: number }>; snapshot?: { seq: number; epoch: number } }
  const parts = [other.t, typeof other.id === 'string' ? other.id : '?']
  if (typeof other.key === 'string') parts.push(other.key)
  if (typeof other.epoch === 'number') parts.push(`epoch ${other.epoch}`)
  if (Array.isArray(other.records) && other.records.length > 0) parts.push(`records ${other.records[0]!.seq}..${other.records[other.records.length - 1]!.seq}@${other.records[other.records.length - 1]!.epoch}`)
  if (other.snapshot !== undefined) parts.push(`snapshot ${other.snapshot.seq}@${other.snapshot.epoch}`)
  if (typeof other.seq === 'number') parts.push(`seq ${other.seq}${typeof other.lastEpoch === 'number' ? `@${other.lastEpoch}` : ''}`)
  if (typeof other.status === 'string') parts.push(other.status)
  return parts.join(' ')
}

/**
 * A peer's transport as the simulation sees it: the real `SimulatedTransport` underneath, plus
 * a freeze switch (a paused host neither receives nor sends; what arrives meanwhile waits in
 * order and is handed over at `resume`, as a hung process's socket buffers would) and a tap
 * that writes every delivery to the trace.
 */
export class GatedTransport implements Transport {
  readonly self: PeerId
  private readonly inner: SimulatedTransport
  private readonly tap: (line: string) => void
  private handlers: TransportHandlers | undefined
  private inbound: Array<[PeerId, Envelope]> = []
  private outbound: Array<[PeerId, Envelope]> = []
  private paused = false
  private closed = false

  constructor(inner: SimulatedTransport, tap: (line: string) => void) {
    this.self = inner.self
    this.inner = inner
    this.tap = tap
  }

  listen(handlers: TransportHandlers): void {
    this.handlers = handlers
    this.inner.listen({
      envelope: (from, envelope) => this.arrive(from, envelope),
      malformed: (from, error, raw) => this.handlers?.malformed?.(from, error, raw),
      undeliverable: (to, envelope, error) => this.undeliverable(to, envelope, error),
    })
  }

  send(to: PeerId, envelope: Envelope): void {
    if (this.closed) return
    if (this.paused) this.outbound.push([to, envelope])
    else this.inner.send(to, envelope)
  }

  peers(): PeerId[] {
    return this.inner.peers()
  }

  /** Closes the real transport: the peer leaves the network (a crash, or a stop). */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.inbound = []
    this.outbound = []
    this.inner.close()
  }

  /** Freezes this peer: nothing is handed to it or sent by it until `resume`. */
  pause(): void {
    this.paused = true
  }

  /** Thaws this peer: what waited is handed over and sent, in order. */
  resume(): void {
    this.paused = false
    const inbound = this.inbound
    const outbound = this.outbound
    this.inbound = []
    this.outbound = []
    for (const [to, envelope] of outbound) this.inner.send(to, envelope)
    for (const [from, envelope] of inbound) this.arrive(from, envelope)
  }

  private arrive(from: PeerId, envelope: Envelope): void {
    if (this.closed) return
    if (this.paused) {
      this.inbound.push([from, envelope])
      return
    }
    this.tap(`${from}->${this.self} ${describeEnvelope(envelope)}`)
    this.handlers?.envelope(from, envelope)
  }

  private undeliverable(to: PeerId, envelope: Envelope, error: TroupeError): void {
    if (this.closed) return
    this.tap(`${this.self}->${to} undeliverable ${describeEnvelope(envelope)} ${error.kind}`)
    this.handlers?.undeliverable?.(to, envelope, error)
  }
}
