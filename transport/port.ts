import { TroupeError } from '../runtime/errors.ts'
import type { Envelope } from './envelope.ts'
import type { Endpoint } from './endpoint.ts'
import { fromWire, toWire } from './wire.ts'
import { Outbox, type OutboxOptions } from './outbox.ts'
import type { PeerId, Transport, TransportHandlers } from './transport.ts'
import { SpinPolicy, type SpinWaitOptions } from './spin-wait.ts'

export interface PortTransportOptions extends OutboxOptions {
  /**
   * Checked before every frame leaves and as every frame arrives: while true, frames are dropped
   * both ways (not reported). A host's supervisor silences a host it gave up on, so the host can
   * say nothing once its keys move, and does no more work (turns, journal syncs) that would take
   * a core and the disk from the hosts taking over.
   */
  silenced?: () => boolean
  /**
   * After each flush, while the owner expects more messages soon (`awaiting`), poll the links
   * that can receive synchronously for up to `budgetUs` instead of sleeping (see spin-wait.ts).
   * Needs `schedule`. Default: never.
   */
  spinWait?: SpinWaitOptions
}

/**
 * A transport over MessagePort-like endpoints, one per peer (a full mesh). The same code runs
 * over Node worker_threads ports, Web and Deno worker ports and browser tabs.
 */
export class PortTransport implements Transport {
  readonly self: PeerId
  private readonly links = new Map<PeerId, Endpoint>()
  private handlers: TransportHandlers | undefined
  private readonly outbox: Outbox
  private closed = false
  private readonly silenced: (() => boolean) | undefined
  private readonly spinWait: SpinWaitOptions | undefined
  private readonly spinPolicy: SpinPolicy | undefined
  /** Spins that got a message, and spins that ran out of budget (see `spinWait`). */
  readonly spins = { caught: 0, missed: 0 }
  /** Links that can receive synchronously (spinning polls only those; with none, it never spins). */
  private pollable = 0

  constructor(self: PeerId, links: Iterable<[PeerId, Endpoint]> = [], options: PortTransportOptions = {}) {
    this.self = self
    this.silenced = options.silenced
    this.spinWait = options.spinWait
    this.spinPolicy = options.spinWait ? new SpinPolicy(options.spinWait.budgetUs) : undefined
    // A spin delivers messages whose handlers send again: run on microtasks, that would repeat
    // without the event loop ever turning. The caller says when (setImmediate in Node).
    if (options.spinWait && !options.schedule) throw new TypeError('spinWait needs a schedule option that runs after the event loop turns (setImmediate)')
    const schedule = options.schedule ?? queueMicrotask
    const outboxOptions: OutboxOptions = !this.spinWait ? options : {
      ...options,
      schedule: (flush) => schedule(() => {
        flush()
        this.spin()
      }),
    }
    this.outbox = new Outbox((to, frame) => this.flushFrame(to, frame), outboxOptions)
    for (const [peer, endpoint] of links) this.connect(peer, endpoint)
  }

  /** Adds (or replaces) the link to `peer`. */
  connect(peer: PeerId, endpoint: Endpoint): void {
    this.disconnect(peer)
    this.links.set(peer, endpoint)
    if (endpoint.receiveNow) this.pollable++
    endpoint.listen((data) => this.receive(peer, data))
  }

  /** Drops the link to `peer`; envelopes still queued for it become undeliverable. */
  disconnect(peer: PeerId): void {
    const link = this.links.get(peer)
    if (!link) return
    this.links.delete(peer)
    if (link.receiveNow) this.pollable--
    link.close()
  }

  listen(handlers: TransportHandlers): void {
    this.handlers = handlers
  }

  send(to: PeerId, envelope: Envelope): void {
    if (this.closed) return
    this.outbox.push(to, envelope)
  }

  peers(): PeerId[] {
    return [...this.links.keys()]
  }

  close(): void {
    this.closed = true
    this.outbox.clear()
    for (const link of this.links.values()) link.close()
    this.links.clear()
    this.pollable = 0
  }

  private flushFrame(to: PeerId, frame: Envelope[]): void {
    if (this.silenced?.()) return
    const link = this.links.get(to)
    if (!link) {
      const error = new TroupeError('HostUnavailable', `no link to ${to}`)
      for (const envelope of frame) this.handlers?.undeliverable?.(to, envelope, error)
      return
    }
    try {
      link.postMessage(toWire(frame))
    } catch {
      // One envelope in the frame cannot be cloned: send the rest one by one and report it.
      for (const envelope of frame) {
        try {
          link.postMessage(toWire([envelope]))
        } catch (error) {
          this.handlers?.undeliverable?.(to, envelope, new TroupeError('Unserializable', `cannot send to ${to}: ${(error as Error).message}`))
        }
      }
    }
  }

  /** Polls every link that can receive synchronously until a message comes or the budget runs out. */
  private spin(): void {
    const wait = this.spinWait!
    if (this.closed || this.pollable === 0 || this.silenced?.() || !wait.awaiting() || !this.spinPolicy!.spinNow()) return
    const end = wait.now() + wait.budgetUs / 1000
    do {
      let got = false
      for (const [peer, link] of this.links) {
        const received = link.receiveNow?.()
        if (received === undefined) continue
        got = true
        this.receive(peer, received.message)
      }
      if (got) {
        this.spins.caught++
        this.spinPolicy!.caught()
        return
      }
    } while (wait.now() < end && !this.closed)
    this.spins.missed++
    this.spinPolicy!.missed()
  }

  private receive(from: PeerId, data: unknown): void {
    const handlers = this.handlers
    if (this.closed || !handlers || this.silenced?.()) return
    const envelopes = fromWire(data, (error, raw) => handlers.malformed?.(from, error, raw))
    for (const envelope of envelopes) handlers.envelope(from, envelope)
  }
}
