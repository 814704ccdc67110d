/**
 * Every bound the runtime enforces, in one place, each with its default and unit.
 * Units and qualifiers come last in the name (`callTimeoutMs`, `mailboxDepthMax`).
 */
export interface Limits {
  /** How long a caller waits for a reply before `CallTimeout`. Default 30,000 ms (as Orleans). */
  callTimeoutMs: number
  /** Calls queued on one activation before new ones get `MailboxFull`. Default 10,000. */
  mailboxDepthMax: number
  /** Largest estimated size of one call's arguments or one result. Default 4 MiB. */
  payloadBytesMax: number
  /** An activation idle this long is passivated. Default 300,000 ms (5 minutes). */
  idleTimeoutMs: number
  /** Redirects a caller follows for one call before it gives up with `HostUnavailable`. Default 8. */
  redirectsMax: number
  /** Fixed number of shards between actor keys and the ring (as Akka and Effect cluster). Default 4096. */
  shardCount: number
  /** Virtual nodes each host puts on the ring. Default 256. */
  vnodesPerHost: number
  /** Nesting depth of arguments and results before they are refused as unserializable. Default 64. */
  payloadDepthMax: number
  /** Recent request ids each actor remembers for exactly-once retries. Default 1,024. */
  requestsMax: number
  /** An actor's journal is snapshotted (and compacted behind) every this many records. Default 1,000. */
  snapshotEveryRecords: number
  /** A primary ships records again to a backup that has not acknowledged them within this time. Default 200 ms. */
  replicationRetryMs: number
  /**
   * An `onActivate` or `onDeactivate` that has not settled within this time is given up: the
   * activation fails with `ActivationFailed` (the next call tries again), the passivation ends
   * keeping what is committed. Default 30,000 ms (as Orleans' activation timeout).
   */
  lifecycleTimeoutMs: number
  /** A caller sends a call again (same request id) when no reply came within this time; doubles each time. Default 2,000 ms. */
  callRetryMs: number
}

export const defaultLimits: Readonly<Limits> = Object.freeze({
  callTimeoutMs: 30_000,
  mailboxDepthMax: 10_000,
  payloadBytesMax: 4 * 1024 * 1024,
  idleTimeoutMs: 300_000,
  redirectsMax: 8,
  shardCount: 4096,
  vnodesPerHost: 256,
  payloadDepthMax: 64,
  requestsMax: 1024,
  snapshotEveryRecords: 1000,
  replicationRetryMs: 200,
  callRetryMs: 2000,
  lifecycleTimeoutMs: 30_000,
})

/** Merges user overrides into the defaults, refusing anything that is not a positive integer. */
export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) throw new TypeError(`limits must be an object of limit names and numbers, got ${overrides === null ? 'null' : Array.isArray(overrides) ? 'an array' : typeof overrides}`)
  const limits: Limits = { ...defaultLimits }
  for (const [name, value] of Object.entries(overrides)) {
    if (!(name in defaultLimits)) throw new TypeError(`unknown limit "${name}"`)
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new TypeError(`limit "${name}" must be a positive integer, got ${String(value)}`)
    }
    limits[name as keyof Limits] = value
  }
  return limits
}
