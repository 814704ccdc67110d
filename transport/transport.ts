import type { TroupeError } from '../runtime/errors.ts'
import type { Envelope } from './envelope.ts'

/** Who is at the other end of a link: a host id, or a client's id. */
export type PeerId = string

/** What a transport reports to its owner. */
export interface TransportHandlers {
  /** A valid envelope arrived from `from`. */
  envelope(from: PeerId, envelope: Envelope): void
  /** A wire value from `from` failed validation (it is dropped after this call). */
  malformed?(from: PeerId, error: TroupeError, raw: unknown): void
  /** An envelope could not be sent (the peer is gone, or it cannot be cloned). */
  undeliverable?(to: PeerId, envelope: Envelope, error: TroupeError): void
}

/**
 * Moves envelopes between peers. Envelopes sent to one peer in the same tick go out as one
 * frame. Delivery is best effort: a transport may lose, delay or duplicate (the simulated one
 * does), so callers time out and retry with the same request id.
 */
export interface Transport {
  readonly self: PeerId
  /** Queues `envelope` for `to`; an unknown peer is reported through `undeliverable`. */
  send(to: PeerId, envelope: Envelope): void
  /** Sets the receiver of this transport's events (one owner per transport). */
  listen(handlers: TransportHandlers): void
  /** The peers this transport can reach now. */
  peers(): PeerId[]
  /** Stops sending and receiving. */
  close(): void
}
