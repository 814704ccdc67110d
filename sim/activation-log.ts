import type { ActivationEvent } from './checker/invariants.ts'

/**
 * The activation events of a run, as the hosts report them through `onEvent`, for the
 * single-activation checker. Two adjustments make the events say when turns can run:
 *
 * - A host reports `activate` when it creates an activation, but a new activation of a key
 *   whose previous one on the same host is still deactivating (saving its state) waits for it
 *   before it runs a turn. Such an `activate` is held back and recorded when that deactivation
 *   ends. (Suggested runtime fix: report `activate` once the activation may run turns.)
 * - A crashed host reports nothing more, so its open activations are closed at the crash.
 */
export class ActivationLog {
  private readonly list: ActivationEvent[] = []
  /** Open activations per host, then per key. */
  private readonly open = new Map<string, Map<string, ActivationEvent>>()
  /** Activations waiting for the same host's previous one of the key to finish deactivating. */
  private readonly waiting = new Map<string, ActivationEvent[]>()
  private heldBack = 0

  /** Every event so far, in the order recorded. */
  get events(): readonly ActivationEvent[] {
    return this.list
  }

  /** How many activations were held back behind a deactivation on the same host. */
  get heldBackCount(): number {
    return this.heldBack
  }

  /** Records one event from a host. */
  record(event: ActivationEvent): void {
    const host = String(event.hostId)
    const keys = this.open.get(host) ?? new Map<string, ActivationEvent>()
    this.open.set(host, keys)
    const slot = `${host}\u0000${event.key}`
    if (event.kind === 'activate') {
      if (keys.has(event.key)) {
        this.heldBack++
        this.waiting.set(slot, [...(this.waiting.get(slot) ?? []), event])
        return
      }
      keys.set(event.key, event)
      this.list.push(event)
      return
    }
    this.list.push(event)
    keys.delete(event.key)
    const next = this.waiting.get(slot)?.shift()
    if (next === undefined) return
    const started = { ...next, time: Math.max(next.time, event.time) }
    keys.set(event.key, started)
    this.list.push(started)
  }

  /** A host crashed at `time`: closes each of its open activations; waiting ones never ran. */
  hostDied(hostId: string, time: number): void {
    const keys = this.open.get(hostId)
    if (keys === undefined) return
    this.open.delete(hostId)
    for (const open of keys.values()) this.list.push({ ...open, kind: 'deactivate', time })
    for (const slot of [...this.waiting.keys()]) if (slot.startsWith(`${hostId}\u0000`)) this.waiting.delete(slot)
  }

  /** Activations still held back behind a deactivation that never ended, as `host key` pairs (a key stuck on its host). */
  stuck(): Array<{ hostId: string; key: string }> {
    return [...this.waiting].filter(([, list]) => list.length > 0).map(([slot]) => {
      const [hostId, key] = slot.split('\u0000') as [string, string]
      return { hostId, key }
    })
  }

  /** Keys with an open activation on `hostId`. */
  openKeys(hostId: string): string[] {
    return [...(this.open.get(hostId)?.keys() ?? [])]
  }
}
