import type { Envelope } from './envelope.ts'
import type { PeerId } from './transport.ts'

/**
 * Collects envelopes per peer and flushes them as one frame per peer at the end of the
 * current tick (a microtask), so a burst of calls costs one postMessage per peer.
 */
export class Outbox {
  private readonly frames = new Map<PeerId, Envelope[]>()
  private scheduled = false
  private readonly flushFrame: (to: PeerId, frame: Envelope[]) => void

  constructor(flushFrame: (to: PeerId, frame: Envelope[]) => void) {
    this.flushFrame = flushFrame
  }

  push(to: PeerId, envelope: Envelope): void {
    const frame = this.frames.get(to)
    if (frame) frame.push(envelope)
    else this.frames.set(to, [envelope])
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
