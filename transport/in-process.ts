import { TroupeError } from '../runtime/errors.ts'
import { decodeFrame, type Envelope } from './envelope.ts'
import { Outbox } from './outbox.ts'
import type { PeerId, Transport, TransportHandlers } from './transport.ts'

/** What an in-process transport needs from its network. */
export interface InProcessNetwork {
  /** True when `peer` is connected now. */
  has(peer: PeerId): boolean
  leave(peer: PeerId): void
  peers(): PeerId[]
}

/**
 * A peer's transport on a network inside one realm: frames batched per tick, each envelope
 * structured-cloned (as a worker boundary would), handed to the network by `transmit`. The
 * memory and simulated networks differ only in how they carry a frame.
 */
export abstract class InProcessTransport implements Transport {
  readonly self: PeerId
  protected readonly network: InProcessNetwork
  private handlers: TransportHandlers | undefined
  private readonly outbox = new Outbox((to, frame) => this.flushFrame(to, frame))
  private closed = false

  constructor(self: PeerId, network: InProcessNetwork) {
    this.self = self
    this.network = network
  }

  /** Carries a frame already cloned for `to`. */
  protected abstract transmit(to: PeerId, frame: Envelope[]): void

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

  /** @internal Receives a wire value (normally a frame already cloned for this peer). */
  deliver(from: PeerId, frame: unknown): void {
    const handlers = this.handlers
    if (this.closed || !handlers) return
    for (const envelope of decodeFrame(frame, (error, raw) => handlers.malformed?.(from, error, raw))) {
      handlers.envelope(from, envelope)
    }
  }

  private flushFrame(to: PeerId, frame: Envelope[]): void {
    if (this.closed) return
    if (!this.network.has(to)) {
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
    if (cloned.length > 0) this.transmit(to, cloned)
  }
}
