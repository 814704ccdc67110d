import { TroupeError } from '../runtime/errors.ts'
import { decodeFrame, type Envelope } from './envelope.ts'
import { Outbox } from './outbox.ts'
import type { PeerId, Transport, TransportHandlers } from './transport.ts'

/**
 * An in-process network: every peer's transport delivers to the others through a structured
 * clone on a later microtask, as a worker boundary would, with no loss and in order.
 */
export class MemoryNetwork {
  private readonly members = new Map<PeerId, MemoryTransport>()

  /** Creates the transport of a new peer on this network. */
  connect(self: PeerId): MemoryTransport {
    if (this.members.has(self)) throw new TroupeError('InvalidArgument', `peer ${self} is already connected`)
    const transport = new MemoryTransport(self, this)
    this.members.set(self, transport)
    return transport
  }

  /** @internal */
  member(peer: PeerId): MemoryTransport | undefined {
    return this.members.get(peer)
  }

  /** @internal */
  leave(peer: PeerId): void {
    this.members.delete(peer)
  }

  peers(): PeerId[] {
    return [...this.members.keys()]
  }
}

export class MemoryTransport implements Transport {
  readonly self: PeerId
  private readonly network: MemoryNetwork
  private handlers: TransportHandlers | undefined
  private readonly outbox = new Outbox((to, frame) => this.flushFrame(to, frame))
  private closed = false

  constructor(self: PeerId, network: MemoryNetwork) {
    this.self = self
    this.network = network
  }

  listen(handlers: TransportHandlers): void {
    this.handlers = handlers
  }

  send(to: PeerId, envelope: Envelope): void {
    if (!this.closed) this.outbox.push(to, envelope)
  }

  peers(): PeerId[] {
    return this.network.peers().filter((peer) => peer !== this.self)
  }

  close(): void {
    this.closed = true
    this.outbox.clear()
    this.network.leave(this.self)
  }

  /** @internal Receives a frame already cloned for this peer. */
  deliver(from: PeerId, frame: unknown): void {
    const handlers = this.handlers
    if (this.closed || !handlers) return
    for (const envelope of decodeFrame(frame, (error, raw) => handlers.malformed?.(from, error, raw))) {
      handlers.envelope(from, envelope)
    }
  }

  private flushFrame(to: PeerId, frame: Envelope[]): void {
    const target = this.network.member(to)
    if (!target) {
      const error = new TroupeError('HostUnavailable', `no peer ${to} on this network`)
      for (const envelope of frame) this.handlers?.undeliverable?.(to, envelope, error)
      return
    }
    const cloned: Envelope[] = []
    for (const envelope of frame) {
      try {
        cloned.push(structuredClone(envelope))
      } catch (error) {
        this.handlers?.undeliverable?.(to, envelope, new TroupeError('Unserializable', (error as Error).message))
      }
    }
    queueMicrotask(() => target.deliver(this.self, cloned))
  }
}
