import type { Envelope } from './envelope.ts'
import type { PeerId } from './transport.ts'

/** Envelopes per frame before it leaves without waiting for the end of the tick. */
export const frameEnvelopesMaxDefault = 64

/**
 * Collects envelopes per peer and flushes them as one frame per peer at the end of the
 * current tick (a microtask), so a burst of calls costs one postMessage per peer.
 */
export class Outbox {
  private readonly frames = new Map<PeerId, Envelope[]>()
  private scheduled = false
  private readonly flushFrame: (to: PeerId, frame: Envelope[]) => void
  private readonly frameEnvelopesMax: number

  /**
   * @param frameEnvelopesMax a frame that reaches this many envelopes leaves at once, so the peer
   *   starts on it while this side builds the next (pipelining); default 64.
   */
  constructor(flushFrame: (to: PeerId, frame: Envelope[]) => void, frameEnvelopesMax = frameEnvelopesMaxDefault) {
    this.flushFrame = flushFrame
    this.frameEnvelopesMax = frameEnvelopesMax
  }

  push(to: PeerId, envelope: Envelope): void {
    const frame = this.frames.get(to)
    if (!frame) this.frames.set(to, [envelope])
    else if (frame.push(envelope) >= this.frameEnvelopesMax) {
      this.frames.delete(to)
      this.flushFrame(to, frame)
    }
    if (!this.scheduled) {
      this.scheduled = true
      queueMicrotask(this.flush)
    }
  }

  /** Sends everything queued now. */
  readonly flush = (): void => {
    this.scheduled = false
    if (this.frames.size === 0) return
    for (const [to, frame] of this.frames) {
      this.frames.delete(to)
      this.flushFrame(to, frame)
    }
  }

  clear(): void {
    this.frames.clear()
  }
}
