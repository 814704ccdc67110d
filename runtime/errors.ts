/**
 * Every operating error troupe reports, as one tagged class with a `kind`.
 * Prototypes are lost on the wire, so callers test `error.kind` (or `isTroupeError`),
 * never `instanceof` across a worker boundary.
 */
export type ErrorKind =
  | 'UnknownActorType' // no actor class of that type is loaded
  | 'UnknownMethod' // the actor class has no such public method
  | 'ActorFailed' // the user's method threw; name, message and stack are preserved
  | 'Unserializable' // an argument or result cannot cross a boundary (function, symbol, ...)
  | 'PayloadTooLarge' // an argument or result is larger than `payloadBytesMax`
  | 'CallTimeout' // no reply within `callTimeoutMs`
  | 'MailboxFull' // the activation already holds `mailboxDepthMax` calls
  | 'Deadlock' // the call would wait on a turn that is waiting on it (A -> B -> A)
  | 'MalformedEnvelope' // a wire message failed validation
  | 'HostUnavailable' // no host can take the call (gone, stopped, or redirect loop)
  | 'InvalidArgument' // a public API was called with bad input
  | 'ClusterStopped' // the cluster was stopped while the call was pending
  | 'ActivationFailed' // onActivate threw or the actor's state could not be loaded
  | 'Unjournalable' // a turn put a value in state that cannot be journaled (function, symbol, ...)
  | 'CorruptRecord' // a journal record failed its checksum or could not be decoded
  | 'StorageFull' // the disk is full (ENOSPC); nothing was acknowledged, but a backup may hold the write: outcome unknown
  | 'StorageFailed' // any other storage I/O error; likewise nothing acknowledged, outcome unknown
  | 'StaleEpoch' // a message or record from an older view epoch was fenced off

/** The plain-object form of an error, as it crosses the wire. */
export interface SerializedError {
  kind: ErrorKind
  message: string
  /** For `ActorFailed`: the user's error name (e.g. `RangeError`). */
  name?: string
  /** For `ActorFailed`: the user's stack, as thrown. */
  stack?: string
  /** The actor the error concerns, as `Type/id`, when there is one. */
  actor?: string
  /**
   * For `ActorFailed`: copies of the thrown error's own enumerable fields (a `code`, the amounts
   * of an `InsufficientFunds`...) and its `cause` (an Error as `{ name, message }`); a field that
   * cannot be copied, nests deeper than 16, or would take them past `errorDataBytesMax`, is left out.
   */
  data?: Record<string, unknown>
}

/** Largest estimated size of an error's `data`. */
export const errorDataBytesMax = 64 * 1024

const errorKinds: ReadonlySet<string> = new Set<ErrorKind>([
  'UnknownActorType', 'UnknownMethod', 'ActorFailed', 'Unserializable', 'PayloadTooLarge',
  'CallTimeout', 'MailboxFull', 'Deadlock', 'MalformedEnvelope', 'HostUnavailable',
  'InvalidArgument', 'ClusterStopped', 'ActivationFailed', 'Unjournalable', 'CorruptRecord',
  'StorageFull', 'StorageFailed', 'StaleEpoch',
])

/** True when `kind` names one of troupe's error kinds. */
export function isErrorKind(kind: unknown): kind is ErrorKind {
  return typeof kind === 'string' && errorKinds.has(kind)
}

/** An operating error of troupe; `kind` says which. */
export class TroupeError extends Error {
  override name = 'TroupeError'
  readonly kind: ErrorKind
  /** For `ActorFailed`: the name of the error the actor threw. */
  readonly causeName: string | undefined
  readonly actor: string | undefined
  /** For `ActorFailed`: the fields of the error the actor threw (see `SerializedError.data`). */
  readonly data: Readonly<Record<string, unknown>> | undefined

  constructor(kind: ErrorKind, message: string, extra: { name?: string; stack?: string; actor?: string; data?: Record<string, unknown> } = {}) {
    super(message)
    this.kind = kind
    this.causeName = extra.name
    this.actor = extra.actor
    this.data = extra.data
    if (extra.stack !== undefined) this.stack = extra.stack
  }

  /** The wire form of this error. */
  toJSON(): SerializedError {
    const out: SerializedError = { kind: this.kind, message: this.message }
    if (this.causeName !== undefined) out.name = this.causeName
    if (this.kind === 'ActorFailed' && this.stack !== undefined) out.stack = this.stack
    if (this.actor !== undefined) out.actor = this.actor
    if (this.data !== undefined) out.data = this.data
    return out
  }

  /** Rebuilds an error from its wire form. */
  static from(serialized: SerializedError): TroupeError {
    return new TroupeError(serialized.kind, serialized.message, serialized)
  }
}

/** True when `error` is a troupe error, optionally of the given kind; works across realms. */
export function isTroupeError(error: unknown, kind?: ErrorKind): error is TroupeError {
  if (typeof error !== 'object' || error === null) return false
  const k = (error as { kind?: unknown }).kind
  return isErrorKind(k) && (kind === undefined || k === kind)
}
