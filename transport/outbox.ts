import type { Envelope } from './envelope.ts'
import type { PeerId } from './transport.ts'

/** Envelopes per frame before it leaves without waiting for the end of the tick. */
export const frameEnvelopesMaxDefault = 64

/** Runs a function once the current burst of work is over (the outbox's flush point). */
export type FlushScheduler = (flush: () => void) => void

export interface OutboxOptions {
  /** A frame that reaches this many envelopes leaves at once, so the peer starts on it while this side builds the next (pipelining). Default 64. */
  frameEnvelopesMax?: number
  /**
   * When to flush. Default `queueMicrotask` (end of the current task). A port transport in Node
   * passes `setImmediate`: it runs after every message that arrived in this event-loop turn, so
   * calls made in reaction to replies from several peers still share frames; flushing per
   * microtask halves the frames on every round trip once replies come from two peers.
   */
  schedule?: FlushScheduler
  /**
   * Send the first envelope of a burst to each peer at once, batching only those after it until
   * the flush point: a lone call or reply does not wait for the end of the tick (latency at 1 in
   * flight), nor does a record shipped to a second backup, while a burst still travels in frames.
   * Default false.
   */
  eagerFirst?: boolean
}

/**
 * Collects envelopes per peer and flushes them as one frame per peer at the end of the
 * current burst, so a burst of calls costs one postMessage per peer.
 */
export class Outbox {
  private readonly frames = new Map<PeerId, Envelope[]>()
  /** Peers that got their eager envelope in the current burst (eagerFirst). */
  private readonly eagerSent = new Set<PeerId>()
  private scheduled = false
  private readonly flushFrame: (to: PeerId, frame: Envelope[]) => void
  private readonly frameEnvelopesMax: number
  private readonly schedule: FlushScheduler
  private readonly eagerFirst: boolean

  constructor(flushFrame: (to: PeerId, frame: Envelope[]) => void, options: OutboxOptions = {}) {
    this.flushFrame = flushFrame
    this.frameEnvelopesMax = options.frameEnvelopesMax ?? frameEnvelopesMaxDefault
    this.schedule = options.schedule ?? queueMicrotask
    this.eagerFirst = options.eagerFirst ?? false
  }

  push(to: PeerId, envelope: Envelope): void {
    if (this.eagerFirst && !this.eagerSent.has(to)) {
      // Nothing went to this peer in this burst yet: this one leaves now, the rest batches.
      this.eagerSent.add(to)
      if (!this.scheduled) {
        this.scheduled = true
        this.schedule(this.flush)
      }
      this.flushFrame(to, [envelope])
      return
    }
    const frame = this.frames.get(to)
    if (!frame) this.frames.set(to, [envelope])
    else if (frame.push(envelope) >= this.frameEnvelopesMax) {
      this.frames.delete(to)
      this.flushFrame(to, frame)
    }
    if (!this.scheduled) {
      this.scheduled = true
      this.schedule(this.flush)
    }
  }

  /** Sends everything queued now. */
  readonly flush = (): void => {
    this.scheduled = false
    for (const [to, frame] of this.frames) {
      this.frames.delete(to)
      this.flushFrame(to, frame)
    }
    // After the drain: a push made while draining (from a flushFrame callback) queues behind its
    // peer's frame instead of overtaking it.
    this.eagerSent.clear()
  }

  clear(): void {
    this.frames.clear()
    this.eagerSent.clear()
  }
}
