import { TroupeError } from '../runtime/errors.ts'
import type { Envelope } from './envelope.ts'
import { InProcessTransport, type InProcessNetwork } from './in-process.ts'
import type { PeerId } from './transport.ts'

/**
 * An in-process network: every peer's transport delivers to the others through a structured
 * clone on a later microtask, as a worker boundary would, with no loss and in order.
 */
export class MemoryNetwork implements InProcessNetwork {
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
  has(peer: PeerId): boolean {
    return this.members.has(peer)
  }

  /** @internal */
  leave(peer: PeerId): void {
    this.members.delete(peer)
  }

  peers(): PeerId[] {
    return [...this.members.keys()]
  }
}

/** One peer's transport on a `MemoryNetwork`: frames arrive on a later microtask, in order. */
export class MemoryTransport extends InProcessTransport {
  protected transmit(to: PeerId, frame: Envelope[]): void {
    const target = (this.network as MemoryNetwork).member(to)
    if (target) queueMicrotask(() => target.deliver(this.self, frame))
  }
}
